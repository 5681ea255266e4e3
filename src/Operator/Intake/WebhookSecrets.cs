using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using DoraOperator.Operator.Http;

namespace DoraOperator.Operator.Intake;

/// <summary>
/// The shared secrets of signed webhooks, one file per source in a directory (the chart mounts the
/// Secret it names there): <c>github</c>, <c>gitlab</c>, <c>pagerduty</c>, <c>opsgenie</c>, <c>jira</c>.
/// A file may hold several secrets, one per line, so a secret can be rotated without a gap. Files
/// are re-read when they change (a Secret update reaches a mounted volume without a restart).
/// Comparisons are constant-time.
/// </summary>
internal sealed class WebhookSecrets(string? directory)
{
    private readonly ConcurrentDictionary<string, (DateTime Written, byte[][] Secrets)> _cache = new(StringComparer.Ordinal);

    public string? Directory { get; } = directory;

    /// <summary>The secrets of <paramref name="source"/>; 403 naming the file when there are none.</summary>
    public byte[][] For(string source)
    {
        var path = Directory is null ? null : Path.Combine(Directory, source);
        if (path is null || !File.Exists(path))
        {
            throw new ProblemException(403, "Webhook not configured", $"the {source} webhook has no secret: put it in the file \"{source}\" of the webhook secrets (the chart's webhookSecrets.secretName)");
        }
        var written = File.GetLastWriteTimeUtc(path);
        if (_cache.TryGetValue(source, out var cached) && cached.Written == written) return cached.Secrets;
        var secrets = File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).Select(Encoding.UTF8.GetBytes).ToArray();
        if (secrets.Length == 0) throw new ProblemException(403, "Webhook not configured", $"the {source} webhook secret file is empty");
        _cache[source] = (written, secrets);
        return secrets;
    }

    /// <summary>True when <paramref name="presented"/> equals one of the source's secrets (a shared token, e.g. GitLab's X-Gitlab-Token).</summary>
    public bool TokenMatches(string source, string? presented)
    {
        if (string.IsNullOrEmpty(presented)) return false;
        var bytes = Encoding.UTF8.GetBytes(presented);
        var match = false;
        foreach (var secret in For(source)) match |= CryptographicOperations.FixedTimeEquals(secret, bytes);
        return match;
    }

    /// <summary>True when one of <paramref name="hexSignatures"/> is the HMAC-SHA256 of <paramref name="body"/> under one of the source's secrets.</summary>
    public bool HmacMatches(string source, ReadOnlySpan<byte> body, IEnumerable<string> hexSignatures)
    {
        var presented = hexSignatures.Select(TryHex).Where(b => b is { Length: 32 }).ToList();
        if (presented.Count == 0) return false;
        var match = false;
        foreach (var secret in For(source))
        {
            var expected = HMACSHA256.HashData(secret, body);
            foreach (var signature in presented) match |= CryptographicOperations.FixedTimeEquals(expected, signature);
        }
        return match;
    }

    private static byte[]? TryHex(string text)
    {
        try
        {
            return Convert.FromHexString(text.Trim());
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
