using DoraOperator.Entities.BuiltIn;
using DoraOperator.Entities.Dora;
using DoraOperator.Kube.Informers;
using DoraOperator.Kube.Meta;
using DoraOperator.Kube.Rest;
using Microsoft.Extensions.Logging;

namespace DoraOperator.Operator.Caching;

/// <summary>
/// The operator's one shared cache, owned by the host (controller-runtime's manager cache): one
/// informer per kind and watched scope (all namespaces, or one per namespace of <c>--namespaces</c>),
/// each with the indexes of <see cref="CacheIndexes"/>. Features receive read-only
/// <see cref="CacheView{T}"/>s and never build informers of their own.
/// </summary>
internal sealed class OperatorCache : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _informers = [];
    private readonly List<Func<CancellationToken, Task>> _starts = [];
    private readonly List<Func<CancellationToken, Task>> _syncs = [];
    private readonly Lock _gate = new();
    private Task? _started;

    public OperatorCache(KubeApiClient client, IReadOnlyList<string> namespaces, TimeProvider time, ILogger<OperatorCache> logger)
    {
        IReadOnlyList<string?> scopes = namespaces.Count == 0 ? [null] : [.. namespaces];
        Namespaces = namespaces;
        Deployments = View(client, scopes, new InformerOptions<Deployment> { Transform = Workloads.Lean }, time, logger);
        ReplicaSets = View(client, scopes, new InformerOptions<ReplicaSet> { Transform = Workloads.Lean, Indexers = CacheIndexes.ReplicaSets }, time, logger);
        StatefulSets = View(client, scopes, new InformerOptions<StatefulSet> { Transform = RevisionedWorkloads.Lean }, time, logger);
        DaemonSets = View(client, scopes, new InformerOptions<DaemonSet> { Transform = RevisionedWorkloads.Lean }, time, logger);
        ControllerRevisions = View(client, scopes, new InformerOptions<ControllerRevision> { Transform = RevisionedWorkloads.Lean, Indexers = CacheIndexes.ControllerRevisions }, time, logger);
        Projects = View(client, scopes, new InformerOptions<DoraProject>(), time, logger);
        Records = View(client, scopes, new InformerOptions<DeploymentRecord> { Transform = DoraLean.Lean, Indexers = CacheIndexes.Records }, time, logger);
        Incidents = View(client, scopes, new InformerOptions<Incident> { Indexers = CacheIndexes.Incidents }, time, logger);
    }

    /// <summary>The watched namespaces; empty for all.</summary>
    public IReadOnlyList<string> Namespaces { get; }

    public CacheView<Deployment> Deployments { get; }
    public CacheView<ReplicaSet> ReplicaSets { get; }
    public CacheView<StatefulSet> StatefulSets { get; }
    public CacheView<DaemonSet> DaemonSets { get; }
    public CacheView<ControllerRevision> ControllerRevisions { get; }
    public CacheView<DoraProject> Projects { get; }
    public CacheView<DeploymentRecord> Records { get; }
    public CacheView<Incident> Incidents { get; }

    /// <summary>True once every informer has listed (what <c>/readyz</c> reports).</summary>
    public bool HasSynced => Deployments.HasSynced && ReplicaSets.HasSynced && StatefulSets.HasSynced && DaemonSets.HasSynced && ControllerRevisions.HasSynced
        && Projects.HasSynced && Records.HasSynced && Incidents.HasSynced;

    /// <summary>Open watches: one per kind and watched namespace.</summary>
    public int Watches => Deployments.Watches + ReplicaSets.Watches + StatefulSets.Watches + DaemonSets.Watches + ControllerRevisions.Watches
        + Projects.Watches + Records.Watches + Incidents.Watches;

    /// <summary>Watch restarts by resource, for the operator's metrics.</summary>
    public IEnumerable<(string Resource, int Restarts)> WatchRestarts =>
    [
        (Deployment.Resource.Plural, Deployments.WatchRestarts), (ReplicaSet.Resource.Plural, ReplicaSets.WatchRestarts),
        (StatefulSet.Resource.Plural, StatefulSets.WatchRestarts), (DaemonSet.Resource.Plural, DaemonSets.WatchRestarts),
        (ControllerRevision.Resource.Plural, ControllerRevisions.WatchRestarts),
        (DoraProject.Resource.Plural, Projects.WatchRestarts), (DeploymentRecord.Resource.Plural, Records.WatchRestarts),
        (Incident.Resource.Plural, Incidents.WatchRestarts),
    ];

    /// <summary>Starts every informer (once; later calls return the same task) and completes when all have synced.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lock (_gate) return _started ??= StartAllAsync(cancellationToken);
    }

    public Task WaitForSyncAsync(CancellationToken cancellationToken) => Task.WhenAll(_syncs.Select(s => s(cancellationToken)));

    private async Task StartAllAsync(CancellationToken cancellationToken)
    {
        foreach (var start in _starts) await start(cancellationToken);
        await WaitForSyncAsync(cancellationToken);
    }

    private CacheView<T> View<T>(KubeApiClient client, IReadOnlyList<string?> scopes, InformerOptions<T> options, TimeProvider time, ILogger logger)
        where T : KubeObject, IKubeResource<T>
    {
        var informers = scopes.Select(ns => new Informer<T>(client, options with { Namespace = ns }, time, logger)).ToList();
        foreach (var i in informers)
        {
            _informers.Add(i);
            _starts.Add(i.StartAsync);
            _syncs.Add(i.WaitForSyncAsync);
        }
        return new CacheView<T>(informers, scopes);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var i in _informers) await i.DisposeAsync();
    }
}
