namespace DoraOperator.Operator.Dora;

/// <summary>The four keys, in the order DORA lists them.</summary>
internal enum DoraMetric
{
    DeploymentFrequency,
    LeadTime,
    ChangeFailureRate,
    RecoveryTime,
}

/// <summary>
/// DORA's six-step answer scales, the per-metric tier bands of a benchmark, and its cluster
/// profiles. Step 0 is the worst answer and step 5 the best, on every scale. Sources and the
/// reasoning behind each boundary are in docs/dora.md.
/// </summary>
internal sealed class Benchmark
{
    public const string Elite = "elite";
    public const string High = "high";
    public const string Medium = "medium";
    public const string Low = "low";
    public const string Unknown = "unknown";

    private const double Hour = 3600;
    private const double Day = 24 * Hour;
    private const double Week = 7 * Day;
    private const double Month = 30 * Day;
    private const double SixMonths = 180 * Day;

    /// <summary>Deployment frequency answers, worst first.</summary>
    public static readonly string[] FrequencyBuckets =
    [
        "Fewer than once per six months",
        "Between once per month and once every six months",
        "Between once per week and once per month",
        "Between once per day and once per week",
        "Between once per hour and once per day",
        "On demand (multiple deploys per day)",
    ];

    /// <summary>Lead time and recovery time answers, worst first.</summary>
    public static readonly string[] DurationBuckets =
    [
        "More than six months",
        "Between one month and six months",
        "Between one week and one month",
        "Between one day and one week",
        "Between one hour and one day",
        "Less than one hour",
    ];

    /// <summary>Change failure rate answers, worst first.</summary>
    public static readonly string[] FailureRateBuckets = ["76-100%", "61-75%", "46-60%", "31-45%", "16-30%", "0-15%"];

    /// <summary>Step of a deployment frequency (per day): 2 or more a day is "multiple deploys per day".</summary>
    public static int FrequencyStep(double perDay) => perDay switch
    {
        >= 2 => 5,
        >= 1 => 4,
        >= 1.0 / 7 => 3,
        >= 1.0 / 30 => 2,
        >= 1.0 / 180 => 1,
        _ => 0,
    };

    /// <summary>Step of a duration in seconds (months are 30 days, six months 180 days).</summary>
    public static int DurationStep(double seconds) => seconds switch
    {
        < Hour => 5,
        < Day => 4,
        < Week => 3,
        < Month => 2,
        < SixMonths => 1,
        _ => 0,
    };

    /// <summary>Step of a change failure rate (a fraction), in the survey's 15-point bands.</summary>
    public static int FailureRateStep(double ratio) => ratio switch
    {
        <= 0.15 => 5,
        <= 0.30 => 4,
        <= 0.45 => 3,
        <= 0.60 => 2,
        <= 0.75 => 1,
        _ => 0,
    };

    public static string Bucket(DoraMetric metric, double value) => metric switch
    {
        DoraMetric.DeploymentFrequency => FrequencyBuckets[FrequencyStep(value)],
        DoraMetric.ChangeFailureRate => FailureRateBuckets[FailureRateStep(value)],
        _ => DurationBuckets[DurationStep(value)],
    };

    public static int Step(DoraMetric metric, double value) => metric switch
    {
        DoraMetric.DeploymentFrequency => FrequencyStep(value),
        DoraMetric.ChangeFailureRate => FailureRateStep(value),
        _ => DurationStep(value),
    };

    /// <summary>Per-metric bands: elite, high, medium limits. Frequency: at least (per day); durations: below (seconds); failure rate: at most.</summary>
    private readonly Dictionary<DoraMetric, (double Elite, double High, double Medium)> _bands;

    /// <summary>Cluster profiles: the tier, its step on the frequency, lead time and recovery scales, and its change failure rate.</summary>
    private readonly IReadOnlyList<Profile> _profiles;

    private Benchmark(string name, Dictionary<DoraMetric, (double, double, double)> bands, IReadOnlyList<Profile> profiles)
    {
        Name = name;
        _bands = bands;
        _profiles = profiles;
    }

    public string Name { get; }

    /// <summary>The elite, high and medium limits of one metric (see the field's summary for their sense).</summary>
    public (double Elite, double High, double Medium) Bands(DoraMetric metric) => _bands[metric];

    /// <summary>The cluster profiles overall tiers are read against (empty for custom).</summary>
    public IReadOnlyList<Profile> Profiles => _profiles;

    internal sealed record Profile(string Tier, int Frequency, int LeadTime, double FailureRate, int Recovery);

    /// <summary>DORA 2023 (Accelerate State of DevOps report 2023): per-metric bands and the four clusters.</summary>
    public static Benchmark Dora2023 { get; } = new("dora-2023", StandardBands(cfrHigh: 0.10, cfrMedium: 0.15),
    [
        new(Elite, 5, 4, 0.05, 5),
        new(High, 3, 3, 0.10, 4),
        new(Medium, 2, 2, 0.15, 3),
        new(Low, 2, 2, 0.64, 1),
    ]);

    /// <summary>DORA 2024 (Accelerate State of DevOps report 2024): its four clusters; its high cluster's failure rate (20%) is above medium's (10%), so the per-metric failure-rate bands are ordered 5/10/20%.</summary>
    public static Benchmark Dora2024 { get; } = new("dora-2024", StandardBands(cfrHigh: 0.10, cfrMedium: 0.20),
    [
        new(Elite, 5, 4, 0.05, 5),
        new(High, 3, 3, 0.20, 4),
        new(Medium, 2, 2, 0.10, 4),
        new(Low, 1, 1, 0.40, 2),
    ]);

    private static Dictionary<DoraMetric, (double, double, double)> StandardBands(double cfrHigh, double cfrMedium) => new()
    {
        [DoraMetric.DeploymentFrequency] = (1, 1.0 / 7, 1.0 / 30),
        [DoraMetric.LeadTime] = (Day, Week, Month),
        [DoraMetric.ChangeFailureRate] = (0.05, cfrHigh, cfrMedium),
        [DoraMetric.RecoveryTime] = (Hour, Day, Week),
    };

    /// <summary>A benchmark from the spec's thresholds; metrics the spec leaves out use dora-2023's bands. No cluster profiles.</summary>
    public static Benchmark Custom(double[]? frequency, double[]? leadTimeSeconds, double[]? failureRate, double[]? recoverySeconds)
    {
        var bands = StandardBands(0.10, 0.15);
        void Set(DoraMetric m, double[]? v)
        {
            if (v is { Length: 3 }) bands[m] = (v[0], v[1], v[2]);
        }
        Set(DoraMetric.DeploymentFrequency, frequency);
        Set(DoraMetric.LeadTime, leadTimeSeconds);
        Set(DoraMetric.ChangeFailureRate, failureRate);
        Set(DoraMetric.RecoveryTime, recoverySeconds);
        return new Benchmark("custom", bands, []);
    }

    /// <summary>The tier of one metric's value against this benchmark's bands.</summary>
    public string Tier(DoraMetric metric, double value)
    {
        var (elite, high, medium) = _bands[metric];
        return metric switch
        {
            DoraMetric.DeploymentFrequency => value >= elite ? Elite : value >= high ? High : value >= medium ? Medium : Low,
            DoraMetric.ChangeFailureRate => value <= elite ? Elite : value <= high ? High : value <= medium ? Medium : Low,
            _ => value < elite ? Elite : value < high ? High : value < medium ? Medium : Low,
        };
    }

    /// <summary>
    /// The overall tier: the cluster profile nearest to the project's values. Distance is the sum,
    /// over the metrics that have a value, of the difference in steps on DORA's six-step scales
    /// (change failure rate: the difference in percentage points divided by 15, the width of one
    /// survey step). Ties go to the lower tier. Without deployment frequency the tier is unknown.
    /// Custom benchmarks have no profiles: their overall tier is the lowest per-metric tier.
    /// </summary>
    public (string Tier, double? Distance) Overall(double? perDay, double? leadTimeSeconds, double? failureRate, double? recoverySeconds)
    {
        if (perDay is null) return (Unknown, null);
        if (_profiles.Count == 0)
        {
            var tiers = new[]
            {
                Tier(DoraMetric.DeploymentFrequency, perDay.Value),
                leadTimeSeconds is { } lt ? Tier(DoraMetric.LeadTime, lt) : null,
                failureRate is { } cfr ? Tier(DoraMetric.ChangeFailureRate, cfr) : null,
                recoverySeconds is { } rt ? Tier(DoraMetric.RecoveryTime, rt) : null,
            };
            return (tiers.OfType<string>().MinBy(Rank)!, null);
        }
        string best = Unknown;
        var bestDistance = double.MaxValue;
        foreach (var p in _profiles)
        {
            double d = Math.Abs(FrequencyStep(perDay.Value) - p.Frequency);
            if (leadTimeSeconds is { } lt) d += Math.Abs(DurationStep(lt) - p.LeadTime);
            if (failureRate is { } cfr) d += Math.Abs(cfr - p.FailureRate) / 0.15;
            if (recoverySeconds is { } rt) d += Math.Abs(DurationStep(rt) - p.Recovery);
            if (d < bestDistance - 1e-9 || (Math.Abs(d - bestDistance) <= 1e-9 && Rank(p.Tier) < Rank(best)))
            {
                best = p.Tier;
                bestDistance = d;
            }
        }
        return (best, Math.Round(bestDistance, 3));
    }

    /// <summary>low 1 ... elite 4; unknown 0.</summary>
    public static int Rank(string tier) => tier switch
    {
        Elite => 4,
        High => 3,
        Medium => 2,
        Low => 1,
        _ => 0,
    };
}
