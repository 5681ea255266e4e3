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
    public static string Record(string workload, long revision) => Record(workload, revision.ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// The record of a revision of a workload of any kind: Deployments as <see cref="Record(string, long)"/>;
    /// a StatefulSet's <c>&lt;name&gt;-sts&lt;revision&gt;</c>, a DaemonSet's <c>&lt;name&gt;-ds&lt;revision&gt;</c> and an
    /// Argo Rollout's <c>&lt;name&gt;-ro&lt;revision&gt;</c>,
    /// which never equal a Deployment's (whose last segment is all digits), so kinds sharing a name
    /// never share a record.
    /// </summary>
    public static string Record(string workload, long revision, string? kind) => kind switch
    {
        "StatefulSet" => Record(workload, "sts" + revision.ToString(CultureInfo.InvariantCulture)),
        "DaemonSet" => Record(workload, "ds" + revision.ToString(CultureInfo.InvariantCulture)),
        "Rollout" => Record(workload, "ro" + revision.ToString(CultureInfo.InvariantCulture)),
        _ => Record(workload, revision),
    };

    /// <summary>How the tracker and the caches name a workload within its namespace: Deployments by name, other kinds as <c>Kind/name</c>.</summary>
    public static string WorkloadKey(string? kind, string name) => kind is null or "Deployment" ? name : $"{kind}/{name}";

    private static string Record(string workload, string tail)
    {
        var name = $"{workload}-{tail}";
        if (name.Length <= 253) return name;
        var suffix = $"-{Hash(name)}-{tail}";
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

    /// <summary>
    /// The object name for an input from outside the cluster: <c>&lt;prefix&gt;-&lt;id&gt;</c> with the id
    /// lowercased and every character a name cannot hold turned into '-'. When that changed the id (or
    /// it is too long), a hash of the original id is appended, so two ids never share a name and the
    /// same id always gives the same name: a replayed delivery finds its object.
    /// </summary>
    public static string External(string prefix, string id)
    {
        var clean = new string([.. id.ToLowerInvariant().Select(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '.' ? c : '-')]).Trim('-', '.');
        var name = $"{prefix}-{clean}";
        if (clean == id && name.Length <= 253) return name;
        var suffix = "-" + Hash(id);
        return name[..Math.Min(name.Length, 253 - suffix.Length)].TrimEnd('-', '.') + suffix;
    }
}
