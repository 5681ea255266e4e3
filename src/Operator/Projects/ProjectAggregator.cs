using System.Collections.Concurrent;
using System.Text.Json;
using DoraOperator.Entities.BuiltIn;
using DoraOperator.Entities.Dora;
using DoraOperator.Kube.Informers;
using DoraOperator.Kube.Meta;
using DoraOperator.Kube.Queue;
using DoraOperator.Kube.Rest;
using DoraOperator.Operator.Incidents;
using Microsoft.Extensions.Logging;

namespace DoraOperator.Operator.Projects;

/// <summary>
/// Keeps each DoraProject's status equal to its DORA numbers over its rolling window. Recomputes a
/// project when one of its records, incidents or Deployments changes, and every
/// <see cref="RecomputeInterval"/> so the window slides with no events. Writes status only when a
/// value (not merely the window's end) changed, and at most once per <see cref="MinWriteInterval"/>
/// per project: bursts coalesce into one write.
/// </summary>
internal sealed class ProjectAggregator
{
    private readonly KubeApiClient _client;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastWrite = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (DoraProject Project, DoraReport Report)> _reports = new(StringComparer.Ordinal);
    private readonly Hosting.TermQueue _queue;

    public ProjectAggregator(KubeApiClient client, Informer<DoraProject> projects, Informer<DeploymentRecord> records, Informer<Incident> incidents, Informer<Deployment> deployments, TimeProvider time, ILogger logger)
    {
        _client = client;
        _time = time;
        _logger = logger;
        Projects = projects;
        Records = records;
        Incidents = incidents;
        Deployments = deployments;
        _queue = new Hosting.TermQueue("projects", time, logger);
        // Our own status writes come back as updates with the same generation: nothing to recompute.
        projects.AddHandler(new InformerHandler<DoraProject>(p => EnqueueNamespace(p.Metadata.Namespace), (old, p) =>
        {
            if (old.Metadata.Generation != p.Metadata.Generation) EnqueueNamespace(p.Metadata.Namespace);
        }, p => EnqueueNamespace(p.Metadata.Namespace)));
        records.AddHandler(new InformerHandler<DeploymentRecord>(r => Enqueue(r.Metadata.Namespace, r.Spec.Project), (_, r) => Enqueue(r.Metadata.Namespace, r.Spec.Project), r => Enqueue(r.Metadata.Namespace, r.Spec.Project)));
        incidents.AddHandler(new InformerHandler<Incident>(i => Enqueue(i.Metadata.Namespace, i.Spec.Project), (_, i) => Enqueue(i.Metadata.Namespace, i.Spec.Project), i => Enqueue(i.Metadata.Namespace, i.Spec.Project)));
        deployments.AddHandler(new InformerHandler<Deployment>(d => EnqueueNamespace(d.Metadata.Namespace), (a, b) =>
        {
            if (!SameLabels(a.Metadata.Labels, b.Metadata.Labels) || ProjectOf(a) != ProjectOf(b)) EnqueueNamespace(b.Metadata.Namespace);
        }, d => EnqueueNamespace(d.Metadata.Namespace)));
    }

    public Informer<DoraProject> Projects { get; }
    public Informer<DeploymentRecord> Records { get; }
    public Informer<Incident> Incidents { get; }
    public Informer<Deployment> Deployments { get; }

    /// <summary>How often every project is recomputed while leading, so the window slides.</summary>
    public TimeSpan RecomputeInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The least time between two recomputations of one project: a burst of record events (1,000
    /// rollouts at once) costs one recompute per interval instead of one per event.
    /// </summary>
    public TimeSpan MinComputeInterval { get; init; } = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastCompute = new(StringComparer.Ordinal);

    /// <summary>The least time between two status writes of one project.</summary>
    public TimeSpan MinWriteInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Status writes so far (for tests and metrics).</summary>
    public int StatusWrites => _statusWrites;

    private int _statusWrites;

    /// <summary>Called after each status write with the project and its new numbers.</summary>
    public Action<DoraProject, DoraReport>? OnCalculated { get; init; }

    public async Task RunAsync(int workers, CancellationToken cancellationToken)
    {
        await Task.WhenAll(Projects.WaitForSyncAsync(cancellationToken), Records.WaitForSyncAsync(cancellationToken), Incidents.WaitForSyncAsync(cancellationToken), Deployments.WaitForSyncAsync(cancellationToken));
        var work = _queue.RunAsync(ReconcileAsync, workers, () =>
        {
            _lastWrite.Clear();
            _lastCompute.Clear();
            EnqueueAll();
        }, Metrics, cancellationToken);
        await Task.WhenAll(work, TickAsync(cancellationToken));
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(RecomputeInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken)) EnqueueAll();
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Where reconcile counts and durations go (null: nowhere).</summary>
    public Metrics.OperatorMetrics? Metrics { get; init; }

    public int QueueDepth => _queue.Depth;

    private Hosting.TermQueue Queue => _queue;

    private void EnqueueAll()
    {
        foreach (var p in Projects.List()) Enqueue(p.Metadata.Namespace, p.Metadata.Name);
    }

    private void Enqueue(string? ns, string? project)
    {
        if (!string.IsNullOrEmpty(project)) Queue.Add($"{ns}/{project}");
    }

    private void EnqueueNamespace(string? ns)
    {
        foreach (var p in Projects.List(ns)) Enqueue(ns, p.Metadata.Name);
    }

    /// <summary>Each project's latest numbers (computed on every change and every <see cref="RecomputeInterval"/> while leading), for the metrics.</summary>
    public IEnumerable<(DoraProject Project, DoraReport Report)> LastReports => _reports.Values;

    /// <summary>The project's numbers now, over its own window or <paramref name="window"/>, from the caches.</summary>
    public DoraReport Report(DoraProject project, TimeSpan? window = null)
    {
        var key = DoraIndexes.ProjectKey(project.Metadata.Namespace, project.Metadata.Name);
        return DoraCalculator.Compute(ProjectStatusBuilder.Input(project, Records.ByIndex(DoraIndexes.Project, key), Incidents.ByIndex(DoraIndexes.Project, key), _time.GetUtcNow(), window));
    }

    internal async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var slash = key.IndexOf('/');
        var (ns, name) = (key[..slash], key[(slash + 1)..]);
        var project = Projects.Get(ns, name);
        if (project is null)
        {
            _lastWrite.TryRemove(key, out _);
            _lastCompute.TryRemove(key, out _);
            _reports.TryRemove(key, out _);
            return ReconcileResult.Done;
        }
        var now = _time.GetUtcNow();
        if (_lastCompute.TryGetValue(key, out var computed) && now - computed < MinComputeInterval)
        {
            return ReconcileResult.RequeueAfter(MinComputeInterval - (now - computed));
        }
        _lastCompute[key] = now;
        var report = Report(project);
        _reports[key] = (project, report);
        var readiness = ProjectStatusBuilder.Readiness(project, Projects.List(ns), Deployments.List(ns), report);
        var status = ProjectStatusBuilder.Build(project, report, readiness, now);
        if (SameValues(project.Status, status)) return ReconcileResult.Done;
        if (_lastWrite.TryGetValue(key, out var last) && now - last < MinWriteInterval)
        {
            return ReconcileResult.RequeueAfter(MinWriteInterval - (now - last));
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
        _logger.LogInformation("project {Namespace}/{Name}: {Deploys}/day, lead time {LeadTime}, CFR {Cfr}, recovery {Recovery}, tier {Tier} ({Reason})",
            ns, name, status.Display!.DeploysPerDay, status.Display.LeadTime, status.Display.ChangeFailureRate, status.Display.RecoveryTime, status.Tier, readiness.Reason);
        OnCalculated?.Invoke(project, report);
        return ReconcileResult.Done;
    }

    /// <summary>Equal in everything but the window's bounds, which move on every recompute.</summary>
    internal static bool SameValues(DoraProjectStatus? current, DoraProjectStatus desired)
    {
        if (current is null) return false;
        static string Text(DoraProjectStatus s)
        {
            var node = JsonSerializer.SerializeToNode(s, DoraJsonContext.Default.DoraProjectStatus)!.AsObject();
            node.Remove("windowStart");
            node.Remove("windowEnd");
            return node.ToJsonString();
        }
        return Text(current) == Text(desired);
    }

    private static string? ProjectOf(Deployment d) => d.Metadata.Annotations?.GetValueOrDefault(DoraNames.ProjectAnnotation);

    private static bool SameLabels(IReadOnlyDictionary<string, string>? a, IReadOnlyDictionary<string, string>? b) =>
        (a?.Count ?? 0) == (b?.Count ?? 0) && (a is null || a.All(kv => b!.TryGetValue(kv.Key, out var v) && v == kv.Value));

    public void Stop() => Queue.ShutDown();
}
