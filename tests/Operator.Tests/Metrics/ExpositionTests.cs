using System.Diagnostics.Metrics;
using DoraOperator.Entities.Dora;
using DoraOperator.Kube.Meta;
using DoraOperator.Operator.Metrics;
using DoraOperator.Operator.Dora;
using DoraOperator.Operator.Projects;
using Microsoft.Extensions.DependencyInjection;

namespace DoraOperator.Operator.Tests.Metrics;

/// <summary>
/// Metrics tests share one process-wide meter name, so they run alone (no other operator's
/// instruments are alive while they collect).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsCollection
{
    public const string Name = "metrics";
}

/// <summary>The exposition format, pinned by a golden text, plus leader-only export and cardinality.</summary>
[Collection(MetricsCollection.Name)]
public sealed class ExpositionTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly OperatorMetrics _metrics;
    private readonly MetricsPipeline _pipeline;
    private readonly List<(DoraProject, DoraReport)> _reports = [];
    private bool _leader = true;

    public ExpositionTests()
    {
        _metrics = new OperatorMetrics(_services.GetRequiredService<IMeterFactory>());
        _metrics.Observe(() => [("rollouts", 2)], () => [("deployments", 1, 7L)], () => _leader, () => _reports);
        _pipeline = new MetricsPipeline(new MetricsExportOptions(), () => _leader);
    }

    public void Dispose()
    {
        _pipeline.Dispose();
        _services.Dispose();
    }

    private static DoraProject Project(string name, string team = "checkout") => new()
    {
        Metadata = new ObjectMeta { Name = name, Namespace = "shop" },
        Spec = new DoraProjectSpec { Team = team, Environment = "production", Window = "30d" },
    };

    private static DoraReport Report(double perDay, double? lead, double? cfr, string tier = "high") => new()
    {
        WindowStart = DateTimeOffset.UnixEpoch,
        WindowEnd = DateTimeOffset.UnixEpoch,
        Benchmark = "dora-2023",
        DeploymentFrequency = new FrequencyMetric { PerDay = perDay, Count = 3, Tier = "high" },
        LeadTime = new DurationMetric { MedianSeconds = lead, Samples = lead is null ? 0 : 3, Tier = lead is null ? "unknown" : "elite" },
        ChangeFailureRate = new RatioMetric { Ratio = cfr, Count = 1, Total = 3, Tier = "low" },
        RecoveryTime = new DurationMetric { Samples = 0, Tier = "unknown" },
        ReworkRate = new RatioMetric { Ratio = 0, Count = 0, Total = 3 },
        DeploymentDuration = new DurationMetric(),
        TimeToDetect = new DurationMetric(),
        Samples = new DoraSamples
        {
            WindowStart = DateTimeOffset.UnixEpoch, WindowEnd = DateTimeOffset.UnixEpoch, DeploymentsPerDay = perDay, Deployments = 3, Changes = 3, Rework = 0,
            LeadTimes = lead is { } l ? [l, l, l] : [], Durations = [], DetectTimes = [], FailedChanges = cfr > 0 ? [new FailedChange("r", "Failed", DateTimeOffset.UnixEpoch, null)] : [], OpenIncidents = 1,
        },
        Tier = tier,
        OpenIncidents = 1,
        FailedChanges = [],
    };

    private string Scrape(bool openMetrics = false) => _pipeline.Exposition.Scrape(openMetrics);

    [Fact]
    public void GoldenTextForASmallState()
    {
        _reports.Add((Project("pay\"ments"), Report(0.1, 3600, 1.0 / 3)));
        var tags = OperatorMetrics.Tags("shop", "pay\"ments", "checkout", "production");
        _metrics.Deployments.Add(2, [.. tags, new("outcome", "succeeded")]);
        _metrics.LeadTime.Record(120, tags);
        _metrics.LeadTime.Record(7200, tags);

        var text = Scrape();
        var dora = string.Join('\n', text.Split('\n').Where(l => !l.Contains("dora_operator_", StringComparison.Ordinal)));
        const string Expected = """
            # HELP dora_deployments_total Rollouts that finished, by outcome: succeeded (reached the environment), failed (never did), rolled_back (was rolled back; also counted as succeeded or failed).
            # TYPE dora_deployments_total counter
            dora_deployments_total{environment="production",namespace="shop",outcome="succeeded",project="pay\"ments",team="checkout"} 2
            # HELP dora_deployment_lead_time_seconds Change lead time of each deployment (commit to running in the environment).
            # TYPE dora_deployment_lead_time_seconds histogram
            dora_deployment_lead_time_seconds_bucket{environment="production",namespace="shop",project="pay\"ments",team="checkout",le="60"} 0
            dora_deployment_lead_time_seconds_bucket{environment="production",namespace="shop",project="pay\"ments",team="checkout",le="300"} 1
            dora_deployment_lead_time_seconds_bucket{environment="production",namespace="shop",project="pay\"ments",team="checkout",le="900"} 1
            dora_deployment_lead_time_seconds_bucket{environment="production",namespace="shop",project="pay\"ments",team="checkout",le="1800"} 1
            dora_deployment_lead_time_seconds_bucket{environment="production",namespace="shop",project="pay\"ments",team="checkout",le="3600"} 1
            dora_deployment_lead_time_seconds_bucket{environment="production",namespace="shop",project="pay\"ments",team="checkout",le="7200"} 2
            dora_deployment_lead_time_seconds_bucket{environment="production",namespace="shop",project="pay\"ments",team="checkout",le="14400"} 2
            dora_deployment_lead_time_seconds_bucket{environment="production",namespace="shop",project="pay\"ments",team="checkout",le="28800"} 2
            dora_deployment_lead_time_seconds_bucket{environment="production",namespace="shop",project="pay\"ments",team="checkout",le="86400"} 2
            dora_deployment_lead_time_seconds_bucket{environment="production",namespace="shop",project="pay\"ments",team="checkout",le="172800"} 2
            dora_deployment_lead_time_seconds_bucket{environment="production",namespace="shop",project="pay\"ments",team="checkout",le="345600"} 2
            dora_deployment_lead_time_seconds_bucket{environment="production",namespace="shop",project="pay\"ments",team="checkout",le="604800"} 2
            dora_deployment_lead_time_seconds_bucket{environment="production",namespace="shop",project="pay\"ments",team="checkout",le="1209600"} 2
            dora_deployment_lead_time_seconds_bucket{environment="production",namespace="shop",project="pay\"ments",team="checkout",le="2592000"} 2
            dora_deployment_lead_time_seconds_bucket{environment="production",namespace="shop",project="pay\"ments",team="checkout",le="7776000"} 2
            dora_deployment_lead_time_seconds_bucket{environment="production",namespace="shop",project="pay\"ments",team="checkout",le="15552000"} 2
            dora_deployment_lead_time_seconds_bucket{environment="production",namespace="shop",project="pay\"ments",team="checkout",le="+Inf"} 2
            dora_deployment_lead_time_seconds_sum{environment="production",namespace="shop",project="pay\"ments",team="checkout"} 7320
            dora_deployment_lead_time_seconds_count{environment="production",namespace="shop",project="pay\"ments",team="checkout"} 2
            # HELP dora_deployment_frequency_per_day Successful deployments per day over the project's window.
            # TYPE dora_deployment_frequency_per_day gauge
            dora_deployment_frequency_per_day{environment="production",namespace="shop",project="pay\"ments",team="checkout"} 0.1
            # HELP dora_lead_time_median_seconds Median change lead time over the project's window.
            # TYPE dora_lead_time_median_seconds gauge
            dora_lead_time_median_seconds{environment="production",namespace="shop",project="pay\"ments",team="checkout"} 3600
            # HELP dora_change_failure_ratio Failed changes / changes over the project's window (0..1).
            # TYPE dora_change_failure_ratio gauge
            dora_change_failure_ratio{environment="production",namespace="shop",project="pay\"ments",team="checkout"} 0.3333333333333333
            # HELP dora_rework_ratio Share of deployments with change type fix or hotfix over the project's window (0..1).
            # TYPE dora_rework_ratio gauge
            dora_rework_ratio{environment="production",namespace="shop",project="pay\"ments",team="checkout"} 0
            # HELP dora_incidents_open Incidents of the project not yet restored.
            # TYPE dora_incidents_open gauge
            dora_incidents_open{environment="production",namespace="shop",project="pay\"ments",team="checkout"} 1
            # HELP dora_tier 1 for the project's current tier per metric (deployment_frequency, lead_time, change_failure_rate, recovery_time, overall).
            # TYPE dora_tier gauge
            dora_tier{environment="production",metric="deployment_frequency",namespace="shop",project="pay\"ments",team="checkout",tier="high"} 1
            dora_tier{environment="production",metric="lead_time",namespace="shop",project="pay\"ments",team="checkout",tier="elite"} 1
            dora_tier{environment="production",metric="change_failure_rate",namespace="shop",project="pay\"ments",team="checkout",tier="low"} 1
            dora_tier{environment="production",metric="recovery_time",namespace="shop",project="pay\"ments",team="checkout",tier="unknown"} 1
            dora_tier{environment="production",metric="overall",namespace="shop",project="pay\"ments",team="checkout",tier="high"} 1
            # HELP dora_team_deployment_frequency_per_day Successful deployments per day of all the team's projects (each over its own window).
            # TYPE dora_team_deployment_frequency_per_day gauge
            dora_team_deployment_frequency_per_day{environment="production",team="checkout"} 0.1
            # HELP dora_team_lead_time_median_seconds Median change lead time over the pooled lead times of the team's projects.
            # TYPE dora_team_lead_time_median_seconds gauge
            dora_team_lead_time_median_seconds{environment="production",team="checkout"} 3600
            # HELP dora_team_change_failure_ratio Failed changes / changes of all the team's projects (0..1).
            # TYPE dora_team_change_failure_ratio gauge
            dora_team_change_failure_ratio{environment="production",team="checkout"} 0.3333
            # HELP dora_team_tier 1 for the team's overall tier.
            # TYPE dora_team_tier gauge
            dora_team_tier{environment="production",team="checkout",tier="medium"} 1
            # HELP dora_project_info Static facts about each project; always 1.
            # TYPE dora_project_info gauge
            dora_project_info{benchmark="dora-2023",environment="production",namespace="shop",project="pay\"ments",team="checkout",window="30d"} 1
            """;
        Assert.Equal(Expected.ReplaceLineEndings("\n"), dora.Trim());
    }

    [Fact]
    public void OpenMetricsNamesCounterFamiliesWithoutTotalAndEndsWithEof()
    {
        _metrics.Deployments.Add(1, [.. OperatorMetrics.Tags("shop", "a", "t", "production"), new("outcome", "failed")]);
        _metrics.LeadTime.Record(60, OperatorMetrics.Tags("shop", "a", "t", "production"));
        var text = Scrape(openMetrics: true);
        Assert.Contains("# TYPE dora_deployments counter\n", text);
        Assert.Contains("dora_deployments_total{", text);
        Assert.Contains("# UNIT dora_deployment_lead_time_seconds seconds\n", text);
        Assert.EndsWith("# EOF\n", text);
        Assert.DoesNotContain("deployment_environment_name", text);
    }

    [Fact]
    public void AFollowerExportsHealthSeriesButNoDORASeries()
    {
        _reports.Add((Project("a"), Report(1, 60, 0)));
        _metrics.Deployments.Add(1, [.. OperatorMetrics.Tags("shop", "a", "t", "production"), new("outcome", "succeeded")]);
        _leader = false;
        var text = Scrape();
        Assert.Contains("dora_operator_leader 0", text);
        Assert.Contains("dora_operator_workqueue_depth{controller=\"rollouts\"} 2", text);
        Assert.DoesNotMatch(@"(?m)^dora_(?!operator_)", text);
        _leader = true;
        Assert.Matches(@"(?m)^dora_deployments_total\{", Scrape());
    }

    [Fact]
    public void AThousandProjectsGiveExactlyTheExpectedSeries()
    {
        for (var i = 0; i < 1000; i++) _reports.Add((Project($"p{i}", team: $"t{i % 7}"), Report(1, i % 2 == 0 ? 60 : null, 0)));
        var text = Scrape();
        int Count(string family) => text.Split('\n').Count(l => l.StartsWith(family + "{", StringComparison.Ordinal));
        Assert.Equal(1000, Count("dora_deployment_frequency_per_day"));
        Assert.Equal(500, Count("dora_lead_time_median_seconds"));
        Assert.Equal(1000, Count("dora_change_failure_ratio"));
        Assert.Equal(0, Count("dora_recovery_time_median_seconds"));
        Assert.Equal(1000, Count("dora_incidents_open"));
        Assert.Equal(5000, Count("dora_tier"));
        Assert.Equal(1000, Count("dora_project_info"));
    }

    [Fact]
    public void SeriesBeyondTheLimitAreSummedIntoTheOverflowSeriesAndReportedOnce()
    {
        // Room for 20 projects: 25 per project for dora_tier (625 with the quarter's headroom), 25 for
        // dora_deployment_frequency_per_day; 30 projects fill the second but not the first.
        var options = new MetricsExportOptions { MaxProjects = 20 };
        Assert.Equal(625, options.SeriesLimit("dora_tier"));
        Assert.Equal(25, options.SeriesLimit("dora_deployment_frequency_per_day"));
        Assert.Equal(MetricsExportOptions.HealthSeriesLimit, options.SeriesLimit("dora_operator_workqueue_depth"));
        using var small = new MetricsPipeline(options, () => true);
        var overflowed = new List<string>();
        small.Exposition.Overflowed = overflowed.Add;
        for (var i = 0; i < 30; i++) _reports.Add((Project($"p{i}"), Report(1, 60, 0)));
        var text = small.Exposition.Scrape(openMetrics: false);
        int Count(string family) => text.Split('\n').Count(l => l.StartsWith(family + "{", StringComparison.Ordinal));
        Assert.Equal(150, Count("dora_tier"));
        // 25 kept, the other 5 folded into one overflow series.
        Assert.Equal(26, Count("dora_deployment_frequency_per_day"));
        Assert.Single(text.Split('\n'), l => l.StartsWith("dora_deployment_frequency_per_day{otel_metric_overflow=\"true\"} ", StringComparison.Ordinal));
        small.Exposition.Scrape(openMetrics: false);
        Assert.Contains("dora_deployment_frequency_per_day", overflowed);
        Assert.DoesNotContain("dora_tier", overflowed);
        Assert.Equal(overflowed.Distinct().Count(), overflowed.Count);
        Assert.DoesNotContain("otel_metric_overflow", Scrape());
    }

    [Fact]
    public void TheUtf8Buffer_IsReusedOnceGivenBack_AndAScrapeWhileItIsOut_GetsItsOwn()
    {
        _reports.Add((Project("pay\u00e9"), Report(1, 60, 0))); // a non-ASCII label value: UTF-8 is longer than the text
        // The project's series (the process gauges, heap and working set, move between scrapes).
        static string Series(string text) => string.Join('\n', text.Split('\n').Where(l => l.Contains("project=", StringComparison.Ordinal)));
        static string Text((byte[] Buffer, int Length) rented) => System.Text.Encoding.UTF8.GetString(rented.Buffer, 0, rented.Length);
        var expected = Series(Scrape());
        Assert.Contains("project=\"pay\u00e9\"", expected);
        var first = _pipeline.Exposition.RentUtf8(openMetrics: false);
        var whileOut = _pipeline.Exposition.RentUtf8(openMetrics: false);
        Assert.NotSame(first.Buffer, whileOut.Buffer);
        Assert.Equal(expected, Series(Text(first)));
        Assert.Equal(expected, Series(Text(whileOut)));
        _pipeline.Exposition.ReturnUtf8(whileOut.Buffer);
        _pipeline.Exposition.ReturnUtf8(first.Buffer);
        var again = _pipeline.Exposition.RentUtf8(openMetrics: true);
        Assert.True(ReferenceEquals(again.Buffer, first.Buffer) || ReferenceEquals(again.Buffer, whileOut.Buffer), "a given-back buffer is reused");
        Assert.EndsWith("# EOF\n", Text(again));
        _pipeline.Exposition.ReturnUtf8(again.Buffer);
        Assert.Equal(expected, Series(System.Text.Encoding.UTF8.GetString(_pipeline.Exposition.ScrapeUtf8(openMetrics: false))));
    }

    [Fact]
    public void ATierThatChangesReplacesItsSeries()
    {
        _reports.Add((Project("a"), Report(1, 60, 0)));
        Assert.Contains("dora_tier{environment=\"production\",metric=\"overall\",namespace=\"shop\",project=\"a\",team=\"checkout\",tier=\"high\"} 1", Scrape());
        _reports[0] = (Project("a"), Report(1, 60, 0, tier: "elite"));
        var text = Scrape();
        Assert.Contains("metric=\"overall\",namespace=\"shop\",project=\"a\",team=\"checkout\",tier=\"elite\"} 1", text);
        Assert.DoesNotContain("metric=\"overall\",namespace=\"shop\",project=\"a\",team=\"checkout\",tier=\"high\"}", text);
    }
}
