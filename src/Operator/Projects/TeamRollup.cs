using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Operator.Dora;

namespace DoraOperator.Operator.Projects;

/// <summary>One team's projects in one environment and their pooled numbers.</summary>
internal sealed record TeamReport(string Team, string Environment, IReadOnlyList<(DoraProject Project, DoraReport Report)> Members, DoraReport Report);

/// <summary>
/// Team rollups: every DoraProject with the same <c>spec.team</c>, across namespaces, pooled per
/// environment (production and staging are never mixed). Counts and deployments per day sum, each
/// project over its own window (or the window asked for); lead and recovery times are medians of
/// the pooled samples, not means of the projects' medians. The tier is computed against the
/// benchmark the projects share, or dora-2023 (the default) when they differ. Pure.
/// </summary>
internal static class TeamRollup
{
    /// <summary>The (team, environment) pairs of the projects, in order; projects without a team belong to none.</summary>
    public static IEnumerable<(string Team, string Environment)> Keys(IEnumerable<DoraProject> projects) => projects
        .Where(p => !string.IsNullOrEmpty(p.Spec.Team))
        .Select(p => (Team: p.Spec.Team!, Environment: DoraDefaults.EnvironmentOf(p)))
        .Distinct()
        .OrderBy(k => k.Team, StringComparer.Ordinal)
        .ThenBy(k => k.Environment, StringComparer.Ordinal);

    /// <summary>Every team of <paramref name="reports"/>, pooled.</summary>
    public static IEnumerable<TeamReport> All(IEnumerable<(DoraProject Project, DoraReport Report)> reports) => reports
        .Where(r => !string.IsNullOrEmpty(r.Project.Spec.Team))
        .GroupBy(r => (Team: r.Project.Spec.Team!, Environment: DoraDefaults.EnvironmentOf(r.Project)))
        .OrderBy(g => g.Key.Team, StringComparer.Ordinal)
        .ThenBy(g => g.Key.Environment, StringComparer.Ordinal)
        .Select(g => Pool(g.Key.Team, g.Key.Environment, [.. g]));

    /// <summary>The environment a team's page or API answer shows when none is asked for: production when it has projects there (or several environments), else its only one.</summary>
    public static string DefaultEnvironment(IReadOnlyList<string> environments) =>
        environments.Count == 1 ? environments[0] : DoraDefaults.Environment;

    public static bool Member(DoraProject p, string team, string environment) => p.Spec.Team == team && DoraDefaults.EnvironmentOf(p) == environment;

    public static TeamReport Pool(string team, string environment, IReadOnlyList<(DoraProject Project, DoraReport Report)> members)
    {
        var ordered = members
            .OrderBy(m => m.Project.Metadata.Namespace, StringComparer.Ordinal)
            .ThenBy(m => m.Project.Metadata.Name, StringComparer.Ordinal)
            .ToList();
        var report = DoraCalculator.Summarize(DoraSamples.Pool([.. ordered.Select(m => m.Report.Samples)]), SharedBenchmark(ordered.Select(m => m.Project).ToList()));
        return new TeamReport(team, environment, ordered, report);
    }

    /// <summary>The members' benchmark when there is one project or they name the same published one; else the default.</summary>
    public static Benchmark SharedBenchmark(IReadOnlyList<DoraProject> projects)
    {
        if (projects.Count == 1) return DoraCalculator.BenchmarkFor(projects[0].Spec);
        var names = projects.Select(p => DoraCalculator.BenchmarkFor(p.Spec)).ToList();
        return names.All(b => b.Name == names[0].Name && b.Name != "custom") ? names[0] : Benchmark.Dora2023;
    }
}
