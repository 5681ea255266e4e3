using System.Text.Json;
using DoraOperator.Entities.BuiltIn;
using DoraOperator.Entities.Dora;
using DoraOperator.Kube.Events;
using DoraOperator.Kube.Informers;
using DoraOperator.Kube.Meta;
using DoraOperator.Kube.Queue;
using DoraOperator.Kube.Rest;
using Microsoft.Extensions.Logging;

namespace DoraOperator.Operator.Rollouts;

/// <summary>
/// Watches Deployments and ReplicaSets (lean caches), DoraProjects and DeploymentRecords, and keeps
/// one DeploymentRecord per revision of every tracked Deployment, as <see cref="RolloutPlanner"/>
/// says it should be. A Deployment is tracked when annotated <c>dora-operator.io/project</c> or
/// selected by a DoraProject in its namespace (the oldest project wins an overlap). Records wait
/// for their project to exist. Writes only differences: a reconcile of an unchanged state writes nothing.
/// </summary>
internal sealed class RolloutTracker : IAsyncDisposable
{
    private const string OwnerIndex = "owner";
    private const string WorkloadIndex = "workload";

    private readonly KubeApiClient _client;
    private readonly EventRecorder _events;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();

    /// <summary>
    /// Records this tracker created that its cache has not shown yet (client-go's "expectations"):
    /// a reconcile in that gap must not create them again.
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> _created = new(StringComparer.Ordinal);

    /// <summary>
    /// Records whose status this tracker wrote, with the resourceVersion the write returned, until the
    /// cache shows that version: a reconcile in between would compare against the old status and
    /// write the same outcome again (a wasted request that ends in a 409).
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (string ResourceVersion, DateTimeOffset At)> _written = new(StringComparer.Ordinal);

    /// <summary>How long an expectation (created or written) waits for the cache before it is given up.</summary>
    private static readonly TimeSpan ExpectationTimeout = TimeSpan.FromSeconds(30);
    private readonly Hosting.TermQueue _queue;
    private Task? _informers;

    public RolloutTracker(KubeApiClient client, EventRecorder events, string? ns, TimeProvider time, ILogger logger)
    {
        _client = client;
        _events = events;
        _time = time;
        _logger = logger;
        _queue = new Hosting.TermQueue("rollouts", time, logger);
        Deployments = new Informer<Deployment>(client, new InformerOptions<Deployment> { Namespace = ns, Transform = Workloads.Lean }, time, logger);
        ReplicaSets = new Informer<ReplicaSet>(client, new InformerOptions<ReplicaSet>
        {
            Namespace = ns,
            Transform = Workloads.Lean,
            Indexers = new Dictionary<string, Func<ReplicaSet, IEnumerable<string>>>
            {
                [OwnerIndex] = rs => rs.Metadata.OwnerReferences?.Where(o => o.Controller == true && o.Kind == "Deployment").Select(o => o.Uid) ?? [],
            },
        }, time, logger);
        Projects = new Informer<DoraProject>(client, new InformerOptions<DoraProject> { Namespace = ns }, time, logger);
        Records = new Informer<DeploymentRecord>(client, new InformerOptions<DeploymentRecord>
        {
            Namespace = ns,
            Transform = DoraLean.Lean,
            Indexers = new Dictionary<string, Func<DeploymentRecord, IEnumerable<string>>>
            {
                [WorkloadIndex] = r => [$"{r.Metadata.Namespace}/{r.Spec.Workload.Name}"],
                [Incidents.DoraIndexes.Project] = r => [Incidents.DoraIndexes.ProjectKey(r.Metadata.Namespace, r.Spec.Project)],
            },
        }, time, logger);

        Deployments.AddHandler(new InformerHandler<Deployment>(d => Enqueue(d.Metadata), (_, d) => Enqueue(d.Metadata), d => Enqueue(d.Metadata)));
        ReplicaSets.AddHandler(new InformerHandler<ReplicaSet>(EnqueueOwner, (_, rs) => EnqueueOwner(rs), EnqueueOwner));
        // A project's spec (generation) decides what it selects; its status, written by the aggregator, does not.
        Projects.AddHandler(new InformerHandler<DoraProject>(EnqueueNamespace, (old, p) =>
        {
            if (old.Metadata.Generation != p.Metadata.Generation) EnqueueNamespace(p);
        }, EnqueueNamespace));
        // A record we created shows up in the cache: reconcile its Deployment again, since a reconcile
        // in between skipped it (the Deployment may have completed meanwhile).
        Records.AddHandler(new InformerHandler<DeploymentRecord>(r =>
        {
            if (_created.TryRemove(RecordKey(r.Metadata), out _)) Queue.Add($"{r.Metadata.Namespace}/{r.Spec.Workload.Name}");
        }, (previous, r) =>
        {
            // Our own status write arrived: reconcile again what a reconcile in between skipped.
            var key = RecordKey(r.Metadata);
            if (_written.TryGetValue(key, out var w) && w.ResourceVersion == r.Metadata.ResourceVersion && _written.TryRemove(key, out _))
                Queue.Add($"{r.Metadata.Namespace}/{r.Spec.Workload.Name}");
        }));
    }

    public Informer<Deployment> Deployments { get; }
    public Informer<ReplicaSet> ReplicaSets { get; }
    public Informer<DoraProject> Projects { get; }
    public Informer<DeploymentRecord> Records { get; }

    public bool HasSynced => Deployments.HasSynced && ReplicaSets.HasSynced && Projects.HasSynced && Records.HasSynced;

    /// <summary>Reconciles run so far, by outcome (for tests and metrics).</summary>
    public int Reconciles { get; private set; }

    /// <summary>Starts the informers (once; later calls return the same task) and completes when all caches are synced.</summary>
    public Task StartInformersAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _informers ??= StartAllAsync(cancellationToken);
        }
    }

    private async Task StartAllAsync(CancellationToken cancellationToken)
    {
        await Deployments.StartAsync(cancellationToken);
        await ReplicaSets.StartAsync(cancellationToken);
        await Projects.StartAsync(cancellationToken);
        await Records.StartAsync(cancellationToken);
        await Task.WhenAll(Deployments.WaitForSyncAsync(cancellationToken), ReplicaSets.WaitForSyncAsync(cancellationToken),
            Projects.WaitForSyncAsync(cancellationToken), Records.WaitForSyncAsync(cancellationToken));
    }

    /// <summary>
    /// Runs the workers for one leadership term: waits for the caches, queues every Deployment (a
    /// new leader reconciles everything that exists), and stops when <paramref name="cancellationToken"/>
    /// is cancelled. Each term gets a fresh queue.
    /// </summary>
    public async Task RunAsync(int workers, CancellationToken cancellationToken)
    {
        await StartInformersAsync(cancellationToken).WaitAsync(cancellationToken);
        var work = _queue.RunAsync(ReconcileAsync, workers, () =>
        {
            foreach (var d in Deployments.List()) Enqueue(d.Metadata);
        }, Metrics, cancellationToken);
        await Task.WhenAll(work, RetentionLoopAsync(cancellationToken));
    }

    /// <summary>How often retention runs while leading.</summary>
    public TimeSpan RetentionInterval { get; init; } = TimeSpan.FromMinutes(1);

    private async Task RetentionLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(RetentionInterval, _time);
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
                    _logger.LogWarning("retention pass failed: {Error}; retrying in {Interval}", e.Message, RetentionInterval);
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
        foreach (var project in Projects.List())
        {
            var maxAge = Durations.TryParse(project.Spec.Retention?.MaxAge ?? "90d", out var age) ? age : TimeSpan.FromDays(90);
            var maxRecords = project.Spec.Retention?.MaxRecords ?? 1000;
            var label = RolloutPlanner.LabelValue(project.Metadata.Name!);
            var records = Records.List(project.Metadata.Namespace)
                .Where(r => r.Metadata.Labels?.GetValueOrDefault(DoraNames.ProjectLabel) == label && r.Spec.Project == project.Metadata.Name)
                .Select(r => (Record: r, At: r.Status?.DeployedAt ?? r.Status?.FailedAt ?? r.Status?.StartedAt ?? r.Metadata.CreationTimestamp ?? now))
                .OrderBy(x => x.At)
                .ThenBy(x => x.Record.Spec.Revision)
                .ToList();
            var finished = records.Where(x => x.Record.Status?.Phase is not (null or "Progressing")).ToList();
            var expired = finished.Where(x => now - x.At > maxAge).Select(x => x.Record).ToList();
            var excess = Math.Max(0, records.Count - expired.Count - maxRecords);
            var victims = expired.Concat(finished.Select(x => x.Record).Except(expired).Take(excess)).Take(batch - deleted).ToList();
            foreach (var r in victims)
            {
                try
                {
                    await _client.DeleteAsync<DeploymentRecord>(r.Metadata.Name!, r.Metadata.Namespace, new DeleteOptions(PreconditionUid: r.Metadata.Uid), cancellationToken);
                    deleted++;
                    _logger.LogInformation("retention: deleted {Namespace}/{Record} (project {Project}: maxAge {MaxAge}, maxRecords {MaxRecords})",
                        r.Metadata.Namespace, r.Metadata.Name, project.Metadata.Name, project.Spec.Retention?.MaxAge ?? "90d", maxRecords);
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

    /// <summary>Where reconcile counts and durations go (null: nowhere).</summary>
    public Metrics.OperatorMetrics? Metrics { get; init; }

    public int QueueDepth => _queue.Depth;

    private Hosting.TermQueue Queue => _queue;

    private void Enqueue(ObjectMeta meta) => Queue.Add($"{meta.Namespace}/{meta.Name}");

    private void EnqueueOwner(ReplicaSet rs)
    {
        var owner = rs.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true && o.Kind == "Deployment");
        if (owner is not null) Queue.Add($"{rs.Metadata.Namespace}/{owner.Name}");
    }

    private void EnqueueNamespace(DoraProject p)
    {
        foreach (var d in Deployments.List(p.Metadata.Namespace)) Enqueue(d.Metadata);
    }

    internal async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        Reconciles++;
        var slash = key.IndexOf('/');
        var (ns, name) = (key[..slash], key[(slash + 1)..]);
        var records = Records.ByIndex(WorkloadIndex, key);
        var deployment = Deployments.Get(ns, name);
        if (deployment is null)
        {
            foreach (var r in RolloutPlanner.PlanDeleted(records)) await WriteStatusAsync(r, cancellationToken);
            return ReconcileResult.Done;
        }
        var project = ResolveProject(deployment);
        if (project is null) return ReconcileResult.Done;
        var plan = RolloutPlanner.Plan(new RolloutInput(
            deployment,
            ReplicaSets.ByIndex(OwnerIndex, deployment.Metadata.Uid ?? ""),
            records,
            project.Metadata.Name!,
            project.Spec.Environment ?? "production",
            _time.GetUtcNow(),
            project.Spec.LeadTimeFrom == "firstCommit"));
        var existing = records.ToDictionary(r => r.Metadata.Name!, StringComparer.Ordinal);
        foreach (var desired in plan.Records)
        {
            var recordKey = RecordKey(desired.Metadata);
            if (existing.TryGetValue(desired.Metadata.Name!, out var current))
            {
                if (!_created.IsEmpty) _created.TryRemove(recordKey, out _);
                if (_written.TryGetValue(recordKey, out var written))
                {
                    // The cache is behind our own last status write: the write's watch event requeues this Deployment.
                    if (current.Metadata.ResourceVersion != written.ResourceVersion && _time.GetUtcNow() - written.At < ExpectationTimeout) continue;
                    _written.TryRemove(recordKey, out _);
                }
                if (!InProgress(desired) && !SameStatus(current, desired)) await WriteStatusAsync(desired, cancellationToken);
                continue;
            }
            if (_created.TryGetValue(recordKey, out var at) && _time.GetUtcNow() - at < ExpectationTimeout)
            {
                // Created moments ago: the informer's add event brings it and requeues this Deployment.
                continue;
            }
            await CreateAsync(desired, project, cancellationToken);
        }
        foreach (var problem in plan.Problems)
        {
            _events.Warning(Reference(deployment), problem.Reason, "RecordDeployment", problem.Message);
        }
        return ReconcileResult.Done;
    }

    /// <summary>The annotation names the project; otherwise the oldest DoraProject whose selector matches. Null when untracked or waiting.</summary>
    private DoraProject? ResolveProject(Deployment d)
    {
        var ns = d.Metadata.Namespace!;
        if (d.Metadata.Annotations?.GetValueOrDefault(DoraNames.ProjectAnnotation) is { Length: > 0 } named)
        {
            var project = Projects.Get(ns, named);
            if (project is null)
            {
                _events.Warning(Reference(d), "ProjectNotFound", "Track",
                    $"Deployment {ns}/{d.Metadata.Name} names DoraProject \"{named}\", which does not exist in namespace {ns}; its deployments are recorded once it is created");
            }
            return project;
        }
        var matching = Projects.List(ns)
            .Where(p => p.Spec.Selector is { } s && Selectors.Matches(s, d.Metadata.Labels))
            .OrderBy(p => p.Metadata.CreationTimestamp)
            .ThenBy(p => p.Metadata.Name, StringComparer.Ordinal)
            .ToList();
        if (matching.Count > 1)
        {
            _events.Warning(Reference(d), "SelectorOverlap", "Track",
                $"DoraProjects {string.Join(", ", matching.Select(p => p.Metadata.Name))} all select Deployment {ns}/{d.Metadata.Name}; the oldest, {matching[0].Metadata.Name}, records its deployments. Narrow the other selectors.");
        }
        return matching.FirstOrDefault();
    }

    private async Task CreateAsync(DeploymentRecord desired, DoraProject project, CancellationToken cancellationToken)
    {
        var status = desired.Status;
        desired.Metadata.OwnerReferences =
        [
            new OwnerReference { ApiVersion = DoraProject.Resource.ApiVersion, Kind = "DoraProject", Name = project.Metadata.Name!, Uid = project.Metadata.Uid!, BlockOwnerDeletion = true },
        ];
        DeploymentRecord created;
        try
        {
            created = await _client.CreateAsync(desired, cancellationToken);
        }
        catch (KubeApiException e) when (e.IsAlreadyExists)
        {
            // Another writer (or our own earlier attempt) got there first: the informer event requeues us.
            return;
        }
        _created[RecordKey(created.Metadata)] = _time.GetUtcNow();
        created.Status = status;
        if (!InProgress(created)) await WriteStatusAsync(created, cancellationToken);
        _logger.LogInformation("recorded {Namespace}/{Record}: {Phase}", created.Metadata.Namespace, created.Metadata.Name, status?.Phase);
    }

    private async Task WriteStatusAsync(DeploymentRecord record, CancellationToken cancellationToken)
    {
        try
        {
            var updated = await _client.ReplaceStatusAsync(record, cancellationToken);
            if (updated.Metadata.ResourceVersion is { } rv) _written[RecordKey(updated.Metadata)] = (rv, _time.GetUtcNow());
        }
        catch (KubeApiException e) when (e.IsConflict || e.IsNotFound)
        {
            // The cache was behind; the watch event that follows requeues the Deployment.
            Queue.AddRateLimited($"{record.Metadata.Namespace}/{record.Spec.Workload.Name}");
        }
    }

    /// <summary>
    /// A rollout still in progress has nothing to write: the API server shows a record without status
    /// as Progressing (the CRD's default), and everything else is written once, with the outcome. That
    /// keeps a rollout at two writes, and a reconcile that finds it still progressing writes nothing.
    /// </summary>
    private static bool InProgress(DeploymentRecord desired) => desired.Status?.Phase is null or "Progressing";

    /// <summary>The key of a record in the expectations (created, written).</summary>
    private static string RecordKey(ObjectMeta meta) => meta.Name + "@" + meta.Namespace;

    private static bool SameStatus(DeploymentRecord a, DeploymentRecord b) =>
        JsonSerializer.Serialize(a.Status, DoraJsonContext.Default.DeploymentRecordStatus) == JsonSerializer.Serialize(b.Status, DoraJsonContext.Default.DeploymentRecordStatus)
        && a.Spec.ChangeType == b.Spec.ChangeType;

    private static ObjectReference Reference(Deployment d) => new()
    {
        ApiVersion = "apps/v1", Kind = "Deployment", Name = d.Metadata.Name, Namespace = d.Metadata.Namespace, Uid = d.Metadata.Uid,
    };

    public async ValueTask DisposeAsync()
    {
        Queue.ShutDown();
        await Deployments.DisposeAsync();
        await ReplicaSets.DisposeAsync();
        await Projects.DisposeAsync();
        await Records.DisposeAsync();
        Queue.Dispose();
    }
}
