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
internal sealed partial class OperatorCache : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _informers = [];
    private readonly List<Func<CancellationToken, Task>> _starts = [];
    private readonly List<Func<CancellationToken, Task>> _syncs = [];
    private readonly Lock _gate = new();
    private Task? _started;
    private bool _disposed;
    private readonly KubeApiClient _client;
    private readonly IReadOnlyList<string?> _scopes;
    private readonly TimeProvider _time;
    private readonly ILogger<OperatorCache> _logger;
    private CacheView<ArgoRollout>? _argoRollouts;

    public OperatorCache(KubeApiClient client, IReadOnlyList<string> namespaces, TimeProvider time, ILogger<OperatorCache> logger, TimeSpan? discoveryInterval = null)
    {
        IReadOnlyList<string?> scopes = namespaces.Count == 0 ? [null] : [.. namespaces];
        (_client, _scopes, _time, _logger) = (client, scopes, time, logger);
        DiscoveryInterval = discoveryInterval ?? TimeSpan.FromSeconds(30);
        Namespaces = namespaces;
        var texts = new RevisionTexts(this);
        Deployments = View(client, scopes, Options.Deployments with { Transform = d => texts.Share(Workloads.Lean(d)) }, time, logger);
        ReplicaSets = View(client, scopes, Options.ReplicaSets with { Transform = rs => texts.Share(Workloads.Lean(rs)) }, time, logger);
        StatefulSets = View(client, scopes, Options.StatefulSets, time, logger);
        DaemonSets = View(client, scopes, Options.DaemonSets, time, logger);
        ControllerRevisions = View(client, scopes, Options.ControllerRevisions, time, logger);
        Projects = View(client, scopes, Options.Projects, time, logger);
        ProjectSelectors = new ProjectSelectors(Projects);
        // Records list once the ReplicaSets and Deployments are cached, so that a restarted operator's
        // records share their texts with them (a list is cached whole when it ends: two lists at once
        // would each see the other's cache empty).
        Records = View(client, scopes, Options.Records with { Transform = r => texts.Share(DoraLean.Lean(r)) }, time, logger,
            after: ct => Task.WhenAll(ReplicaSets.WaitForSyncAsync(ct), Deployments.WaitForSyncAsync(ct)));
        Incidents = View(client, scopes, Options.Incidents, time, logger);
    }

    /// <summary>
    /// How each kind is cached: the lean transform, what decoding skips and the indexes (the operator
    /// adds <see cref="RevisionTexts"/> to the Deployment, ReplicaSet and record transforms, which reads
    /// the other caches). Unknown fields
    /// are skipped everywhere only in caches whose objects are never written back whole; projects and
    /// incidents, whose status is written back with a PUT to the status subresource, skip only unknown
    /// metadata (managedFields, kilobytes each): the API server keeps the managedFields a request omits
    /// and takes nothing but the status from a status write. Shared with bench/Load, which measures
    /// each cache exactly as the operator builds it.
    /// </summary>
    internal static class Options
    {
        public static InformerOptions<Deployment> Deployments => new() { Transform = Workloads.Lean, UnknownFields = UnknownFields.Skip };
        public static InformerOptions<ReplicaSet, LeanReplicaSet> ReplicaSets => new() { Transform = Workloads.Lean, UnknownFields = UnknownFields.SkipInMetadata, Indexers = CacheIndexes.ReplicaSets };
        public static InformerOptions<StatefulSet> StatefulSets => new() { Transform = RevisionedWorkloads.Lean, UnknownFields = UnknownFields.SkipInMetadata };
        public static InformerOptions<DaemonSet> DaemonSets => new() { Transform = RevisionedWorkloads.Lean, UnknownFields = UnknownFields.SkipInMetadata };
        public static InformerOptions<ControllerRevision> ControllerRevisions => new() { Transform = RevisionedWorkloads.Lean, UnknownFields = UnknownFields.Skip, Indexers = CacheIndexes.ControllerRevisions };
        public static InformerOptions<DoraProject> Projects => new() { UnknownFields = UnknownFields.SkipInMetadata };
        public static InformerOptions<DeploymentRecord> Records => new() { Transform = DoraLean.Lean, UnknownFields = UnknownFields.Skip, Indexers = CacheIndexes.Records };
        public static InformerOptions<Incident> Incidents => new() { UnknownFields = UnknownFields.SkipInMetadata, Indexers = CacheIndexes.Incidents };
        public static InformerOptions<ArgoRollout> ArgoRollouts => new() { Transform = Entities.BuiltIn.ArgoRollouts.Lean, UnknownFields = UnknownFields.Skip };
    }

    /// <summary>The watched namespaces; empty for all.</summary>
    public IReadOnlyList<string> Namespaces { get; }

    public CacheView<Deployment> Deployments { get; }
    public CacheView<ReplicaSet, LeanReplicaSet> ReplicaSets { get; }
    public CacheView<StatefulSet> StatefulSets { get; }
    public CacheView<DaemonSet> DaemonSets { get; }
    public CacheView<ControllerRevision> ControllerRevisions { get; }
    public CacheView<DoraProject> Projects { get; }

    /// <summary>Which projects' selectors match a workload, by an index of the projects' labels.</summary>
    public ProjectSelectors ProjectSelectors { get; }

    public CacheView<DeploymentRecord> Records { get; }
    public CacheView<Incident> Incidents { get; }

    /// <summary>
    /// Argo Rollouts, once discovery shows the <c>rollouts.argoproj.io</c> CRD (checked at start and
    /// every <see cref="DiscoveryInterval"/>, so an install after the operator's start is picked up
    /// without a restart); null until then.
    /// </summary>
    public CacheView<ArgoRollout>? ArgoRollouts => Volatile.Read(ref _argoRollouts);

    /// <summary>Raised once, when the Argo Rollouts cache has synced for the first time.</summary>
    public event Action<CacheView<ArgoRollout>>? ArgoRolloutsDiscovered;

    public TimeSpan DiscoveryInterval { get; }

    /// <summary>True once every informer has listed (what <c>/readyz</c> reports).</summary>
    public bool HasSynced => Deployments.HasSynced && ReplicaSets.HasSynced && StatefulSets.HasSynced && DaemonSets.HasSynced && ControllerRevisions.HasSynced
        && Projects.HasSynced && Records.HasSynced && Incidents.HasSynced && ArgoRollouts?.HasSynced != false;

    /// <summary>Open watches: one per kind and watched namespace.</summary>
    public int Watches => Deployments.Watches + ReplicaSets.Watches + StatefulSets.Watches + DaemonSets.Watches + ControllerRevisions.Watches
        + Projects.Watches + Records.Watches + Incidents.Watches + (ArgoRollouts?.Watches ?? 0);

    /// <summary>Watch restarts and events applied, by resource, for the operator's metrics.</summary>
    public IEnumerable<(string Resource, int Restarts, long Events)> WatchStats =>
    [
        Stats(Deployments), Stats(ReplicaSets), Stats(StatefulSets), Stats(DaemonSets), Stats(ControllerRevisions),
        ArgoRollouts is { } argo ? Stats(argo) : (ArgoRollout.Resource.Plural, 0, 0),
        Stats(Projects), Stats(Records), Stats(Incidents),
    ];

    private static (string Resource, int Restarts, long Events) Stats<T, TItem>(CacheView<T, TItem> view)
        where T : KubeObject, IKubeResource<T>
        where TItem : class, ICacheItem => (T.Resource.Plural, view.WatchRestarts, view.WatchEvents);

    /// <summary>Starts every informer (once; later calls return the same task) and completes when all have synced.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lock (_gate) return _started ??= StartAllAsync(cancellationToken);
    }

    public Task WaitForSyncAsync(CancellationToken cancellationToken) => Task.WhenAll(_syncs.Select(s => s(cancellationToken)));

    private async Task StartAllAsync(CancellationToken cancellationToken)
    {
        var starts = _starts.ToList();
        foreach (var start in starts) await start(cancellationToken);
        await DiscoverAsync(cancellationToken);
        await WaitForSyncAsync(cancellationToken);
        _ = DiscoveryLoopAsync(cancellationToken);
    }

    private async Task DiscoveryLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(DiscoveryInterval, _time);
        try
        {
            while (ArgoRollouts is null && await timer.WaitForNextTickAsync(cancellationToken)) await DiscoverAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Starts the Argo Rollouts cache if the server now serves the kind; failures are logged and retried on the next tick.</summary>
    private async Task DiscoverAsync(CancellationToken cancellationToken)
    {
        if (ArgoRollouts is not null) return;
        try
        {
            if (!await _client.ServesAsync(ArgoRollout.Resource, cancellationToken)) return;
        }
        catch (Exception e) when (e is KubeApiException or HttpRequestException or TimeoutException)
        {
            Log.DiscoveryFailed(_logger, ArgoRollout.Resource.ApiVersion, e.Message);
            return;
        }
        List<Func<CancellationToken, Task>> starts;
        CacheView<ArgoRollout> view;
        lock (_gate)
        {
            var before = _starts.Count;
            view = View(_client, _scopes, Options.ArgoRollouts, _time, _logger);
            starts = _starts.Skip(before).ToList();
        }
        foreach (var start in starts) await start(cancellationToken);
        await view.WaitForSyncAsync(cancellationToken);
        Volatile.Write(ref _argoRollouts, view);
        Log.Discovered(_logger, ArgoRollout.Resource.Kind, ArgoRollout.Resource.ApiVersion);
        ArgoRolloutsDiscovered?.Invoke(view);
    }

    /// <summary>A view of a cache that holds the objects themselves; its informers start listing once <paramref name="after"/> completes (at once when null).</summary>
    private CacheView<T> View<T>(KubeApiClient client, IReadOnlyList<string?> scopes, InformerOptions<T> options, TimeProvider time, ILogger logger,
        Func<CancellationToken, Task>? after = null)
        where T : KubeObject, IKubeResource<T> =>
        new([.. scopes.Select(ns => Own<Informer<T>, T, T>(new Informer<T>(client, options with { Namespace = ns }, time, logger), after))], scopes);

    /// <summary>A view of a cache that holds <typeparamref name="TItem"/>, made from each object by the options' transform.</summary>
    private CacheView<T, TItem> View<T, TItem>(KubeApiClient client, IReadOnlyList<string?> scopes, InformerOptions<T, TItem> options, TimeProvider time, ILogger logger)
        where T : KubeObject, IKubeResource<T>
        where TItem : class, ICacheItem =>
        new([.. scopes.Select(ns => Own<Informer<T, TItem>, T, TItem>(new Informer<T, TItem>(client, options with { Namespace = ns }, time, logger)))], scopes);

    /// <summary>Registers an informer to be started, waited for and disposed with the cache.</summary>
    private TInformer Own<TInformer, T, TItem>(TInformer informer, Func<CancellationToken, Task>? after = null)
        where TInformer : Informer<T, TItem>
        where T : KubeObject, IKubeResource<T>
        where TItem : class, ICacheItem
    {
        _informers.Add(informer);
        _starts.Add(after is null ? informer.StartAsync : ct =>
        {
            _ = StartAfterAsync(informer, after, ct);
            return Task.CompletedTask;
        });
        _syncs.Add(informer.WaitForSyncAsync);
        return informer;
    }

    /// <summary>Starts an informer once <paramref name="after"/> completes, unless the cache is disposed by then.</summary>
    private async Task StartAfterAsync<T, TItem>(Informer<T, TItem> informer, Func<CancellationToken, Task> after, CancellationToken cancellationToken)
        where T : KubeObject, IKubeResource<T>
        where TItem : class, ICacheItem
    {
        try
        {
            await after(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        lock (_gate)
        {
            if (!_disposed) _ = informer.StartAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate) _disposed = true;
        foreach (var i in _informers) await i.DisposeAsync();
    }
}
