using System.Globalization;

namespace DoraOperator.Operator.Projects;

/// <summary>Summary statistics of a sample, and the human forms the kubectl columns show.</summary>
internal static class Statistics
{
    /// <summary>
    /// The <paramref name="p"/>-quantile (0..1) of <paramref name="sorted"/> by linear interpolation
    /// between the closest ranks (Hyndman and Fan type 7, the default of R, NumPy and Excel's
    /// PERCENTILE.INC): h = (n - 1) p, then x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]).
    /// The median of an even sample is the mean of its two middle values. Null for an empty sample.
    /// </summary>
    public static double? Quantile(IReadOnlyList<double> sorted, double p)
    {
        if (sorted.Count == 0) return null;
        var h = (sorted.Count - 1) * p;
        var lo = (int)Math.Floor(h);
        var hi = Math.Min(lo + 1, sorted.Count - 1);
        return sorted[lo] + ((h - lo) * (sorted[hi] - sorted[lo]));
    }

    public static (double? Median, double? P90, double? Mean) Summarize(List<double> values)
    {
        if (values.Count == 0) return (null, null, null);
        values.Sort();
        return (Quantile(values, 0.5), Quantile(values, 0.9), values.Average());
    }

    /// <summary>A duration for a column: 42s, 45m, 2.4h, 3.2d.</summary>
    public static string HumanDuration(double seconds) => seconds switch
    {
        < 60 => $"{Math.Round(seconds).ToString(CultureInfo.InvariantCulture)}s",
        < 3600 => $"{Math.Round(seconds / 60).ToString(CultureInfo.InvariantCulture)}m",
        < 86400 => $"{Math.Round(seconds / 3600, 1).ToString(CultureInfo.InvariantCulture)}h",
        _ => $"{Math.Round(seconds / 86400, 1).ToString(CultureInfo.InvariantCulture)}d",
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
}
