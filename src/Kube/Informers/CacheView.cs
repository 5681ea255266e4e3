using DoraOperator.Kube.Meta;

namespace DoraOperator.Kube.Informers;

/// <summary>
/// A read-only view of one kind's cache across the watched scope: one informer for all namespaces,
/// or one per watched namespace (controller-runtime's multi-namespace cache). Consumers read, query
/// indexes and subscribe; they never start, stop or configure the informers behind it, which belong
/// to whoever built the view.
/// </summary>
public class CacheView<T, TItem>
    where T : KubeObject, IKubeResource<T>
    where TItem : class, ICacheItem
{
    private readonly IReadOnlyList<Informer<T, TItem>> _informers;
    private readonly Dictionary<string, Informer<T, TItem>>? _byNamespace;

    /// <param name="informers">The informers behind the view: one with no namespace, or one per namespace.</param>
    /// <param name="namespaces">The namespace each informer watches (null: all), in the same order.</param>
    public CacheView(IReadOnlyList<Informer<T, TItem>> informers, IReadOnlyList<string?> namespaces)
    {
        if (informers.Count == 0 || informers.Count != namespaces.Count) throw new ArgumentException("one informer per watched scope", nameof(informers));
        _informers = informers;
        if (namespaces.Count > 1 || namespaces[0] is not null)
        {
            _byNamespace = new Dictionary<string, Informer<T, TItem>>(StringComparer.Ordinal);
            for (var i = 0; i < namespaces.Count; i++) _byNamespace[namespaces[i] ?? throw new ArgumentException("a namespaced view names every namespace", nameof(namespaces))] = informers[i];
        }
    }

    public bool HasSynced => _informers.All(i => i.HasSynced);

    public Task WaitForSyncAsync(CancellationToken cancellationToken = default) =>
        Task.WhenAll(_informers.Select(i => i.WaitForSyncAsync(cancellationToken)));

    /// <summary>Objects cached, over every watched namespace.</summary>
    public int Count => _informers.Sum(i => i.Count);

    /// <summary>Watch restarts over every informer behind the view.</summary>
    public int WatchRestarts => _informers.Sum(i => i.WatchRestarts);

    /// <summary>Watch events applied over every informer behind the view.</summary>
    public long WatchEvents => _informers.Sum(i => i.WatchEvents);

    /// <summary>Open watches behind the view (one per informer).</summary>
    public int Watches => _informers.Count;

    public TItem? Get(string? ns, string name) => Route(ns)?.Get(ns, name);

    /// <summary>Drops a cached object without telling the handlers (<see cref="Informer{T, TItem}.Evict"/>); false when it is not the version cached.</summary>
    public bool Evict(TItem item) => Route(item.Namespace)?.Evict(item) ?? false;

    /// <summary>Objects dropped with <see cref="Evict"/>, over every informer behind the view.</summary>
    public long Evictions => _informers.Sum(i => i.Evictions);

    /// <summary>Every object, or those of one namespace.</summary>
    public IReadOnlyList<TItem> List(string? ns = null)
    {
        if (ns is not null) return Route(ns)?.List(ns) ?? [];
        return _informers.Count == 1 ? _informers[0].List() : [.. _informers.SelectMany(i => i.List())];
    }

    /// <summary>Objects whose index <paramref name="index"/> holds <paramref name="value"/>, over every watched namespace.</summary>
    public IReadOnlyList<TItem> ByIndex(string index, string value) =>
        _informers.Count == 1 ? _informers[0].ByIndex(index, value) : [.. _informers.SelectMany(i => i.ByIndex(index, value))];

    public void AddHandler(InformerHandler<TItem> handler)
    {
        foreach (var i in _informers) i.AddHandler(handler);
    }

    private Informer<T, TItem>? Route(string? ns) =>
        _byNamespace is null ? _informers[0] : ns is not null ? _byNamespace.GetValueOrDefault(ns) : null;
}

/// <summary>A view of a cache that holds the objects themselves.</summary>
public sealed class CacheView<T>(IReadOnlyList<Informer<T>> informers, IReadOnlyList<string?> namespaces) : CacheView<T, T>(informers, namespaces)
    where T : KubeObject, IKubeResource<T>;
