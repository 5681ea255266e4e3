using System.Globalization;
using DoraOperator.Entities.Dora;

namespace DoraOperator.Entities.Vocabulary;

/// <summary>Commit times: the forms <c>dora-operator.io/commit-time</c> accepts, and the lead time they give.</summary>
public static class CommitTimes
{
    public const string AcceptedForms = "RFC 3339 with an offset (2026-11-20T09:30:00Z) or Unix seconds (1795513800)";

    /// <summary>RFC 3339 with an offset, or Unix seconds.</summary>
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
        // RFC 3339 allows any number of fraction digits (Go writes nine); .NET reads at most seven.
        if (text.Length > 20 && text[19] == '.')
        {
            var end = 20;
            while (end < text.Length && char.IsAsciiDigit(text[end])) end++;
            if (end - 20 > 7) text = string.Concat(text.AsSpan(0, 27), text.AsSpan(end));
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out value);
    }

    /// <summary>
    /// The commit a lead time is measured from: the shipped commit, or the release's oldest commit
    /// when the project asks for it (<c>leadTimeFrom: firstCommit</c>). A record that knows only one
    /// of the two (em-metrics sends only <c>first_commit_at</c>) measures from that one under either setting.
    /// </summary>
    public static DateTimeOffset? LeadTimeStart(DeploymentRecordSpec spec, bool fromFirstCommit) =>
        fromFirstCommit ? spec.FirstCommitTime ?? spec.CommitTime : spec.CommitTime ?? spec.FirstCommitTime;

    /// <summary>
    /// Seconds from the lead-time start to <paramref name="deployedAt"/>: null without a commit time,
    /// and null when the commit is after the deployment (no negative samples).
    /// </summary>
    public static double? LeadTimeSeconds(DeploymentRecordSpec spec, DateTimeOffset deployedAt, bool fromFirstCommit) =>
        LeadTimeStart(spec, fromFirstCommit) is { } commit && commit <= deployedAt ? (deployedAt - commit).TotalSeconds : null;
}
