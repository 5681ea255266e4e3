using DoraOperator.Entities.Dora;
using DoraOperator.Kube.Meta;
using DoraOperator.Operator.Dora;
using DoraOperator.Operator.Insights;
using DoraOperator.Operator.Projects;
using static DoraOperator.Operator.Tests.Projects.History;

namespace DoraOperator.Operator.Tests.Insights;

/// <summary>Pooling and weekly buckets on histories small enough to check by hand.</summary>
public sealed class InsightsTests
{
    private static readonly DateTimeOffset End = At(11, 30, 0);

    private static DoraProject Project(string name, string? team = "web", string? benchmark = null) => new()
    {
        Metadata = new ObjectMeta { Name = name, Namespace = "team" },
        Spec = new DoraProjectSpec { Team = team, Benchmark = benchmark },
    };

    [Fact]
    public void TeamMedianIsOverThePooledSamples_NotTheMeanOfMedians()
    {
        // a: lead times 1h, 2h, 3h (median 2h); b: 10h, 50h (median 30h). Pooled: 1, 2, 3, 10, 50 -> 3h; the mean of medians would be 16h.
        var a = new ProjectSource(Project("a"), [
            Record("a-1", "Succeeded", At(11, 10, 10), commit: At(11, 10, 9), project: "a"),
            Record("a-2", "Succeeded", At(11, 12, 10), commit: At(11, 12, 8), project: "a"),
            Record("a-3", "Failed", failedAt: At(11, 13, 10), project: "a"),
            Record("a-4", "Succeeded", At(11, 14, 10), commit: At(11, 14, 7), project: "a"),
        ], []);
        var b = new ProjectSource(Project("b"), [
            Record("b-1", "Succeeded", At(11, 20, 10), commit: At(11, 20, 0), project: "b", workload: "b"),
            Record("b-2", "Succeeded", At(11, 25, 10), commit: At(11, 23, 8), project: "b", workload: "b"),
        ], []);
        var team = TeamRollup.Pool("web", "production", [(a.Project, a.Report(null, End)), (b.Project, b.Report(null, End))]);
        Assert.Equal(3 * 3600, team.Report.LeadTime.MedianSeconds);
        Assert.Equal(5, team.Report.LeadTime.Samples);
        Assert.Equal(5, team.Report.DeploymentFrequency.Count);
        Assert.Equal(Math.Round(5 / 30.0, 3), team.Report.DeploymentFrequency.PerDay);
        // One failed change (a-3) of six changes; restored by a-4 a day later.
        Assert.Equal(Math.Round(1 / 6.0, 4), team.Report.ChangeFailureRate.Ratio);
        Assert.Equal(86400, team.Report.RecoveryTime.MedianSeconds);
        Assert.Equal(["a", "b"], team.Members.Select(m => m.Project.Metadata.Name));
    }

    [Fact]
    public void TeamBenchmarkIsTheSharedOne_OrTheDefault()
    {
        Assert.Equal("dora-2024", TeamRollup.SharedBenchmark([Project("a", benchmark: "dora-2024"), Project("b", benchmark: "dora-2024")]).Name);
        Assert.Equal("dora-2023", TeamRollup.SharedBenchmark([Project("a", benchmark: "dora-2024"), Project("b")]).Name);
        Assert.Equal("dora-2023", TeamRollup.SharedBenchmark([Project("a", benchmark: "custom"), Project("b", benchmark: "custom")]).Name);
    }

    [Fact]
    public void TeamsAreKeyedByTeamAndEnvironment_AndProjectsWithoutATeamBelongToNone()
    {
        var staging = Project("s");
        staging.Spec.Environment = "staging";
        var keys = TeamRollup.Keys([Project("a"), Project("b"), staging, Project("c", team: null), Project("d", team: "api")]).ToList();
        Assert.Equal([("api", "production"), ("web", "production"), ("web", "staging")], keys);
    }

    [Theory]
    [InlineData(30, 5)]
    [InlineData(28, 4)]
    [InlineData(7, 1)]
    [InlineData(1, 1)]
    public void WeeklyBucketsCountBackFromTheEnd(int days, int buckets)
    {
        var points = InsightBuilder.Weekly(End.AddDays(-days), End, (from, to) => Empty(from, to));
        Assert.Equal(buckets, points.Count);
        Assert.Equal(End, points[^1].End);
        Assert.Equal(End.AddDays(-days), points[0].Start);
        for (var i = 1; i < points.Count; i++) Assert.Equal(points[i - 1].End, points[i].Start);
    }

    [Fact]
    public void AChangeOnABucketBoundaryIsCountedOnce()
    {
        var boundary = End.AddDays(-7);
        var source = new ProjectSource(Project("a"), [Record("a-1", "Succeeded", boundary, commit: boundary.AddHours(-1), project: "a")], []);
        var points = InsightBuilder.Weekly(End.AddDays(-14), End, source.Collect);
        Assert.Equal([1, 0], points.Select(p => p.Deployments));
        Assert.Equal(3600, points[0].LeadTimeMedianSeconds);
        Assert.Null(points[1].LeadTimeMedianSeconds);
    }

    [Fact]
    public void ProjectPage_LinksOnlyToRecordsItLists()
    {
        // 205 newer deployments push the older failed change out of the 200 listed records.
        var records = Enumerable.Range(0, 205).Select(i => Record($"ok-{i}", "Succeeded", End.AddHours(-1 - i), commit: End.AddHours(-2 - i), project: "a")).ToList();
        records.Add(Record("new-fail", "Failed", failedAt: End.AddMinutes(-30), project: "a"));
        records.Add(Record("old-fail", "Failed", failedAt: End.AddDays(-20), project: "a"));
        var html = DashboardHtml.Project(InsightBuilder.Project(new ProjectSource(Project("a"), records, []), null, End), End);
        Assert.Contains("href=\"#record-new-fail\"", html);
        Assert.Contains("id=\"record-new-fail\"", html);
        Assert.DoesNotContain("id=\"record-old-fail\"", html);
        Assert.DoesNotContain("href=\"#record-old-fail\"", html);
        Assert.Contains("<td>old-fail</td>", html);
        Assert.Contains("7 older records are not listed", html);
    }

    private static DoraSamples Empty(DateTimeOffset from, DateTimeOffset to) => new()
    {
        WindowStart = from, WindowEnd = to, DeploymentsPerDay = 0, Deployments = 0, Changes = 0, Rework = 0, LeadTimes = [], Durations = [], DetectTimes = [], FailedChanges = [], OpenIncidents = 0,
    };
}
