using DoraOperator.Entities.Dora;
using DoraOperator.Operator.Dora;
using DoraOperator.Operator.Projects;
using static DoraOperator.Operator.Tests.Projects.History;

namespace DoraOperator.Operator.Tests.Projects;

/// <summary>The DORA calculations on scripted histories whose numbers are worked out by hand below.</summary>
public sealed class DoraCalculatorTests
{
    private static readonly DateTimeOffset End = At(11, 30, 0);
    private static readonly DateTimeOffset Start = End.AddDays(-30);

    private static DoraReport Compute(IEnumerable<DeploymentRecord> records, IEnumerable<Incident>? incidents = null, Benchmark? benchmark = null, bool firstCommit = false, DateTimeOffset? start = null) =>
        DoraCalculator.Compute(new DoraInput(records.ToList(), (incidents ?? []).ToList(), "production", start ?? Start, End, benchmark ?? Benchmark.Dora2023, firstCommit));

    /// <summary>
    /// A month of the "api" workload (window 2026-10-31 .. 2026-11-30):
    /// api-1 Succeeded Nov 2 10:00, commit 08:00 (lead 2h); api-2 Succeeded Nov 5 12:00, commit a day before (24h);
    /// api-3 Failed Nov 8 09:00; api-4 fix Succeeded Nov 8 11:00, commit 08:00 (3h; restores api-3 after 2h);
    /// api-5 RolledBack: deployed Nov 12 10:00, commit a day before (24h), rolled back by api-6 deployed 10:40 (recovery 40m; no lead time for a rollback);
    /// api-7 Restart; api-8 Succeeded Nov 18 09:00 (24h) with incident inc-a 12:00..13:30 (recovery 1.5h, detected after 3h);
    /// api-9 config-only Nov 20 (no lead time); api-10 hotfix Nov 25 15:00, commit 14:00 (1h);
    /// outside: old-1 in October, web-1 Superseded, stage-1 in staging; inc-b open and linked to nothing.
    /// </summary>
    private static (List<DeploymentRecord> Records, List<Incident> Incidents) Month() => (
    [
        Record("api-1", "Succeeded", At(11, 2, 10), commit: At(11, 2, 8), changeType: "feature"),
        Record("api-2", "Succeeded", At(11, 5, 12), commit: At(11, 4, 12), changeType: "feature"),
        Record("api-3", "Failed", failedAt: At(11, 8, 9), commit: At(11, 8, 7)),
        Record("api-4", "Succeeded", At(11, 8, 11), commit: At(11, 8, 8), changeType: "fix"),
        Record("api-5", "RolledBack", At(11, 12, 10), commit: At(11, 11, 10), failedAt: At(11, 12, 10, 30), rolledBackBy: "api-6"),
        Record("api-6", "Succeeded", At(11, 12, 10, 40), commit: At(11, 8, 8), rollbackOf: "api-5"),
        Record("api-7", "Restart", At(11, 15, 9), commit: At(11, 8, 8)),
        Record("api-8", "Succeeded", At(11, 18, 9), commit: At(11, 17, 9)),
        Record("api-9", "Succeeded", At(11, 20, 10), commit: At(11, 17, 9), changeType: "config"),
        Record("api-10", "Succeeded", At(11, 25, 15), commit: At(11, 25, 14), changeType: "hotfix"),
        Record("old-1", "Succeeded", At(10, 20, 9), commit: At(10, 19, 9), workload: "old"),
        Record("web-1", "Superseded", workload: "web", startedAt: At(11, 21, 9)),
        Record("stage-1", "Succeeded", At(11, 22, 9), commit: At(11, 22, 8), environment: "staging", workload: "stage"),
    ],
    [
        Incident("inc-a", At(11, 18, 12), restored: At(11, 18, 13, 30), linked: "api-8"),
        Incident("inc-b", At(11, 26, 10)),
    ]);

    [Fact]
    public void MonthGivesTheNumbersWorkedByHand()
    {
        var (records, incidents) = Month();
        var r = Compute(records, incidents);

        // 8 deployments (api-1,2,4,5,6,8,9,10) in 30 days.
        Assert.Equal(8, r.DeploymentFrequency.Count);
        Assert.Equal(0.267, r.DeploymentFrequency.PerDay);
        Assert.Equal(1.867, r.DeploymentFrequency.PerWeek);
        Assert.Equal("Between once per day and once per week", r.DeploymentFrequency.Bucket);
        Assert.Equal("high", r.DeploymentFrequency.Tier);

        // Lead samples 1h, 2h, 3h, 24h, 24h, 24h: median (3h + 24h) / 2 = 13.5h; p90 at rank 4.5 = 24h; mean 13h.
        Assert.Equal(6, r.LeadTime.Samples);
        Assert.Equal(48600, r.LeadTime.MedianSeconds);
        Assert.Equal(86400, r.LeadTime.P90Seconds);
        Assert.Equal(46800, r.LeadTime.MeanSeconds);
        Assert.Equal("Between one hour and one day", r.LeadTime.Bucket);
        Assert.Equal("elite", r.LeadTime.Tier);

        // Changes: 8 deployments + failed api-3 = 9; failed: api-3, api-5, api-8.
        Assert.Equal(3, r.ChangeFailureRate.Count);
        Assert.Equal(9, r.ChangeFailureRate.Total);
        Assert.Equal(0.3333, r.ChangeFailureRate.Ratio);
        Assert.Equal("31-45%", r.ChangeFailureRate.Bucket);
        Assert.Equal("low", r.ChangeFailureRate.Tier);
        Assert.Equal(["api-3", "api-5", "api-8"], r.FailedChanges.Select(f => f.Record));

        // Recovery: api-3 2h (to api-4), api-5 40m (to api-6), api-8 1.5h (inc-a): median 1.5h, p90 at rank 1.8 = 1.5h + 0.8 * 30m.
        Assert.Equal([7200, 2400, 5400], r.FailedChanges.Select(f => f.RecoverySeconds!.Value));
        Assert.Equal(3, r.RecoveryTime.Samples);
        Assert.Equal(5400, r.RecoveryTime.MedianSeconds);
        Assert.Equal(6840, r.RecoveryTime.P90Seconds);
        Assert.Equal(5000, r.RecoveryTime.MeanSeconds);
        Assert.Equal("high", r.RecoveryTime.Tier);

        // Rework: api-4 (fix) and api-10 (hotfix) of 8.
        Assert.Equal(2, r.ReworkRate.Count);
        Assert.Equal(0.25, r.ReworkRate.Ratio);

        Assert.Equal(1, r.OpenIncidents);
        Assert.Equal("api-10", r.LastDeployment!.Record);
        Assert.Equal(1, r.TimeToDetect.Samples);
        Assert.Equal(10800, r.TimeToDetect.MedianSeconds);

        // Nearest 2023 profile: high (DF step 3 = 3, LT step 4 vs 3, CFR |33.3% - 10%| / 15%, RT step 4 = 4) = 2.556.
        Assert.Equal("high", r.Tier);
        Assert.Equal(2.556, r.TierDistance);
    }

    [Fact]
    public void MonthStatusShowsTheColumns()
    {
        var (records, incidents) = Month();
        var project = new DoraProject { Metadata = new() { Name = "shop", Namespace = "team", Generation = 1 } };
        var report = Compute(records, incidents);
        var status = ProjectStatusBuilder.Build(project, report, (true, "Calculated", "x"), End);
        Assert.Equal("0.27", status.Display!.DeploysPerDay);
        Assert.Equal("13.5h", status.Display.LeadTime);
        Assert.Equal("33% (3/9)", status.Display.ChangeFailureRate);
        Assert.Equal("1.5h", status.Display.RecoveryTime);
        Assert.Equal("high", status.Display.Tier);
        Assert.Equal("True", status.Conditions!.Single().Status);
    }

    [Fact]
    public void EmptyWindowHasNoValuesAndUnknownTiers()
    {
        var r = Compute([]);
        Assert.Equal(0, r.DeploymentFrequency.Count);
        Assert.Null(r.DeploymentFrequency.PerDay);
        Assert.Equal("unknown", r.DeploymentFrequency.Tier);
        Assert.Null(r.LeadTime.MedianSeconds);
        Assert.Equal("unknown", r.LeadTime.Tier);
        Assert.Null(r.ChangeFailureRate.Ratio);
        Assert.Equal(0, r.ChangeFailureRate.Total);
        Assert.Equal("unknown", r.ChangeFailureRate.Tier);
        Assert.Equal("unknown", r.RecoveryTime.Tier);
        Assert.Equal("unknown", r.Tier);
        Assert.Null(r.LastDeployment);
    }

    [Fact]
    public void OneSampleIsItsOwnMedianP90AndMean()
    {
        var r = Compute([Record("api-1", "Succeeded", At(11, 10, 12), commit: At(11, 10, 11))]);
        Assert.Equal(1, r.LeadTime.Samples);
        Assert.Equal(3600, r.LeadTime.MedianSeconds);
        Assert.Equal(3600, r.LeadTime.P90Seconds);
        Assert.Equal(3600, r.LeadTime.MeanSeconds);
        Assert.Equal("Between one hour and one day", r.LeadTime.Bucket);
    }

    [Fact]
    public void AllFailedIsAFullFailureRateWithNoDeploymentFrequency()
    {
        var r = Compute(
        [
            Record("api-1", "Failed", failedAt: At(11, 10, 12)),
            Record("api-2", "Failed", failedAt: At(11, 11, 12)),
        ]);
        Assert.Equal(0, r.DeploymentFrequency.Count);
        Assert.Equal(1.0, r.ChangeFailureRate.Ratio);
        Assert.Equal(2, r.ChangeFailureRate.Total);
        Assert.Equal("low", r.ChangeFailureRate.Tier);
        Assert.Equal(0, r.RecoveryTime.Samples);
        Assert.Equal("unknown", r.Tier);
    }

    [Fact]
    public void IncidentWithoutDeploymentIsOpenButFailsNoChange()
    {
        var r = Compute([Record("api-1", "Succeeded", At(11, 10, 12))], [Incident("inc", At(11, 10, 13))]);
        Assert.Equal(0, r.ChangeFailureRate.Count);
        Assert.Equal(1, r.OpenIncidents);
        Assert.Equal(0, r.TimeToDetect.Samples);
    }

    [Fact]
    public void SeveralIncidentsFailADeploymentOnceAndRecoverWhenTheLastIsRestored()
    {
        var records = new[] { Record("api-1", "Succeeded", At(11, 10, 12)) };
        var open = Compute(records, [Incident("a", At(11, 10, 13), At(11, 10, 14), linked: "api-1"), Incident("b", At(11, 10, 13, 30), linked: "api-1")]);
        Assert.Equal(1, open.ChangeFailureRate.Count);
        Assert.Equal(1, open.ChangeFailureRate.Total);
        Assert.Equal(0, open.RecoveryTime.Samples);

        var restored = Compute(records, [Incident("a", At(11, 10, 13), At(11, 10, 14), linked: "api-1"), Incident("b", At(11, 10, 13, 30), At(11, 10, 15), linked: "api-1")]);
        Assert.Equal(1, restored.ChangeFailureRate.Count);
        Assert.Equal(7200, restored.RecoveryTime.MedianSeconds);
    }

    [Fact]
    public void InvalidIncidentCountsNowhere()
    {
        var r = Compute([Record("api-1", "Succeeded", At(11, 10, 12))], [Incident("a", At(11, 10, 13), linked: "api-1", invalid: true)]);
        Assert.Equal(0, r.ChangeFailureRate.Count);
        Assert.Equal(0, r.OpenIncidents);
    }

    [Fact]
    public void WindowBoundariesAreInclusive()
    {
        var r = Compute(
        [
            Record("api-1", "Succeeded", Start.AddSeconds(-1)),
            Record("api-2", "Succeeded", Start),
            Record("api-3", "Succeeded", End),
            Record("api-4", "Succeeded", End.AddSeconds(1)),
        ]);
        Assert.Equal(2, r.DeploymentFrequency.Count);
    }

    [Fact]
    public void DeploymentWithoutCommitTimeCountsButHasNoLeadTime()
    {
        var r = Compute([Record("api-1", "Succeeded", At(11, 10, 12)), Record("api-2", "Succeeded", At(11, 11, 12), commit: At(11, 11, 11, 30))]);
        Assert.Equal(2, r.DeploymentFrequency.Count);
        Assert.Equal(1, r.LeadTime.Samples);
        Assert.Equal(1800, r.LeadTime.MedianSeconds);
        Assert.Equal("Less than one hour", r.LeadTime.Bucket);
    }

    [Fact]
    public void LeadTimeFromFirstCommitWhenTheProjectAsks()
    {
        var record = Record("api-1", "Succeeded", At(11, 10, 12), commit: At(11, 10, 11), firstCommit: At(11, 9, 12));
        Assert.Equal(3600, Compute([record]).LeadTime.MedianSeconds);
        Assert.Equal(86400, Compute([record], firstCommit: true).LeadTime.MedianSeconds);
    }

    [Fact]
    public void FailedRolloutNotYetFollowedByADeploymentIsNotRecovered()
    {
        var r = Compute([Record("api-1", "Succeeded", At(11, 1, 12)), Record("api-2", "Failed", failedAt: At(11, 10, 12)), Record("web-3", "Succeeded", At(11, 11, 12), workload: "web")]);
        Assert.Null(r.FailedChanges.Single().RestoredAt);
        Assert.Equal(0, r.RecoveryTime.Samples);
    }

    [Theory]
    [InlineData(0.1, "Between once per week and once per month", "medium")]
    [InlineData(0.02, "Between once per month and once every six months", "low")]
    [InlineData(1.0 / 7, "Between once per day and once per week", "high")]
    [InlineData(1, "Between once per hour and once per day", "elite")]
    [InlineData(3, "On demand (multiple deploys per day)", "elite")]
    [InlineData(0.001, "Fewer than once per six months", "low")]
    public void FrequencyBucketsAndTiers(double perDay, string bucket, string tier)
    {
        Assert.Equal(bucket, Benchmark.Bucket(DoraMetric.DeploymentFrequency, perDay));
        Assert.Equal(tier, Benchmark.Dora2023.Tier(DoraMetric.DeploymentFrequency, perDay));
    }

    [Theory]
    [InlineData("LeadTime", 86399, "elite")]
    [InlineData("LeadTime", 86400, "high")]
    [InlineData("LeadTime", 7 * 86400, "medium")]
    [InlineData("LeadTime", 30 * 86400, "low")]
    [InlineData("ChangeFailureRate", 0.05, "elite")]
    [InlineData("ChangeFailureRate", 0.10, "high")]
    [InlineData("ChangeFailureRate", 0.15, "medium")]
    [InlineData("ChangeFailureRate", 0.151, "low")]
    [InlineData("RecoveryTime", 3599, "elite")]
    [InlineData("RecoveryTime", 3600, "high")]
    [InlineData("RecoveryTime", 86400, "medium")]
    [InlineData("RecoveryTime", 7 * 86400, "low")]
    public void Dora2023Bands(string metric, double value, string tier) => Assert.Equal(tier, Benchmark.Dora2023.Tier(Enum.Parse<DoraMetric>(metric), value));

    [Theory]
    [InlineData(3, 1800, 0.02, 600, "elite")]
    [InlineData(0.5, 3 * 86400, 0.08, 7200, "high")]
    [InlineData(0.1, 10 * 86400, 0.14, 2 * 86400, "medium")]
    [InlineData(0.1, 10 * 86400, 0.6, 60 * 86400, "low")]
    public void OverallTierIsTheNearest2023Cluster(double perDay, double lead, double cfr, double recovery, string tier) =>
        Assert.Equal(tier, Benchmark.Dora2023.Overall(perDay, lead, cfr, recovery).Tier);

    [Fact]
    public void OverallTierWithoutDeploymentsIsUnknown()
    {
        Assert.Equal(("unknown", null), Benchmark.Dora2023.Overall(null, 60, 0, 60));
    }

    [Fact]
    public void CustomBenchmarkUsesTheSpecThresholdsAndTheLowestTier()
    {
        var spec = new DoraProjectSpec
        {
            Benchmark = "custom",
            Thresholds = new CustomThresholds
            {
                DeploymentFrequency = new RateBands { Elite = 5, High = 2, Medium = 1 },
                LeadTime = new DurationBands { Elite = "2h", High = "1d", Medium = "1w" },
            },
        };
        var b = DoraCalculator.BenchmarkFor(spec);
        Assert.Equal("custom", b.Name);
        Assert.Equal("medium", b.Tier(DoraMetric.DeploymentFrequency, 1.5));
        Assert.Equal("high", b.Tier(DoraMetric.LeadTime, 3 * 3600));
        Assert.Equal("elite", b.Tier(DoraMetric.ChangeFailureRate, 0.01));
        Assert.Equal("medium", b.Overall(1.5, 3 * 3600, 0.01, null).Tier);
    }

    [Fact]
    public void Dora2024ReadsThe2024Clusters()
    {
        Assert.Equal("dora-2024", DoraCalculator.BenchmarkFor(new DoraProjectSpec { Benchmark = "dora-2024" }).Name);
        // Monthly deploys, lead time in months, 40% failures, recovery in weeks: 2024's low cluster.
        Assert.Equal("low", Benchmark.Dora2024.Overall(1.0 / 40, 60 * 86400, 0.4, 10 * 86400).Tier);
    }
}
