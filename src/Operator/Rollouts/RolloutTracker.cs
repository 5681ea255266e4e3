using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using DoraOperator.Entities.BuiltIn;
using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Kube.Events;
using DoraOperator.Kube.Meta;
using DoraOperator.Kube.Queue;
using DoraOperator.Kube.Rest;
using DoraOperator.Operator.Caching;
using Microsoft.Extensions.Logging;

namespace DoraOperator.Operator.Rollouts;

/// <summary>
/// Keeps one DeploymentRecord per revision of every tracked workload (Deployment, StatefulSet,
/// DaemonSet), as <see cref="RolloutPlanner"/> says it should be. Keys are Deployments'
/// <c>namespace/name</c> and other kinds' <c>namespace/Kind/name</c> (<see cref="ObjectNames.WorkloadKey"/>).
/// A workload is tracked when annotated <c>dora-operator.io/project</c> or
/// selected by a DoraProject in its namespace (<see cref="ProjectClaims"/>: the oldest project wins an
/// overlap). Records wait for their project to exist. Owns the record's spec (at creation) and every
/// status field except <c>status.incidents</c>, which it never sends: status goes out as a merge
/// patch of the fields that differ. A reconcile of an unchanged state writes nothing.
/// </summary>
internal sealed partial class RolloutTracker : IReconciler, IDisposable
{
    private readonly KubeApiClient _client;
    private readonly EventRecorder _events;
    private readonly OperatorCache _cache;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ReconcileRunner _runner;

    /// <summary>
    /// Records this tracker created that its cache has not shown yet (client-go's "expectations"):
    /// a reconcile in that gap must not create them again.
    /// </summary>
    private readonly ConcurrentDictionary<ObjectKey, Expectation> _created = new();

    /// <summary>
    /// Records whose status this tracker wrote, with the resourceVersion the write returned, until the
    /// cache shows that version: a reconcile in between would compare against the old status and
    /// write the same outcome again (a wasted request that ends in a 409).
    /// </summary>
    private readonly ConcurrentDictionary<ObjectKey, Expectation> _written = new();

    /// <summary>
    /// Per StatefulSet and DaemonSet: the last progress signature seen and since when, for the
    /// deadline the operator keeps for them (in memory: after a restart it counts from the restart).
    /// </summary>
    private readonly ConcurrentDictionary<ObjectKey, (string Signature, DateTimeOffset Since)> _progress = new();

    /// <summary>How long an expectation (created or written) waits for the cache before it is given up.</summary>
    private static readonly TimeSpan ExpectationTimeout = TimeSpan.FromSeconds(30);

    public RolloutTracker(KubeApiClient client, EventRecorder events, OperatorCache cache, TimeProvider time, ILogger<RolloutTracker> logger, RolloutOptions? options = null)
    {
        _client = client;
        _events = events;
        _cache = cache;
        _time = time;
        _logger = logger;
        Options = options ?? new RolloutOptions();
        _runner = new ReconcileRunner(this, time, logger) { OnReconciled = Options.OnReconciled };

        cache.Deployments.AddHandler(new(d => Enqueue(d.Metadata), (_, d) => Enqueue(d.Metadata), d => Enqueue(d.Metadata)));
        // A rollout scales ReplicaSets up and down and updates their status many times; the planner
        // reads none of that (progress comes from the Deployment), so only a new revision view requeues.
        cache.ReplicaSets.AddHandler(new(EnqueueOwner, (old, rs) =>
        {
            if (ReferenceEquals(old, rs) || !Workloads.SameRevision(old, rs)) EnqueueOwner(rs);
        }, EnqueueOwner));
        cache.StatefulSets.AddHandler(new(s => Enqueue("StatefulSet", s.Metadata), (_, s) => Enqueue("StatefulSet", s.Metadata), s => Enqueue("StatefulSet", s.Metadata)));
        cache.DaemonSets.AddHandler(new(d => Enqueue("DaemonSet", d.Metadata), (_, d) => Enqueue("DaemonSet", d.Metadata), d => Enqueue("DaemonSet", d.Metadata)));
        cache.ControllerRevisions.AddHandler(new(EnqueueOwner, (_, r) => EnqueueOwner(r), EnqueueOwner));
        cache.ArgoRolloutsDiscovered += rollouts =>
            rollouts.AddHandler(new(r => Enqueue("Rollout", r.Metadata), (_, r) => Enqueue("Rollout", r.Metadata), r => Enqueue("Rollout", r.Metadata)));
        // A project's spec (generation) decides what it selects; its status, written by the aggregator, does not.
        cache.Projects.AddHandler(new(EnqueueNamespace, (old, p) =>
        {
            if (old.Metadata.Generation != p.Metadata.Generation) EnqueueNamespace(p);
        }, EnqueueNamespace));
        // A record we created (or whose status we wrote) shows up in the cache: reconcile its workload
        // again if a reconcile in between skipped it (the rollout may have completed meanwhile; see Meet).
        cache.Records.AddHandler(new(r =>
        {
            if (_created.TryRemove(ObjectKey.Of(r.Metadata), out var created)) Meet(created, WorkloadOf(r));
        }, (previous, r) =>
        {
            var key = ObjectKey.Of(r.Metadata);
            if (_written.TryGetValue(key, out var w) && w.ResourceVersion == r.Metadata.ResourceVersion && _written.TryRemove(KeyValuePair.Create(key, w))) Meet(w, WorkloadOf(r));
        }));
    }

    public string Name => "rollouts";

    public RolloutOptions Options { get; }

    /// <summary>Records created or written whose watch event has not arrived yet (for tests: zero once the cache has caught up).</summary>
    internal int PendingExpectations => _created.Count + _written.Count;

    /// <summary>Reconciles run so far (for tests).</summary>
    public int Reconciles => _reconciles;

    private int _reconciles;

    public int QueueDepth => _runner.Depth;

    public IEnumerable<ObjectKey> Seed() =>
        _cache.Deployments.List().Select(d => ObjectKey.Of(d.Metadata))
            .Concat(_cache.StatefulSets.List().Select(s => KeyOf("StatefulSet", s.Metadata)))
            .Concat(_cache.DaemonSets.List().Select(d => KeyOf("DaemonSet", d.Metadata)))
            .Concat(_cache.ArgoRollouts?.List().Select(r => KeyOf("Rollout", r.Metadata)) ?? []);

    /// <summary>
    /// Runs the workers for one leadership term: waits for the caches, reconciles every Deployment (a
    /// new leader reconciles everything that exists) and enforces retention, until
    /// <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await _cache.WaitForSyncAsync(cancellationToken);
        await Task.WhenAll(_runner.RunAsync(Options.Workers, cancellationToken), RetentionLoopAsync(cancellationToken));
    }

    private async Task RetentionLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Options.RetentionInterval, _time);
        try
        {
            do
            {
                try
                {
                    await EnforceRetentionAsync(cancellationToken);
                }
                catch (Exception e) when (e is KubeApiException or HttpRequestException or TimeoutException)
                {
                    Log.RetentionFailed(_logger, e.Message, Options.RetentionInterval);
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Deletes, per project, finished records older than <c>retention.maxAge</c> and then the oldest
    /// finished records beyond <c>retention.maxRecords</c>, at most <paramref name="batch"/> a pass.
    /// Records still Progressing are never deleted.
    /// </summary>
    internal async Task<int> EnforceRetentionAsync(CancellationToken cancellationToken, int batch = 50)
    {
        var now = _time.GetUtcNow();
        var deleted = 0;
        foreach (var project in _cache.Projects.List())
        {
            var maxAgeText = project.Spec.Retention?.MaxAge ?? DoraDefaults.RetentionMaxAge;
            var maxAge = DoraDefaults.RetentionMaxAgeOf(project);
            var maxRecords = project.Spec.Retention?.MaxRecords ?? DoraDefaults.RetentionMaxRecords;
            var label = ObjectNames.LabelValue(project.Metadata.Name!);
            var records = _cache.Records.ByIndex(CacheIndexes.Project, CacheIndexes.Key(project.Metadata.Namespace, project.Metadata.Name))
                .Where(r => r.Metadata.Labels?.GetValueOrDefault(DoraNames.ProjectLabel) == label)
                .Select(r => (Record: r, At: r.Status?.DeployedAt ?? r.Status?.FailedAt ?? r.Status?.StartedAt ?? r.Metadata.CreationTimestamp ?? now))
                .OrderBy(x => x.At)
                .ThenBy(x => x.Record.Spec.Revision)
                .ToList();
            var finished = records.Where(x => !RecordPhases.InProgress(x.Record.Status?.Phase)).ToList();
            var expired = finished.Where(x => now - x.At > maxAge).Select(x => x.Record).ToList();
            var excess = Math.Max(0, records.Count - expired.Count - maxRecords);
            var victims = expired.Concat(finished.Select(x => x.Record).Except(expired).Take(excess)).Take(batch - deleted).ToList();
            foreach (var r in victims)
            {
                try
                {
                    await _client.DeleteAsync<DeploymentRecord>(r.Metadata.Name!, r.Metadata.Namespace, new DeleteOptions(PreconditionUid: r.Metadata.Uid), cancellationToken);
                    deleted++;
                    Log.RetentionDeleted(_logger, r.Metadata.Namespace, r.Metadata.Name, project.Metadata.Name, maxAgeText, maxRecords);
                }
                catch (KubeApiException e) when (e.IsNotFound || e.IsConflict)
                {
                    // Already gone, or replaced by a newer object of the same name.
                }
            }
            if (deleted >= batch) break;
        }
        return deleted;
    }

    private void Enqueue(ObjectMeta meta) => _runner.Add(ObjectKey.Of(meta));

    private void Enqueue(string kind, ObjectMeta meta) => _runner.Add(KeyOf(kind, meta));

    private static ObjectKey KeyOf(string kind, ObjectMeta meta) => ObjectKey.Of(meta.Namespace, ObjectNames.WorkloadKey(kind, meta.Name!));

    private static ObjectKey WorkloadOf(DeploymentRecord r) => ObjectKey.Of(r.Metadata.Namespace, ObjectNames.WorkloadKey(r.Spec.Workload.Kind, r.Spec.Workload.Name));

    private void EnqueueOwner(ControllerRevision r)
    {
        var owner = r.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true && o.Kind is "StatefulSet" or "DaemonSet");
        if (owner is not null) _runner.Add(ObjectKey.Of(r.Metadata.Namespace, ObjectNames.WorkloadKey(owner.Kind, owner.Name)));
    }

    private void EnqueueOwner(LeanReplicaSet rs)
    {
        var owner = rs.OwnerReferences?.FirstOrDefault(o => o.Controller == true && o.Kind is "Deployment" or "Rollout");
        if (owner is not null) _runner.Add(ObjectKey.Of(rs.Namespace, ObjectNames.WorkloadKey(owner.Kind, owner.Name)));
    }

    private void EnqueueNamespace(DoraProject p)
    {
        foreach (var d in _cache.Deployments.List(p.Metadata.Namespace)) Enqueue(d.Metadata);
        foreach (var s in _cache.StatefulSets.List(p.Metadata.Namespace)) Enqueue("StatefulSet", s.Metadata);
        foreach (var d in _cache.DaemonSets.List(p.Metadata.Namespace)) Enqueue("DaemonSet", d.Metadata);
        foreach (var r in _cache.ArgoRollouts?.List(p.Metadata.Namespace) ?? []) Enqueue("Rollout", r.Metadata);
    }

    public async Task<ReconcileResult> ReconcileAsync(ObjectKey key, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reconciles);
        var records = _cache.Records.ByIndex(CacheIndexes.Workload, key.ToString());
        var workload = Workload(key);
        if (workload is null)
        {
            _progress.TryRemove(key, out _);
            foreach (var desired in RolloutPlanner.PlanDeleted(records))
            {
                if (records.FirstOrDefault(r => r.Metadata.Name == desired.Metadata.Name) is { } current) await WriteStatusAsync(current, desired, cancellationToken);
            }
            return ReconcileResult.Done;
        }
        var project = ResolveProject(workload);
        if (project is null) return ReconcileResult.Done;
        var plan = RolloutPlanner.Plan(new RolloutInput(
            workload,
            records,
            project.Metadata.Name!,
            DoraDefaults.EnvironmentOf(project),
            _time.GetUtcNow(),
            DoraDefaults.LeadTimeFromFirst(project),
            DoraDefaults.BackfillOf(project) ? _time.GetUtcNow() - DoraDefaults.RetentionMaxAgeOf(project) : null,
            ProgressSince(key, workload)));
        var existing = records.ToDictionary(r => r.Metadata.Name!, StringComparer.Ordinal);
        foreach (var desired in plan.Records)
        {
            var recordKey = ObjectKey.Of(desired.Metadata);
            if (existing.TryGetValue(desired.Metadata.Name!, out var current))
            {
                if (!_created.IsEmpty) _created.TryRemove(recordKey, out _);
                if (_written.TryGetValue(recordKey, out var written))
                {
                    // The cache is behind our own last status write: the write's watch event requeues this workload.
                    if (current.Metadata.ResourceVersion != written.ResourceVersion && _time.GetUtcNow() - written.At < ExpectationTimeout)
                    {
                        Defer(written, key);
                        continue;
                    }
                    _written.TryRemove(recordKey, out _);
                }
                if (RecordPhases.InProgress(desired.Status?.Phase)) continue;
                if (_cache.Records.Get(recordKey.Namespace, recordKey.Name)?.Metadata.ResourceVersion != current.Metadata.ResourceVersion)
                {
                    // The cache moved past the version this reconcile read (our own last write's event
                    // can land in between, clearing its expectation): a write now would be refused with
                    // a 409. Reconcile again on the newer version instead.
                    _runner.Add(key);
                    continue;
                }
                await WriteStatusAsync(current, desired, cancellationToken);
                continue;
            }
            if (_created.TryGetValue(recordKey, out var created) && _time.GetUtcNow() - created.At < ExpectationTimeout)
            {
                // Created moments ago: the informer's add event brings it and requeues this workload.
                Defer(created, key);
                continue;
            }
            if (_cache.Records.Get(recordKey.Namespace, recordKey.Name) is not null)
            {
                // It reached the cache after this reconcile read it: plan again on what the cache holds now.
                _runner.Add(key);
                continue;
            }
            if (await CreateAsync(desired, project, cancellationToken)) existing[desired.Metadata.Name!] = desired;
        }
        foreach (var problem in plan.Problems)
        {
            _events.Warning(Reference(workload), problem.Reason, "RecordDeployment", problem.Message);
        }
        // What this reconcile created counts as recorded: its add event requeues nothing unless a reconcile waited for it.
        Retire(key.Namespace, workload, existing);
        return plan.RecheckAt is { } recheck ? ReconcileResult.RequeueAfter(TimeSpan.FromTicks(Math.Max(0, (recheck - _time.GetUtcNow()).Ticks)) + TimeSpan.FromSeconds(1)) : ReconcileResult.Done;
    }

    /// <summary>
    /// Drops a workload's retired ReplicaSets or ControllerRevisions (<see cref="WorkloadState.RetiredObjects"/>)
    /// from the cache once its current revision is recorded: with the default history limits a
    /// workload keeps ten old ones, which the records already describe.
    /// </summary>
    private void Retire(string ns, WorkloadState workload, Dictionary<string, DeploymentRecord> records)
    {
        var retired = workload.RetiredObjects();
        if (retired.Count == 0 || !records.ContainsKey(workload.RecordName(workload.Current))) return;
        foreach (var (kind, name) in retired)
        {
            var evicted = kind == "ReplicaSet"
                ? _cache.ReplicaSets.Get(ns, name) is { } rs && _cache.ReplicaSets.Evict(rs)
                : _cache.ControllerRevisions.Get(ns, name) is { } cr && _cache.ControllerRevisions.Evict(cr);
            if (evicted) Log.Retired(_logger, kind, ns, name, workload.Kind, workload.Meta.Name);
        }
    }

    private DateTimeOffset? ProgressSince(ObjectKey key, WorkloadState workload)
    {
        if (workload.Signature is not { } signature) return null;
        var now = Conditions.WholeSeconds(_time.GetUtcNow());
        return _progress.AddOrUpdate(key, _ => (signature, now), (_, seen) => seen.Signature == signature ? seen : (signature, now)).Since;
    }

    /// <summary>The workload a key names, with the revisions the planner reads; null when it is gone.</summary>
    private WorkloadState? Workload(ObjectKey key)
    {
        var slash = key.Name.IndexOf('/');
        if (slash < 0)
        {
            return _cache.Deployments.Get(key.Namespace, key.Name) is { } d
                ? WorkloadState.Of(d, _cache.ReplicaSets.ByIndex(CacheIndexes.Owner, d.Metadata.Uid ?? ""))
                : null;
        }
        var name = key.Name[(slash + 1)..];
        return key.Name[..slash] switch
        {
            "StatefulSet" when _cache.StatefulSets.Get(key.Namespace, name) is { } s => WorkloadState.Of(s, _cache.ControllerRevisions.ByIndex(CacheIndexes.Owner, s.Metadata.Uid ?? "")),
            "DaemonSet" when _cache.DaemonSets.Get(key.Namespace, name) is { } d => WorkloadState.Of(d, _cache.ControllerRevisions.ByIndex(CacheIndexes.Owner, d.Metadata.Uid ?? "")),
            "Rollout" when _cache.ArgoRollouts?.Get(key.Namespace, name) is { } r => WorkloadState.Of(r, _cache.ReplicaSets.ByIndex(CacheIndexes.Owner, r.Metadata.Uid ?? "")),
            _ => null,
        };
    }

    /// <summary>The annotation names the project; otherwise the oldest DoraProject whose selector matches. Null when untracked or waiting.</summary>
    private DoraProject? ResolveProject(WorkloadState w)
    {
        var ns = w.Meta.Namespace!;
        if (ProjectClaims.Named(w.Meta) is { } named)
        {
            var project = _cache.Projects.Get(ns, named);
            if (project is null)
            {
                _events.Warning(Reference(w), "ProjectNotFound", "Track",
                    $"{w.Kind} {ns}/{w.Meta.Name} names DoraProject \"{named}\", which does not exist in namespace {ns}; its deployments are recorded once it is created");
            }
            return project;
        }
        var claimants = _cache.ProjectSelectors.Claimants(ns, w.Meta);
        if (claimants.Count > 1)
        {
            _events.Warning(Reference(w), "SelectorOverlap", "Track",
                $"DoraProjects {string.Join(", ", claimants.Select(p => p.Metadata.Name))} all select {w.Kind} {ns}/{w.Meta.Name}; the oldest, {claimants[0].Metadata.Name}, records its deployments. Narrow the other selectors.");
        }
        return claimants.FirstOrDefault();
    }

    /// <summary>Creates a record and writes its status; false when it already existed.</summary>
    private async Task<bool> CreateAsync(DeploymentRecord desired, DoraProject project, CancellationToken cancellationToken)
    {
        var status = desired.Status;
        desired.Metadata.OwnerReferences =
        [
            new OwnerReference { ApiVersion = DoraProject.Resource.ApiVersion, Kind = "DoraProject", Name = project.Metadata.Name!, Uid = project.Metadata.Uid!, BlockOwnerDeletion = true },
        ];
        // The expectation is set before the request: the watch can deliver the add event before the
        // response arrives, and an expectation set after it would then never be cleared.
        var key = ObjectKey.Of(desired.Metadata);
        // A record created Progressing is planned again as soon as the cache shows it: its rollout may
        // have completed meanwhile, and in a burst that early place in the queue keeps the outcome
        // from waiting behind every other workload's first reconcile.
        var expectation = _created[key] = new Expectation(_time.GetUtcNow()) { RequeueWhenMet = RecordPhases.InProgress(status?.Phase) };
        DeploymentRecord created;
        try
        {
            // Only its name, resourceVersion and status are read: its managedFields are skipped, not parsed.
            created = await _client.CreateAsync(desired, UnknownFields.Skip, cancellationToken);
        }
        catch (Exception e)
        {
            if (_created.TryRemove(KeyValuePair.Create(key, expectation))) Meet(expectation, WorkloadOf(desired));
            // Another writer (or our own earlier attempt) got there first: the informer event requeues us.
            if (e is KubeApiException { IsAlreadyExists: true }) return false;
            throw;
        }
        desired.Status = status;
        if (!RecordPhases.InProgress(status?.Phase)) await WriteStatusAsync(created, desired, cancellationToken);
        Log.Recorded(_logger, created.Metadata.Namespace, created.Metadata.Name, status?.Phase ?? RecordPhases.Progressing);
        return true;
    }

    /// <summary>
    /// Sends the status fields this tracker owns that differ between <paramref name="current"/> and
    /// <paramref name="desired"/>, as a merge patch conditional on the current resourceVersion; nothing
    /// when they are equal. <c>status.incidents</c> is never sent (the incident controller owns it).
    /// </summary>
    private async Task WriteStatusAsync(DeploymentRecord current, DeploymentRecord desired, CancellationToken cancellationToken)
    {
        if (OwnedStatusPatch(current.Status, desired.Status) is not { } status) return;
        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject { ["resourceVersion"] = current.Metadata.ResourceVersion },
            ["status"] = status,
        };
        try
        {
            var updated = await _client.PatchAsync<DeploymentRecord>(current.Metadata.Name!, current.Metadata.Namespace, PatchType.Merge, patch.ToJsonString(), "status", UnknownFields.Skip, cancellationToken);
            if (updated.Metadata.ResourceVersion is { } rv)
            {
                var key = ObjectKey.Of(updated.Metadata);
                var expectation = _written[key] = new Expectation(_time.GetUtcNow(), rv);
                // The watch may have delivered this version before the response arrived: its event then
                // found no expectation, and nothing else would clear this one.
                if (_cache.Records.Get(key.Namespace, key.Name)?.Metadata.ResourceVersion == rv && _written.TryRemove(KeyValuePair.Create(key, expectation)))
                {
                    Meet(expectation, WorkloadOf(current));
                }
            }
        }
        catch (KubeApiException e) when (e.IsConflict || e.IsNotFound)
        {
            // The cache was behind (or another owner wrote its field); the watch event that follows requeues the Deployment.
            _runner.AddRateLimited(WorkloadOf(current));
        }
    }

    /// <summary>The merge patch of the tracker's status fields from <paramref name="current"/> to <paramref name="desired"/>; null when equal.</summary>
    internal static JsonObject? OwnedStatusPatch(DeploymentRecordStatus? current, DeploymentRecordStatus? desired)
    {
        // Most reconciles change nothing: compared field by field, that costs no serializing.
        if (current is not null && desired is not null && current.SameAs(desired, ignoreIncidents: true)) return null;
        var from = MergePatch.ToObject(current, DoraJsonContext.Default.DeploymentRecordStatus);
        var to = MergePatch.ToObject(desired, DoraJsonContext.Default.DeploymentRecordStatus);
        from.Remove("incidents");
        to.Remove("incidents");
        return MergePatch.Create(from, to);
    }

    /// <summary>
    /// A reconcile skipped a record waiting for <paramref name="expectation"/>: the event that meets it
    /// requeues <paramref name="workload"/>, or this call does when the event came first. Otherwise a
    /// workload is not reconciled again for its own write, except a record created Progressing.
    /// </summary>
    private void Defer(Expectation expectation, ObjectKey workload)
    {
        if (Interlocked.CompareExchange(ref expectation.State, Expectation.Deferred, Expectation.Waiting) == Expectation.Met) _runner.Add(workload);
    }

    /// <summary>The cache shows what <paramref name="expectation"/> waited for: requeue <paramref name="workload"/> when a reconcile skipped it meanwhile (or it asks to be).</summary>
    private void Meet(Expectation expectation, ObjectKey workload)
    {
        if (Interlocked.Exchange(ref expectation.State, Expectation.Met) == Expectation.Deferred || expectation.RequeueWhenMet) _runner.Add(workload);
    }

    /// <summary>
    /// A record created, or a status written (<see cref="ResourceVersion"/>), that the cache has not
    /// shown yet. <see cref="State"/> hands over between the reconcile that defers to it and the
    /// event that meets it, in one atomic step each, so exactly one of them requeues the workload.
    /// </summary>
    private sealed class Expectation(DateTimeOffset at, string? resourceVersion = null)
    {
        public const int Waiting = 0, Deferred = 1, Met = 2;

        public int State;

        public DateTimeOffset At { get; } = at;

        public string? ResourceVersion { get; } = resourceVersion;

        /// <summary>Requeue the workload when met even if no reconcile deferred to it.</summary>
        public bool RequeueWhenMet { get; init; }
    }

    private static ObjectReference Reference(WorkloadState w) => new()
    {
        ApiVersion = w.ApiVersion, Kind = w.Kind, Name = w.Meta.Name, Namespace = w.Meta.Namespace, Uid = w.Meta.Uid,
    };

    public void Dispose()
    {
        _runner.ShutDown();
        _runner.Dispose();
    }
}

/// <summary>How the rollout tracker runs.</summary>
internal sealed record RolloutOptions
{
    /// <summary>Concurrent reconciles.</summary>
    public int Workers { get; init; } = 2;

    /// <summary>How often retention runs while leading.</summary>
    public TimeSpan RetentionInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Where reconcile outcomes and durations go.</summary>
    public Action<string, string, TimeSpan>? OnReconciled { get; init; }
}
