using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Operator.Dora;
using DoraOperator.Operator.Projects;

namespace DoraOperator.Operator.Insights;

/// <summary>One project's objects, as read from the caches or listed from a cluster, and how to compute over them.</summary>
internal sealed class ProjectSource(DoraProject project, IReadOnlyList<DeploymentRecord> records, IReadOnlyList<Incident> incidents)
{
    public DoraProject Project { get; } = project;
    public IReadOnlyList<DeploymentRecord> Records { get; } = records;
    public IReadOnlyList<Incident> Incidents { get; } = incidents;
    public string Name => Project.Metadata.Name!;

    /// <summary>The project's numbers over <paramref name="window"/> (default: its own) ending at <paramref name="end"/>.</summary>
    public DoraReport Report(TimeSpan? window, DateTimeOffset end) => DoraCalculator.Compute(ProjectStatusBuilder.Input(Project, Records, Incidents, end, window));

    /// <summary>The window before <paramref name="current"/>'s, of the same length.</summary>
    public DoraReport Previous(DoraReport current) => Report(current.WindowEnd - current.WindowStart, current.WindowStart);

    /// <summary>The samples between two times.</summary>
    public DoraSamples Collect(DateTimeOffset start, DateTimeOffset end) => DoraCalculator.Collect(ProjectStatusBuilder.Input(Project, Records, Incidents, end, end - start));
}

/// <summary>One bucket of a trend chart: the numbers of the changes between its bounds.</summary>
internal sealed record TrendPoint(DateTimeOffset Start, DateTimeOffset End, int Deployments, double? LeadTimeMedianSeconds, int Changes, int FailedChanges, double? RecoveryMedianSeconds)
{
    public double? ChangeFailureRatio => Changes > 0 ? Math.Round((double)FailedChanges / Changes, 4) : null;
}

/// <summary>Everything a project page or report shows: the numbers now and before, weekly trends, the records and incidents of the window.</summary>
internal sealed record ProjectInsight(
    DoraProject Project,
    Benchmark Benchmark,
    DoraReport Report,
    DoraReport Previous,
    IReadOnlyList<TrendPoint> Weekly,
    IReadOnlyList<DeploymentRecord> Records,
    IReadOnlyList<Incident> Incidents)
{
    public string Namespace => Project.Metadata.Namespace!;
    public string Name => Project.Metadata.Name!;
}

/// <summary>A team page's or report's content: the pooled numbers now and before, pooled weekly trends, and each project's own.</summary>
internal sealed record TeamInsight(TeamReport Rollup, TeamReport PreviousRollup, Benchmark Benchmark, IReadOnlyList<TrendPoint> Weekly, IReadOnlyList<ProjectInsight> Members)
{
    public string Team => Rollup.Team;
    public string Environment => Rollup.Environment;
    public DoraReport Report => Rollup.Report;
    public DoraReport Previous => PreviousRollup.Report;
}

/// <summary>Builds the insights pages and reports show, from project sources. Pure.</summary>
internal static class InsightBuilder
{
    public static readonly TimeSpan Week = TimeSpan.FromDays(7);

    public static ProjectInsight Project(ProjectSource source, TimeSpan? window, DateTimeOffset end)
    {
        var report = source.Report(window, end);
        var previous = source.Previous(report);
        var environment = DoraDefaults.EnvironmentOf(source.Project);
        var records = source.Records
            .Where(r => r.Spec.Project == source.Name && DoraDefaults.EnvironmentOf(r) == environment)
            .Select(r => (Record: r, At: DisplayTime(r)))
            .Where(x => x.At is { } t && t >= report.WindowStart && t <= report.WindowEnd)
            .OrderByDescending(x => x.At)
            .ThenByDescending(x => x.Record.Metadata.Name, StringComparer.Ordinal)
            .Select(x => x.Record)
            .ToList();
        var incidents = source.Incidents
            .Where(i => i.Spec.Project == source.Name && DoraCalculator.StartedAt(i) is { } s && s <= report.WindowEnd
                && (s >= report.WindowStart || DoraCalculator.RestoredAt(i) is not { } r || r >= report.WindowStart))
            .OrderByDescending(DoraCalculator.StartedAt)
            .ThenBy(i => i.Metadata.Name, StringComparer.Ordinal)
            .ToList();
        return new ProjectInsight(source.Project, DoraCalculator.BenchmarkFor(source.Project.Spec), report, previous,
            Weekly(report.WindowStart, report.WindowEnd, source.Collect), records, incidents);
    }

    public static TeamInsight Team(string team, string environment, IReadOnlyList<ProjectSource> members, TimeSpan? window, DateTimeOffset end)
    {
        var projects = members.Select(m => Project(m, window, end)).OrderBy(p => p.Namespace, StringComparer.Ordinal).ThenBy(p => p.Name, StringComparer.Ordinal).ToList();
        var current = TeamRollup.Pool(team, environment, [.. projects.Select(p => (p.Project, p.Report))]);
        var previous = TeamRollup.Pool(team, environment, [.. projects.Select(p => (p.Project, p.Previous))]);
        var weekly = Weekly(current.Report.WindowStart, current.Report.WindowEnd, (from, to) => DoraSamples.Pool([.. members.Select(m => m.Collect(from, to))]));
        return new TeamInsight(current, previous, TeamRollup.SharedBenchmark([.. projects.Select(p => p.Project)]), weekly, projects);
    }

    /// <summary>
    /// The window cut into weeks counted back from its end; the oldest bucket is what is left (a
    /// 30-day window has four whole weeks and a two-day bucket), so every point has a bucket that
    /// ends exactly a whole number of weeks before the window does.
    /// </summary>
    public static IReadOnlyList<TrendPoint> Weekly(DateTimeOffset start, DateTimeOffset end, Func<DateTimeOffset, DateTimeOffset, DoraSamples> collect)
    {
        var points = new List<TrendPoint>();
        for (var to = end; to > start; to -= Week)
        {
            var from = to - Week < start ? start : to - Week;
            // The calculator's bounds are inclusive: a change on a boundary belongs to the later bucket only.
            var s = collect(from == start ? from : from.AddTicks(1), to);
            var lead = s.LeadTimes.Order().ToList();
            var recovery = s.FailedChanges.Select(f => f.RecoverySeconds).OfType<double>().Order().ToList();
            points.Add(new TrendPoint(from, to, s.Deployments, Statistics.Quantile(lead, 0.5), s.Changes, s.FailedChanges.Count, Statistics.Quantile(recovery, 0.5)));
        }
        points.Reverse();
        return points;
    }

    /// <summary>The time a record is placed at: when it counts (deployedAt or failedAt), else when its rollout started.</summary>
    public static DateTimeOffset? DisplayTime(DeploymentRecord r) => DoraCalculator.ChangeTime(r) ?? r.Status?.DeployedAt ?? r.Status?.StartedAt ?? r.Metadata.CreationTimestamp;
}
