using System.Globalization;
using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Operator.Dora;

namespace DoraOperator.Operator.Insights;

/// <summary>Whether a change between periods is an improvement: more deployments, shorter times, fewer failures.</summary>
internal enum Sense
{
    None,
    Better,
    Worse,
    Same,
}

/// <summary>How pages and reports write the four keys, their changes and times; shared so HTML and markdown say the same.</summary>
internal static class Formats
{
    public const string None = "–";

    public static readonly (DoraMetric Metric, string Label)[] Keys =
    [
        (DoraMetric.DeploymentFrequency, "Deployment frequency"),
        (DoraMetric.LeadTime, "Lead time for changes"),
        (DoraMetric.ChangeFailureRate, "Change failure rate"),
        (DoraMetric.RecoveryTime, "Failed deployment recovery time"),
    ];

    public static string Value(DoraMetric metric, DoraReport r) => metric switch
    {
        DoraMetric.DeploymentFrequency => r.DeploymentFrequency.PerDay is { } f ? $"{Durations.HumanRate(f)}/day" : None,
        DoraMetric.LeadTime => r.LeadTime.MedianSeconds is { } s ? Durations.Human(s) : None,
        DoraMetric.ChangeFailureRate => r.ChangeFailureRate.Ratio is { } c ? Durations.HumanPercent(c) : None,
        _ => r.RecoveryTime.MedianSeconds is { } t ? Durations.Human(t) : None,
    };

    /// <summary>What the value is made of: "12 deployments", "9 samples", "2 of 14 changes".</summary>
    public static string Count(DoraMetric metric, DoraReport r) => metric switch
    {
        DoraMetric.DeploymentFrequency => Plural(r.DeploymentFrequency.Count ?? 0, "deployment"),
        DoraMetric.LeadTime => Plural(r.LeadTime.Samples ?? 0, "sample"),
        DoraMetric.ChangeFailureRate => $"{r.ChangeFailureRate.Count ?? 0} of {Plural(r.ChangeFailureRate.Total ?? 0, "change")}",
        _ => Plural(r.RecoveryTime.Samples ?? 0, "recovery", "recoveries"),
    };

    public static string Tier(DoraMetric metric, DoraReport r) => metric switch
    {
        DoraMetric.DeploymentFrequency => r.DeploymentFrequency.Tier,
        DoraMetric.LeadTime => r.LeadTime.Tier,
        DoraMetric.ChangeFailureRate => r.ChangeFailureRate.Tier,
        _ => r.RecoveryTime.Tier,
    } ?? Benchmark.Unknown;

    public static double? Raw(DoraMetric metric, DoraReport r) => metric switch
    {
        DoraMetric.DeploymentFrequency => r.DeploymentFrequency.PerDay,
        DoraMetric.LeadTime => r.LeadTime.MedianSeconds,
        DoraMetric.ChangeFailureRate => r.ChangeFailureRate.Ratio,
        _ => r.RecoveryTime.MedianSeconds,
    };

    /// <summary>The change from <paramref name="previous"/> to <paramref name="current"/>: its text ("+0.4/day", "−2.5h", "+5 pp") and whether it is better.</summary>
    public static (string Text, Sense Sense) Delta(DoraMetric metric, DoraReport current, DoraReport previous)
    {
        if (Raw(metric, current) is not { } now || Raw(metric, previous) is not { } before) return ("no comparison", Sense.None);
        var d = now - before;
        if (Math.Abs(d) < 1e-9) return ("no change", Sense.Same);
        var sign = d > 0 ? "+" : "−";
        var text = metric switch
        {
            DoraMetric.DeploymentFrequency => $"{sign}{Durations.HumanRate(Math.Abs(d))}/day",
            DoraMetric.ChangeFailureRate => $"{sign}{Math.Round(Math.Abs(d) * 100, 1).ToString(CultureInfo.InvariantCulture)} pp",
            _ => $"{sign}{Durations.Human(Math.Abs(d))}",
        };
        var better = metric == DoraMetric.DeploymentFrequency ? d > 0 : d < 0;
        return (text, better ? Sense.Better : Sense.Worse);
    }

    /// <summary>The benchmark's limits of a metric as a reader checks them: "elite ≥ 1/day · high ≥ 0.14/day · medium ≥ 0.03/day".</summary>
    public static string Bands(Benchmark benchmark, DoraMetric metric)
    {
        var (elite, high, medium) = benchmark.Bands(metric);
        string F(double v) => metric switch
        {
            DoraMetric.DeploymentFrequency => $"≥ {Durations.HumanRate(v)}/day",
            DoraMetric.ChangeFailureRate => $"≤ {Durations.HumanPercent(v)}",
            _ => $"< {Durations.Human(v)}",
        };
        return $"elite {F(elite)} · high {F(high)} · medium {F(medium)}";
    }

    public static string Time(DateTimeOffset? t) => t is { } v ? v.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) : None;

    public static string Day(DateTimeOffset t) => t.UtcDateTime.ToString("MMM d", CultureInfo.InvariantCulture);

    public static string Window(DoraReport r) => $"{Time(r.WindowStart)} – {Time(r.WindowEnd)}";

    public static string Seconds(double? s) => s is { } v ? Durations.Human(v) : None;

    public static string Plural(int n, string one, string? many = null) => n == 1 ? $"1 {one}" : $"{n.ToString(CultureInfo.InvariantCulture)} {many ?? one + "s"}";
}
