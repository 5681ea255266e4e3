using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace DoraOperator.Entities.Vocabulary;

/// <summary>Deterministic object names and label values, so every writer derives the same name from the same input.</summary>
public static class ObjectNames
{
    /// <summary>
    /// <c>&lt;workload&gt;-&lt;revision&gt;</c>; names that would exceed 253 characters keep a prefix and
    /// add a hash of the full name, so they stay unique and deterministic.
    /// </summary>
    public static string Record(string workload, long revision)
    {
        var name = $"{workload}-{revision.ToString(CultureInfo.InvariantCulture)}";
        if (name.Length <= 253) return name;
        var suffix = $"-{Hash(name)}-{revision.ToString(CultureInfo.InvariantCulture)}";
        return workload[..(253 - suffix.Length)].TrimEnd('-', '.') + suffix;
    }

    /// <summary>A label value (at most 63 characters) for a name that may be longer.</summary>
    public static string LabelValue(string name)
    {
        if (name.Length <= 63) return name;
        return name[..52].TrimEnd('-', '.', '_') + "-" + Hash(name);
    }

    /// <summary>Ten lowercase hex digits of the SHA-256 of <paramref name="text"/>.</summary>
    public static string Hash(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..10].ToLowerInvariant();
}
