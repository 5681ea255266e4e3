using System.Globalization;

namespace DoraOperator.Entities.Vocabulary;

/// <summary>The spec duration form (a whole number and m, h, d or w, as the CRD pattern allows), and the human forms kubectl columns show.</summary>
public static class Durations
{
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrEmpty(text) || text.Length < 2) return false;
        if (!long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1 || n > 1_000_000) return false;
        value = text[^1] switch
        {
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            'd' => TimeSpan.FromDays(n),
            'w' => TimeSpan.FromDays(7 * n),
            _ => TimeSpan.MinValue,
        };
        return value != TimeSpan.MinValue;
    }

    /// <summary>The spec form of a whole number of days, hours or minutes: 7d, 12h, 90m.</summary>
    public static string Format(TimeSpan w) =>
        w.TotalDays >= 1 && w.TotalDays == Math.Floor(w.TotalDays) ? Invariant($"{w.TotalDays}d")
        : w.TotalHours == Math.Floor(w.TotalHours) ? Invariant($"{w.TotalHours}h")
        : Invariant($"{w.TotalMinutes}m");

    /// <summary>A duration for a column: 42s, 45m, 2.4h, 3.2d.</summary>
    public static string Human(double seconds) => seconds switch
    {
        < 60 => Invariant($"{Math.Round(seconds)}s"),
        < 3600 => Invariant($"{Math.Round(seconds / 60)}m"),
        < 86400 => Invariant($"{Math.Round(seconds / 3600, 1)}h"),
        _ => Invariant($"{Math.Round(seconds / 86400, 1)}d"),
    };

    /// <summary>A ratio as a percentage for a column: 12%, 3.3%.</summary>
    public static string HumanPercent(double ratio)
    {
        var pct = ratio * 100;
        return (pct >= 10 || pct == 0 ? Math.Round(pct) : Math.Round(pct, 1)).ToString(CultureInfo.InvariantCulture) + "%";
    }

    /// <summary>A rate for a column, with two significant decimals: 2.4, 0.13.</summary>
    public static string HumanRate(double perDay) =>
        (perDay >= 10 ? Math.Round(perDay) : perDay >= 1 ? Math.Round(perDay, 1) : Math.Round(perDay, 2)).ToString(CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
