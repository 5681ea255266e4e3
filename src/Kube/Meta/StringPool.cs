namespace DoraOperator.Kube.Meta;

/// <summary>
/// Interns the strings that repeat across thousands of cached objects (label and annotation keys,
/// namespaces, label values, project names), so a cache holds one copy of each. Bounded: past
/// <see cref="Capacity"/> distinct strings it stops adding and returns its input.
/// </summary>
public static class StringPool
{
    public const int Capacity = 200_000;
    private const int MaxLength = 128;
    private static readonly SharedPool<string, string> Pool = new(static s => s, StringComparer.Ordinal, Capacity);

    public static string? Intern(string? value) => Intern(value, MaxLength);

    /// <summary>Interns strings up to <paramref name="maxLength"/>: for a longer text known to repeat (a fixed condition message).</summary>
    public static string? Intern(string? value, int maxLength)
    {
        if (value is null || value.Length > maxLength) return value;
        return Pool.Share(value, static s => s);
    }

    /// <summary>
    /// A right-sized copy of a string map with pooled keys. Values are pooled only when
    /// <paramref name="poolValue"/> says they repeat across objects (a pool entry costs more than a
    /// unique string saves).
    /// </summary>
    public static Dictionary<string, string>? InternMap(Dictionary<string, string>? map, Func<string, bool>? keep = null, Func<string, bool>? poolValue = null)
    {
        if (map is null) return null;
        var result = new Dictionary<string, string>(map.Count, StringComparer.Ordinal);
        foreach (var (k, v) in map)
        {
            if (keep is null || keep(k)) result[Intern(k)!] = poolValue?.Invoke(k) == true ? Intern(v)! : v;
        }
        result.TrimExcess();
        return result;
    }
}
