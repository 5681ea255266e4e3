using System.Globalization;

namespace DoraOperator.Operator.Rollouts;

/// <summary>Parses the <c>dora-operator.io/commit-time</c> forms: RFC 3339 with an offset, or Unix seconds.</summary>
internal static class CommitTime
{
    public const string AcceptedForms = "RFC 3339 with an offset (2026-11-20T09:30:00Z) or Unix seconds (1795513800)";

    public static bool TryParse(string? text, out DateTimeOffset value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            if (seconds is < 0 or > 253_402_300_799) return false;
            value = DateTimeOffset.FromUnixTimeSeconds(seconds);
            return true;
        }
        var hasOffset = text.EndsWith('Z') || text.EndsWith('z') || (text.Length > 6 && text[^6] is '+' or '-' && text[^3] == ':');
        if (!hasOffset || text.Length < 20 || text[10] is not ('T' or 't')) return false;
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out value);
    }
}
