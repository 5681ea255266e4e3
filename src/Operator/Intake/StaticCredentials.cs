using System.Security.Cryptography;
using System.Text;
using DoraOperator.Kube.Meta;

namespace DoraOperator.Operator.Intake;

/// <summary>
/// Credentials for tools that hold no Kubernetes token (as em-metrics offers): a file, mounted from a
/// Secret, with one credential a line, each limited to listed namespaces (<c>*</c>: all):
/// <code>
/// token  &lt;name&gt; &lt;secret&gt;   &lt;namespace&gt;[,&lt;namespace&gt;...]
/// basic  &lt;user&gt; &lt;password&gt; &lt;namespace&gt;[,&lt;namespace&gt;...]
/// </code>
/// Blank lines and lines starting with <c>#</c> are skipped. The file is re-read when it changes.
/// Comparisons are constant-time; a static caller is named <c>static:&lt;name&gt;</c>.
/// </summary>
internal sealed class StaticCredentials(string? path)
{
    public const string UserPrefix = "static:";

    private sealed record Credential(string Kind, string Name, byte[] Secret, string[] Namespaces);

    private readonly Lock _gate = new();
    private (DateTime Written, List<Credential> Items)? _loaded;

    public bool Configured => path is not null;

    /// <summary>The caller a Bearer or Basic Authorization header names, or null when it matches no static credential.</summary>
    public ReviewedUser? Match(string authorization)
    {
        if (path is null) return null;
        string kind, name, secret;
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            (kind, name, secret) = ("token", "", authorization[7..].Trim());
        }
        else if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..].Trim()));
            }
            catch (FormatException)
            {
                return null;
            }
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0) return null;
            (kind, name, secret) = ("basic", decoded[..colon], decoded[(colon + 1)..]);
        }
        else
        {
            return null;
        }
        var presented = Encoding.UTF8.GetBytes(secret);
        Credential? found = null;
        foreach (var c in Load())
        {
            // Every candidate is compared, so the time taken says nothing about which one matched.
            var same = c.Kind == kind && (kind == "token" || c.Name == name) & CryptographicOperations.FixedTimeEquals(c.Secret, presented);
            if (same && found is null) found = c;
        }
        return found is null ? null : new ReviewedUser { Username = UserPrefix + found.Name, Groups = [.. found.Namespaces.Select(n => "namespace:" + n)] };
    }

    /// <summary>True when a static caller may write in <paramref name="ns"/>.</summary>
    public static bool Allows(ReviewedUser user, string ns) =>
        user.Groups?.Any(g => g == "namespace:*" || g == "namespace:" + ns) == true;

    private List<Credential> Load()
    {
        var written = File.Exists(path) ? File.GetLastWriteTimeUtc(path!) : DateTime.MinValue;
        lock (_gate)
        {
            if (_loaded is { } loaded && loaded.Written == written) return loaded.Items;
            var items = new List<Credential>();
            if (written != DateTime.MinValue)
            {
                foreach (var line in File.ReadAllLines(path!))
                {
                    var parts = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                    if (parts.Length == 0 || parts[0].StartsWith('#')) continue;
                    if (parts.Length != 4 || parts[0] is not ("token" or "basic"))
                        throw new InvalidOperationException($"{path}: \"{parts[0]} ...\" is not \"token|basic <name> <secret> <namespaces>\"");
                    items.Add(new Credential(parts[0], parts[1], Encoding.UTF8.GetBytes(parts[2]), parts[3].Split(',', StringSplitOptions.RemoveEmptyEntries)));
                }
            }
            _loaded = (written, items);
            return items;
        }
    }
}
