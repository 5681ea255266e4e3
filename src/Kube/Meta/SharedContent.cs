using System.Collections.Concurrent;

namespace DoraOperator.Kube.Meta;

/// <summary>
/// One shared instance per distinct content, for the maps and owner lists that repeat whole across
/// cached objects: the labels of every DeploymentRecord of one workload, the owner reference of all
/// the ReplicaSets of one Deployment. A shared instance is read-only by contract: cached objects are
/// never written back or changed in place (copy first). Bounded: past <see cref="Capacity"/>
/// distinct contents it returns its input.
/// </summary>
public static class SharedContent
{
    public const int Capacity = 100_000;

    private static readonly SharedPool<Dictionary<string, string>, Dictionary<string, string>> Maps = new(static m => m, MapContent.Instance);
    private static readonly SharedPool<List<OwnerReference>, List<OwnerReference>> Owners = new(static o => o, OwnerContent.Instance);

    /// <summary>The shared map with the content of <paramref name="map"/> (keys and values pooled); null and empty stay null.</summary>
    public static Dictionary<string, string>? Map(Dictionary<string, string>? map) =>
        map is not { Count: > 0 } ? null : Maps.Share(map, static m => StringPool.InternMap(m, poolValue: _ => true)!);

    /// <summary>The shared owner-reference list with the content of <paramref name="owners"/> (strings pooled); null and empty stay null.</summary>
    public static List<OwnerReference>? OwnerReferences(List<OwnerReference>? owners) =>
        owners is not { Count: > 0 } ? null : Owners.Share(owners, static list => list.Select(o => new OwnerReference
        {
            ApiVersion = StringPool.Intern(o.ApiVersion)!, Kind = StringPool.Intern(o.Kind)!, Name = StringPool.Intern(o.Name)!, Uid = StringPool.Intern(o.Uid)!,
            Controller = o.Controller, BlockOwnerDeletion = o.BlockOwnerDeletion,
        }).ToList());

    /// <summary>Equal content: the same keys with the same values (null and empty are equal).</summary>
    public static bool SameMap(Dictionary<string, string>? x, Dictionary<string, string>? y) =>
        x is null || y is null ? (x?.Count ?? 0) == (y?.Count ?? 0) : MapContent.Instance.Equals(x, y);

    /// <summary>Equal content: the same owners in the same order (null and empty are equal).</summary>
    public static bool SameOwners(List<OwnerReference>? x, List<OwnerReference>? y) =>
        x is null || y is null ? (x?.Count ?? 0) == (y?.Count ?? 0) : OwnerContent.Instance.Equals(x, y);

    private sealed class MapContent : IEqualityComparer<Dictionary<string, string>>
    {
        public static readonly MapContent Instance = new();

        public bool Equals(Dictionary<string, string>? x, Dictionary<string, string>? y)
        {
            if (ReferenceEquals(x, y)) return true;
            if (x is null || y is null || x.Count != y.Count) return false;
            foreach (var (k, v) in x)
            {
                if (!y.TryGetValue(k, out var other) || !string.Equals(v, other, StringComparison.Ordinal)) return false;
            }
            return true;
        }

        public int GetHashCode(Dictionary<string, string> map)
        {
            // Order-independent: a sum of the entries' hashes.
            var hash = map.Count;
            foreach (var (k, v) in map) hash += HashCode.Combine(StringComparer.Ordinal.GetHashCode(k), StringComparer.Ordinal.GetHashCode(v));
            return hash;
        }
    }

    private sealed class OwnerContent : IEqualityComparer<List<OwnerReference>>
    {
        public static readonly OwnerContent Instance = new();

        public bool Equals(List<OwnerReference>? x, List<OwnerReference>? y)
        {
            if (ReferenceEquals(x, y)) return true;
            if (x is null || y is null || x.Count != y.Count) return false;
            for (var i = 0; i < x.Count; i++)
            {
                var (a, b) = (x[i], y[i]);
                if (a.Uid != b.Uid || a.Name != b.Name || a.Kind != b.Kind || a.ApiVersion != b.ApiVersion || a.Controller != b.Controller || a.BlockOwnerDeletion != b.BlockOwnerDeletion) return false;
            }
            return true;
        }

        public int GetHashCode(List<OwnerReference> owners)
        {
            var hash = new HashCode();
            foreach (var o in owners) hash.Add(HashCode.Combine(o.Uid, o.Name, o.Kind, o.ApiVersion, o.Controller, o.BlockOwnerDeletion));
            return hash.ToHashCode();
        }
    }
}

/// <summary>
/// One shared value per key, bounded at <c>capacity</c> (<see cref="SharedContent.Capacity"/> unless
/// given): past it, a value is made for the caller and not kept. The mechanism behind
/// <see cref="SharedContent"/>, <see cref="StringPool"/> and the lean transforms' own shared parts (a
/// record's workload reference, its display). The pool keeps the key <paramref name="keyOf"/> reads
/// from the value it made (whose strings are pooled), never the caller's, so a decoded object is not
/// kept alive by its lookup key. It counts its entries itself: a <see cref="ConcurrentDictionary{TKey, TValue}"/>'s
/// <c>Count</c> takes every one of its locks (up to 1,024), so as the bound check of each new string
/// it would cost more than decoding the object the string came from.
/// </summary>
public sealed class SharedPool<TKey, TValue>(Func<TValue, TKey> keyOf, IEqualityComparer<TKey>? comparer = null, int capacity = SharedContent.Capacity)
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, TValue> _values = new(comparer);
    private int _count;

    /// <summary>Values kept so far (at most the capacity).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The value shared for <paramref name="key"/>, made by <paramref name="create"/> the first time.</summary>
    public TValue Share(TKey key, Func<TKey, TValue> create)
    {
        if (_values.TryGetValue(key, out var shared)) return shared;
        var made = create(key);
        if (Volatile.Read(ref _count) >= capacity) return made;
        if (_values.TryAdd(keyOf(made), made))
        {
            Interlocked.Increment(ref _count);
            return made;
        }
        // Another thread added the same content first: share its value.
        return _values.TryGetValue(keyOf(made), out shared) ? shared : made;
    }
}
