namespace DoraOperator.Operator.Dora;

/// <summary>Summary statistics of a sample.</summary>
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
}
