using System.Collections.Concurrent;
using DoraOperator.Entities.BuiltIn;
using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Kube.Meta;
using DoraOperator.Kube.Queue;
using DoraOperator.Kube.Rest;
using DoraOperator.Operator.Caching;
using DoraOperator.Operator.Dora;
using DoraOperator.Operator.Insights;
using Microsoft.Extensions.Logging;

namespace DoraOperator.Operator.Projects;

/// <summary>
/// Keeps each DoraProject's status equal to its DORA numbers over its rolling window. Recomputes a
/// project when one of its records, incidents or Deployments changes, and every
/// <see cref="ProjectOptions.RecomputeInterval"/> so the window slides with no events. Writes status only when a
/// value (not merely the window's end) changed, and at most once per <see cref="ProjectOptions.MinWriteInterval"/>
/// per project: bursts coalesce into one write.
/// </summary>
internal sealed partial class ProjectAggregator : IReconciler, IDisposable
{
    private readonly KubeApiClient _client;
    private readonly OperatorCache _cache;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<ObjectKey, DateTimeOffset> _lastWrite = new();
    private readonly ConcurrentDictionary<ObjectKey, DateTimeOffset> _lastCompute = new();
    private readonly ConcurrentDictionary<ObjectKey, (DoraProject Project, DoraReport Report)> _reports = new();
    private readonly ReconcileRunner _runner;

    /// <summary>
    /// Namespaces whose every project is queued and none has started since (see <see cref="EnqueueNamespace"/>).
    /// A project's reconcile unmarks its namespace before it reads the caches.
    /// </summary>
    private readonly ConcurrentDictionary<string, byte> _namespacesQueued = new(StringComparer.Ordinal);
    // Per namespace, a count of the changes that can change which project claims a Deployment (a
    // Deployment added, deleted or relabelled, a project added, changed or deleted); each project's
    // overlap is kept with the count it was computed at, so a burst of rollouts (status changes
    // only) does not match every Deployment of the namespace again on every recompute.
    private readonly ConcurrentDictionary<string, long> _claimChanges = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<ObjectKey, (long Changes, string? Overlap)> _overlaps = new();
    private int _statusWrites;

    public ProjectAggregator(KubeApiClient client, OperatorCache cache, TimeProvider time, ILogger<ProjectAggregator> logger, ProjectOptions? options = null)
    {
        _client = client;
        _cache = cache;
        _time = time;
        _logger = logger;
        Options = options ?? new ProjectOptions();
        _runner = new ReconcileRunner(this, time, logger) { OnReconciled = Options.OnReconciled };
        // Our own status writes come back as updates with the same generation: nothing to recompute.
        // Sources are claimed cluster-wide: a project's sources changing can change another namespace's conflicts.
        cache.Projects.AddHandler(new(ProjectChanged, (old, p) =>
        {
            if (old.Metadata.Generation != p.Metadata.Generation) ProjectChanged(p);
        }, ProjectChanged));
        cache.Records.AddHandler(new(r => Enqueue(r.Metadata.Namespace, r.Spec.Project), (_, r) => Enqueue(r.Metadata.Namespace, r.Spec.Project), r => Enqueue(r.Metadata.Namespace, r.Spec.Project)));
        cache.Incidents.AddHandler(new(i => Enqueue(i.Metadata.Namespace, i.Spec.Project), (_, i) => Enqueue(i.Metadata.Namespace, i.Spec.Project), i => Enqueue(i.Metadata.Namespace, i.Spec.Project)));
        cache.Deployments.AddHandler(new(d => ClaimsChanged(d.Metadata.Namespace), (a, b) =>
        {
            if (!SameLabels(a.Metadata.Labels, b.Metadata.Labels) || ProjectClaims.Named(a.Metadata) != ProjectClaims.Named(b.Metadata)) ClaimsChanged(b.Metadata.Namespace);
        }, d => ClaimsChanged(d.Metadata.Namespace)));
    }

    public string Name => "projects";

    public ProjectOptions Options { get; }

    /// <summary>Status writes so far (for tests).</summary>
    public int StatusWrites => _statusWrites;

    public int QueueDepth => _runner.Depth;

    public IEnumerable<ObjectKey> Seed()
    {
        _lastWrite.Clear();
        _lastCompute.Clear();
        return _cache.Projects.List().Select(p => ObjectKey.Of(p.Metadata));
    }

    /// <summary>Runs one leadership term: every project now, each again on change, all every <see cref="ProjectOptions.RecomputeInterval"/>.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await _cache.WaitForSyncAsync(cancellationToken);
        await Task.WhenAll(_runner.RunAsync(1, cancellationToken), TickAsync(cancellationToken));
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Options.RecomputeInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                foreach (var key in _cache.Projects.List().Select(p => ObjectKey.Of(p.Metadata))) _runner.Add(key);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void ProjectChanged(DoraProject p)
    {
        // Itself first: a namespace already marked queued was marked before this project was there.
        Enqueue(p.Metadata.Namespace, p.Metadata.Name);
        ClaimsChanged(p.Metadata.Namespace);
        if (p.Spec.Sources is null) return;
        foreach (var other in _cache.Projects.List().Where(o => o.Spec.Sources is not null)) Enqueue(other.Metadata.Namespace, other.Metadata.Name);
    }

    private void Enqueue(string? ns, string? project)
    {
        if (!string.IsNullOrEmpty(project)) _runner.Add(ObjectKey.Of(ns, project));
    }

    /// <summary>Counts a change to who claims the Deployments of <paramref name="ns"/> and queues its projects.</summary>
    private void ClaimsChanged(string? ns)
    {
        _claimChanges.AddOrUpdate(ns ?? "", 1, static (_, n) => n + 1);
        EnqueueNamespace(ns);
    }

    /// <summary>The project's <see cref="ProjectStatusBuilder.Overlap"/>, computed again only after a change to the namespace's claims.</summary>
    private string? Overlap(ObjectKey key, DoraProject project)
    {
        var changes = _claimChanges.GetValueOrDefault(key.Namespace);
        if (_overlaps.TryGetValue(key, out var known) && known.Changes == changes) return known.Overlap;
        var overlap = ProjectStatusBuilder.Overlap(project, _cache.Projects.List(key.Namespace), _cache.Deployments.List(key.Namespace));
        _overlaps[key] = (changes, overlap);
        return overlap;
    }

    /// <summary>
    /// Queues every project of <paramref name="ns"/> (a Deployment there changed, which can change any
    /// one's readiness). While the namespace is marked, every project in it is queued and none has
    /// started reading, so later changes are covered and cost nothing: at startup a namespace of D
    /// Deployments and P projects is D lookups, not D x P queue adds.
    /// </summary>
    private void EnqueueNamespace(string? ns)
    {
        if (!_namespacesQueued.TryAdd(ns ?? "", 0)) return;
        foreach (var p in _cache.Projects.List(ns)) Enqueue(ns, p.Metadata.Name);
    }

    /// <summary>Each project's latest numbers (computed on every change and every recompute interval while leading), for the metrics.</summary>
    public IEnumerable<(DoraProject Project, DoraReport Report)> LastReports => _reports.Values;

    /// <summary>The project's numbers over <paramref name="window"/> (default: its own) ending at <paramref name="end"/> (default: now).</summary>
    public DoraReport Report(DoraProject project, TimeSpan? window = null, DateTimeOffset? end = null) => Source(project).Report(window, end ?? _time.GetUtcNow());

    /// <summary>The project with its records and incidents from the caches.</summary>
    public ProjectSource Source(DoraProject project)
    {
        var key = CacheIndexes.Key(project.Metadata.Namespace, project.Metadata.Name);
        return new ProjectSource(project, _cache.Records.ByIndex(CacheIndexes.Project, key), _cache.Incidents.ByIndex(CacheIndexes.Project, key));
    }

    public DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>The window before <paramref name="current"/>'s, of the same length.</summary>
    public DoraReport Previous(DoraProject project, DoraReport current) => Source(project).Previous(current);

    /// <summary>A team's projects in one environment, each over <paramref name="window"/> (default: its own) ending at <paramref name="end"/>, pooled.</summary>
    public TeamReport Team(string team, string environment, TimeSpan? window = null, DateTimeOffset? end = null)
    {
        var at = end ?? _time.GetUtcNow();
        var members = _cache.Projects.List().Where(p => TeamRollup.Member(p, team, environment)).Select(p => (p, Report(p, window, at))).ToList();
        return TeamRollup.Pool(team, environment, members);
    }

    /// <summary>The team's previous period: each project's window before the one in <paramref name="current"/>.</summary>
    public TeamReport PreviousTeam(TeamReport current) =>
        TeamRollup.Pool(current.Team, current.Environment, [.. current.Members.Select(m => (m.Project, Previous(m.Project, m.Report)))]);

    public async Task<ReconcileResult> ReconcileAsync(ObjectKey key, CancellationToken cancellationToken)
    {
        var (ns, name) = (key.Namespace, key.Name);
        _namespacesQueued.TryRemove(ns, out _);
        var project = _cache.Projects.Get(ns, name);
        if (project is null)
        {
            _lastWrite.TryRemove(key, out _);
            _lastCompute.TryRemove(key, out _);
            _reports.TryRemove(key, out _);
            _overlaps.TryRemove(key, out _);
            return ReconcileResult.Done;
        }
        var now = _time.GetUtcNow();
        if (_lastCompute.TryGetValue(key, out var computed) && now - computed < Options.MinComputeInterval)
        {
            return ReconcileResult.RequeueAfter(Options.MinComputeInterval - (now - computed));
        }
        _lastCompute[key] = now;
        var report = Report(project);
        _reports[key] = (project, report);
        var readiness = ProjectStatusBuilder.Readiness(project, _cache.Projects.List(ns), () => Overlap(key, project), report,
            project.Spec.Sources is null ? null : _cache.Projects.List());
        var status = ProjectStatusBuilder.Build(project, report, readiness, now);
        if (SameValues(project.Status, status)) return ReconcileResult.Done;
        if (_lastWrite.TryGetValue(key, out var last) && now - last < Options.MinWriteInterval)
        {
            return ReconcileResult.RequeueAfter(Options.MinWriteInterval - (now - last));
        }
        var updated = KubeClone.DeepCopy(project);
        updated.Status = status;
        try
        {
            await _client.ReplaceStatusAsync(updated, cancellationToken);
        }
        catch (KubeApiException e) when (e.IsConflict)
        {
            return ReconcileResult.RequeueAfter(TimeSpan.FromMilliseconds(200));
        }
        catch (KubeApiException e) when (e.IsNotFound)
        {
            return ReconcileResult.Done;
        }
        _lastWrite[key] = now;
        Interlocked.Increment(ref _statusWrites);
        Log.Calculated(_logger, ns, name, status.Display!.DeploysPerDay, status.Display.LeadTime, status.Display.ChangeFailureRate, status.Display.RecoveryTime, status.Tier, readiness.Reason);
        return ReconcileResult.Done;
    }

    /// <summary>Equal in everything but the window's bounds, which move on every recompute.</summary>
    internal static bool SameValues(DoraProjectStatus? current, DoraProjectStatus desired)
    {
        if (current is null) return false;
        var from = MergePatch.ToObject(current, DoraJsonContext.Default.DoraProjectStatus);
        var to = MergePatch.ToObject(desired, DoraJsonContext.Default.DoraProjectStatus);
        foreach (var bound in (string[])["windowStart", "windowEnd"])
        {
            from.Remove(bound);
            to.Remove(bound);
        }
        return MergePatch.Create(from, to) is null;
    }

    private static bool SameLabels(IReadOnlyDictionary<string, string>? a, IReadOnlyDictionary<string, string>? b) =>
        (a?.Count ?? 0) == (b?.Count ?? 0) && (a is null || a.All(kv => b!.TryGetValue(kv.Key, out var v) && v == kv.Value));

    public void Dispose()
    {
        _runner.ShutDown();
        _runner.Dispose();
    }
}

/// <summary>How the project aggregator runs.</summary>
internal sealed record ProjectOptions
{
    /// <summary>How often every project is recomputed while leading, so the window slides with no events.</summary>
    public TimeSpan RecomputeInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The least time between two recomputations of one project: a burst of record events (1,000
    /// rollouts at once) costs one recompute per interval instead of one per event.
    /// </summary>
    public TimeSpan MinComputeInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The least time between two status writes of one project (bursts coalesce).</summary>
    public TimeSpan MinWriteInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Where reconcile outcomes and durations go.</summary>
    public Action<string, string, TimeSpan>? OnReconciled { get; init; }
}
