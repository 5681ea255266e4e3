using DoraOperator.Kube.Meta;
using DoraOperator.Kube.Rest;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DoraOperator.Kube.Informers;

/// <summary>What an informer of <typeparamref name="T"/> watches and how it caches: as <typeparamref name="TItem"/>, made from each object by <see cref="Transform"/>.</summary>
public record InformerOptions<T, TItem>
    where T : KubeObject
    where TItem : class, ICacheItem
{
    /// <summary>Namespace to watch; null for all namespaces.</summary>
    public string? Namespace { get; init; }
    public string? LabelSelector { get; init; }
    public string? FieldSelector { get; init; }
    /// <summary>
    /// Applied to every object before it is cached or handed to handlers: strip what you never read,
    /// or make the smaller type the cache holds. Required when <typeparamref name="TItem"/> is not <typeparamref name="T"/>.
    /// </summary>
    public Func<T, TItem>? Transform { get; init; }
    /// <summary>What decoding does with fields the types do not name (<see cref="Rest.UnknownFields"/>); skip them only in caches whose objects are never written back whole.</summary>
    public UnknownFields UnknownFields { get; init; }
    /// <summary>Periodically hand every cached object to OnUpdate(old == new); null for never.</summary>
    public TimeSpan? ResyncPeriod { get; init; }
    public int PageSize { get; init; } = 500;
    /// <summary>Server-side watch timeouts are drawn at random from [min, 2·min), like client-go (5–10 min).</summary>
    public TimeSpan MinWatchTimeout { get; init; } = TimeSpan.FromMinutes(5);
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(800);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Extra indexes: name -> function returning the index values of an object.</summary>
    public IReadOnlyDictionary<string, Func<TItem, IEnumerable<string>>> Indexers { get; init; } = new Dictionary<string, Func<TItem, IEnumerable<string>>>();
}

/// <summary>What an informer watches and how it caches, when it caches the objects themselves.</summary>
public sealed record InformerOptions<T> : InformerOptions<T, T>
    where T : KubeObject;

/// <summary>Callbacks for cache changes. Called on the informer's own loop, in order: keep them quick (enqueue work).</summary>
public sealed record InformerHandler<T>(Action<T>? OnAdd = null, Action<T, T>? OnUpdate = null, Action<T>? OnDelete = null);

/// <summary>An informer that caches the objects themselves (after an optional in-place transform).</summary>
public sealed class Informer<T>(KubeApiClient client, InformerOptions<T>? options = null, TimeProvider? time = null, ILogger? logger = null)
    : Informer<T, T>(client, options ?? new InformerOptions<T>(), time, logger)
    where T : KubeObject, IKubeResource<T>;

/// <summary>
/// A client-go style shared informer: list, then watch from the list's resourceVersion; follows
/// bookmarks; re-watches when the server ends the stream; relists on 410 Gone; backs off (jittered,
/// 800 ms doubling to 30 s) on errors. The cache is thread-safe and indexed by namespace and custom
/// indexers. After a relist, handlers see exactly the differences. It caches each object of
/// <typeparamref name="T"/> as the <typeparamref name="TItem"/> its transform makes (the object
/// itself for <see cref="Informer{T}"/>), so a cache can hold a smaller type than the API's.
/// </summary>
public class Informer<T, TItem> : IAsyncDisposable
    where T : KubeObject, IKubeResource<T>
    where TItem : class, ICacheItem
{
    public const string NamespaceIndex = "namespace";

    private readonly KubeApiClient _client;
    private readonly InformerOptions<T, TItem> _options;
    private readonly Func<T, TItem> _transform;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    // Objects by namespace ("" when cluster-scoped), then by name: the keys are the objects' own
    // strings, so the cache holds no composed "namespace/name" key per object.
    private readonly Dictionary<string, Dictionary<string, TItem>> _items = new(StringComparer.Ordinal);
    private int _count;
    // Custom indexes: value -> the objects holding it (by reference; an update swaps the old object out).
    /// <summary>Per index, the objects under each value, held by <see cref="IndexEntry"/>.</summary>
    private readonly Dictionary<string, Dictionary<string, object>> _indexes = [];
    private readonly Dictionary<string, Func<TItem, IEnumerable<string>>> _indexers;
    private readonly List<InformerHandler<TItem>> _handlers = [];
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource? _stop;
    private Task? _loop;
    private ITimer? _resync;
    private long _watchEvents;
    private long _evictions;

    public Informer(KubeApiClient client, InformerOptions<T, TItem> options, TimeProvider? time = null, ILogger? logger = null)
    {
        _client = client;
        _options = options;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        if (_options.Indexers.ContainsKey(NamespaceIndex)) throw new ArgumentException($"the index \"{NamespaceIndex}\" is built in", nameof(options));
        _transform = _options.Transform ?? (typeof(TItem) == typeof(T)
            ? static obj => (TItem)(object)obj
            : throw new ArgumentException($"caching {typeof(T).Name} as {typeof(TItem).Name} needs a transform", nameof(options)));
        _indexers = new Dictionary<string, Func<TItem, IEnumerable<string>>>(_options.Indexers);
        foreach (var name in _indexers.Keys) _indexes[name] = new Dictionary<string, object>(StringComparer.Ordinal);
    }

    public bool HasSynced => _synced.Task.IsCompleted;

    /// <summary>The resourceVersion the cache reflects.</summary>
    public string LastResourceVersion { get; private set; } = "";

    /// <summary>How many times the watch was reopened, and why (for metrics and tests).</summary>
    public int WatchRestarts { get; private set; }
    public int Relists { get; private set; }

    /// <summary>Watch events applied to the cache (adds, updates, deletes; not bookmarks).</summary>
    public long WatchEvents => Interlocked.Read(ref _watchEvents);

    public Action<string>? OnWatchRestart { get; init; }

    public int Count
    {
        get { lock (_gate) return _count; }
    }

    public void AddHandler(InformerHandler<TItem> handler)
    {
        List<TItem> existing;
        lock (_gate)
        {
            _handlers.Add(handler);
            existing = HasSynced ? AllLocked() : [];
        }
        foreach (var item in existing) Safe(() => handler.OnAdd?.Invoke(item));
    }

    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_loop is not null) throw new InvalidOperationException("the informer is already running");
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _loop = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
        if (_options.ResyncPeriod is { } period) _resync = _time.CreateTimer(_ => Resync(), null, period, period);
        return Task.CompletedTask;
    }

    public Task WaitForSyncAsync(CancellationToken cancellationToken = default) => _synced.Task.WaitAsync(cancellationToken);

    public TItem? Get(string? ns, string name)
    {
        lock (_gate) return _items.TryGetValue(ns ?? "", out var named) ? named.GetValueOrDefault(name) : null;
    }

    public IReadOnlyList<TItem> List(string? ns = null)
    {
        lock (_gate)
        {
            return ns is null ? AllLocked() : _items.TryGetValue(ns, out var named) ? [.. named.Values] : [];
        }
    }

    /// <summary>Objects whose index <paramref name="index"/> holds <paramref name="value"/>; <see cref="NamespaceIndex"/> lists a namespace.</summary>
    public IReadOnlyList<TItem> ByIndex(string index, string value)
    {
        if (index == NamespaceIndex) return List(value);
        lock (_gate)
        {
            if (!_indexes.TryGetValue(index, out var map)) throw new ArgumentException($"no index named \"{index}\"", nameof(index));
            return map.TryGetValue(value, out var objects) ? IndexEntry.Items(objects) : [];
        }
    }

    /// <summary>
    /// Drops <paramref name="item"/> from the cache without telling the handlers, if it is still the
    /// version cached (a newer one that arrived meanwhile stays): for objects the cache's users no
    /// longer read, such as a Deployment's retired ReplicaSets. The watch goes on: the object's next
    /// event, or the next relist, brings it back as an add, and its deletion reaches the handlers as
    /// usual. Returns whether it was dropped.
    /// </summary>
    public bool Evict(TItem item)
    {
        lock (_gate)
        {
            if (!_items.TryGetValue(item.Namespace ?? "", out var named) || !named.TryGetValue(item.Name ?? "", out var held) || !ReferenceEquals(held, item)) return false;
            RemoveLocked(item.Namespace, item.Name ?? "");
            _evictions++;
            return true;
        }
    }

    /// <summary>Objects dropped with <see cref="Evict"/> since the informer started.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    private List<TItem> AllLocked()
    {
        var all = new List<TItem>(_count);
        foreach (var named in _items.Values) all.AddRange(named.Values);
        return all;
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var needList = true;
        var backoff = _options.InitialBackoff;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (needList)
                {
                    var list = await _client.ListAsync(_options.Namespace, new ListOptions(_options.LabelSelector, _options.FieldSelector, _options.PageSize, _options.UnknownFields), _transform, cancellationToken);
                    Replace(list.Items, list.ResourceVersion);
                    Relists++;
                    needList = false;
                    _synced.TrySetResult();
                }
                var timeout = _options.MinWatchTimeout + TimeSpan.FromTicks((long)(Random.Shared.NextDouble() * _options.MinWatchTimeout.Ticks));
                var options = new WatchOptions(LastResourceVersion, _options.LabelSelector, _options.FieldSelector, timeout, UnknownFields: _options.UnknownFields);
                await foreach (var e in _client.WatchAsync<T>(_options.Namespace, options, cancellationToken))
                {
                    if (e.Type == WatchEventType.Error)
                    {
                        if (e.Error?.Code == 410)
                        {
                            InformerLog.Expired(_logger, T.Resource.Kind, LastResourceVersion, e.Error.Message);
                            needList = true;
                            break;
                        }
                        throw new KubeApiException(e.Error ?? new Status { Code = 500, Message = "watch error without status" }, "watch", T.Resource.Plural);
                    }
                    Apply(e);
                    backoff = _options.InitialBackoff;
                }
                Restarted(needList ? "expired" : "closed");
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (KubeApiException e) when (e.IsGone)
            {
                needList = true;
                Restarted("expired");
            }
            catch (Exception e)
            {
                Restarted(e is WatchStalledException ? "stalled" : "error");
                InformerLog.Failed(_logger, T.Resource.Kind, needList ? "list" : "watch", e.Message, (int)backoff.TotalMilliseconds);
                var jittered = backoff * (1 + Random.Shared.NextDouble());
                try
                {
                    await Task.Delay(jittered, _time, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                backoff = TimeSpan.FromTicks(Math.Min(_options.MaxBackoff.Ticks, backoff.Ticks * 2));
            }
        }
    }

    private void Restarted(string reason)
    {
        WatchRestarts++;
        Safe(() => OnWatchRestart?.Invoke(reason));
    }

    private void Apply(WatchEvent<T> e)
    {
        var obj = e.Object!;
        if (e.Type == WatchEventType.Bookmark)
        {
            LastResourceVersion = obj.Metadata.ResourceVersion ?? LastResourceVersion;
            return;
        }
        Interlocked.Increment(ref _watchEvents);
        var resourceVersion = obj.Metadata.ResourceVersion;
        var item = _transform(obj);
        TItem? old;
        List<InformerHandler<TItem>> handlers;
        lock (_gate)
        {
            old = e.Type == WatchEventType.Deleted ? RemoveLocked(item.Namespace, item.Name ?? "") : PutLocked(item);
            handlers = [.. _handlers];
            LastResourceVersion = resourceVersion ?? LastResourceVersion;
        }
        foreach (var h in handlers)
        {
            if (e.Type == WatchEventType.Deleted) Safe(() => h.OnDelete?.Invoke(old ?? item));
            else if (old is null) Safe(() => h.OnAdd?.Invoke(item));
            else Safe(() => h.OnUpdate?.Invoke(old, item));
        }
    }

    /// <summary>Swaps in a fresh list and tells handlers exactly what changed: adds, updates (new resourceVersion), deletes.</summary>
    private void Replace(List<TItem> items, string resourceVersion)
    {
        var adds = new List<TItem>();
        var updates = new List<(TItem Old, TItem New)>();
        var deletes = new List<TItem>();
        List<InformerHandler<TItem>> handlers;
        lock (_gate)
        {
            var listed = new HashSet<TItem>(items, ReferenceEqualityComparer.Instance);
            // Items arrive already transformed, page by page as the list was decoded.
            foreach (var obj in items)
            {
                if (PutLocked(obj) is { } old)
                {
                    if (old.ResourceVersion != obj.ResourceVersion) updates.Add((old, obj));
                }
                else
                {
                    adds.Add(obj);
                }
            }
            foreach (var gone in AllLocked().Where(o => !listed.Contains(o)))
            {
                deletes.Add(gone);
                RemoveLocked(gone.Namespace, gone.Name ?? "");
            }
            LastResourceVersion = resourceVersion;
            handlers = [.. _handlers];
        }
        foreach (var h in handlers)
        {
            foreach (var d in deletes) Safe(() => h.OnDelete?.Invoke(d));
            foreach (var a in adds) Safe(() => h.OnAdd?.Invoke(a));
            foreach (var (o, n) in updates) Safe(() => h.OnUpdate?.Invoke(o, n));
        }
    }

    private void Resync()
    {
        List<TItem> all;
        List<InformerHandler<TItem>> handlers;
        lock (_gate)
        {
            if (!HasSynced) return;
            all = AllLocked();
            handlers = [.. _handlers];
        }
        foreach (var h in handlers)
        {
            foreach (var o in all) Safe(() => h.OnUpdate?.Invoke(o, o));
        }
    }

    /// <summary>Caches <paramref name="obj"/> in place of the object of the same name; returns that one.</summary>
    private TItem? PutLocked(TItem obj)
    {
        var ns = obj.Namespace ?? "";
        if (!_items.TryGetValue(ns, out var named)) _items[ns] = named = new Dictionary<string, TItem>(StringComparer.Ordinal);
        var name = obj.Name ?? "";
        // A replaced entry is removed first: the dictionary would otherwise keep the first version's
        // name as its key, a second copy of the text alive beside the new object's own.
        if (named.Remove(name, out var old)) RemoveFromIndexes(old);
        else _count++;
        named.Add(name, obj);
        foreach (var (index, fn) in _indexers)
        {
            var map = _indexes[index];
            foreach (var value in fn(obj))
            {
                map[value] = IndexEntry.Add(map.GetValueOrDefault(value), obj);
            }
        }
        return old;
    }

    private TItem? RemoveLocked(string? ns, string name)
    {
        if (!_items.TryGetValue(ns ?? "", out var named) || !named.Remove(name, out var old)) return null;
        if (named.Count == 0) _items.Remove(ns ?? "");
        _count--;
        RemoveFromIndexes(old);
        return old;
    }

    private void RemoveFromIndexes(TItem obj)
    {
        foreach (var (index, fn) in _indexers)
        {
            var map = _indexes[index];
            foreach (var value in fn(obj))
            {
                if (!map.TryGetValue(value, out var objects)) continue;
                if (IndexEntry.Remove(objects, obj) is { } rest) map[value] = rest;
                else map.Remove(value);
            }
        }
    }

    /// <summary>
    /// The objects under one index value, held as compactly as their number allows: one object
    /// itself, up to <see cref="SmallSet"/> in an exact-size array (a Deployment's ReplicaSets, a
    /// workload's records), more in a set. Most index values hold one to a dozen objects, where a
    /// set costs about 200-600 bytes and the array a tenth of that. Objects are compared by reference.
    /// </summary>
    private static class IndexEntry
    {
        public const int SmallSet = 16;

        public static object Add(object? held, TItem obj)
        {
            switch (held)
            {
                case null:
                    return obj;
                case HashSet<TItem> many:
                    many.Add(obj);
                    return many;
                case TItem[] few:
                    if (IndexOf(few, obj) >= 0) return few;
                    if (few.Length < SmallSet) return (TItem[])[.. few, obj];
                    return new HashSet<TItem>([.. few, obj], ReferenceEqualityComparer.Instance);
                default:
                    var one = (TItem)held;
                    return ReferenceEquals(one, obj) ? one : new[] { one, obj };
            }
        }

        /// <summary>What is left once <paramref name="obj"/> is removed; null when nothing is.</summary>
        public static object? Remove(object held, TItem obj)
        {
            switch (held)
            {
                case HashSet<TItem> many:
                    many.Remove(obj);
                    return many.Count == 0 ? null : many.Count <= SmallSet / 2 ? many.ToArray() : many;
                case TItem[] few:
                    var at = IndexOf(few, obj);
                    if (at < 0) return few;
                    if (few.Length == 2) return few[1 - at];
                    return (TItem[])[.. few.AsSpan(0, at), .. few.AsSpan(at + 1)];
                default:
                    return ReferenceEquals(held, obj) ? null : held;
            }
        }

        private static int IndexOf(TItem[] few, TItem obj)
        {
            for (var i = 0; i < few.Length; i++)
            {
                if (ReferenceEquals(few[i], obj)) return i;
            }
            return -1;
        }

        public static List<TItem> Items(object held) => held switch
        {
            HashSet<TItem> many => [.. many],
            TItem[] few => [.. few],
            _ => [(TItem)held],
        };
    }

    private void Safe(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            InformerLog.HandlerFailed(_logger, e, T.Resource.Kind);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _resync?.Dispose();
        if (_stop is not null) await _stop.CancelAsync();
        if (_loop is not null)
        {
            try
            {
                await _loop;
            }
            catch (OperationCanceledException)
            {
            }
        }
        _stop?.Dispose();
    }
}
