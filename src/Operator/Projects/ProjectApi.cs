using System.Text.Json.Serialization;
using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Operator.Caching;
using DoraOperator.Operator.Dora;
using DoraOperator.Operator.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace DoraOperator.Operator.Projects;

/// <summary>One project's numbers as the JSON API shows them: the status's values plus the failed changes behind the failure rate.</summary>
internal sealed record ProjectMetrics(
    string Namespace,
    string Name,
    string? Team,
    string Environment,
    string Window,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    string Benchmark,
    string Tier,
    double? TierDistance,
    FrequencyMetric DeploymentFrequency,
    DurationMetric LeadTime,
    RatioMetric ChangeFailureRate,
    DurationMetric RecoveryTime,
    RatioMetric ReworkRate,
    DurationMetric DeploymentDuration,
    DurationMetric TimeToDetect,
    int OpenIncidents,
    LastDeployment? LastDeployment,
    IReadOnlyList<FailedChange> FailedChanges,
    PreviousPeriod? Previous = null,
    PeriodDeltas? Deltas = null);

/// <summary>The window before the current one, of the same length (<c>?compare=previous</c>).</summary>
internal sealed record PreviousPeriod(
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    string Tier,
    FrequencyMetric DeploymentFrequency,
    DurationMetric LeadTime,
    RatioMetric ChangeFailureRate,
    DurationMetric RecoveryTime);

/// <summary>Current minus previous, per key; null where either side has no value. Lower is better for all but deployments per day.</summary>
internal sealed record PeriodDeltas(double? DeploymentsPerDay, double? LeadTimeMedianSeconds, double? ChangeFailureRatio, double? RecoveryTimeMedianSeconds);

internal sealed record ProjectList(IReadOnlyList<ProjectMetrics> Items);

/// <summary>A team's pooled numbers (<see cref="TeamRollup"/>) and the projects behind them.</summary>
internal sealed record TeamMetrics(
    string Team,
    string Environment,
    IReadOnlyList<TeamMember> Projects,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    string Benchmark,
    string Tier,
    FrequencyMetric DeploymentFrequency,
    DurationMetric LeadTime,
    RatioMetric ChangeFailureRate,
    DurationMetric RecoveryTime,
    int OpenIncidents,
    LastDeployment? LastDeployment,
    PreviousPeriod? Previous = null,
    PeriodDeltas? Deltas = null);

/// <summary>One project of a team, with its own window and tier.</summary>
internal sealed record TeamMember(string Namespace, string Name, string Window, string Tier);

internal sealed record TeamList(IReadOnlyList<TeamMetrics> Items);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ProjectList))]
[JsonSerializable(typeof(ProjectMetrics))]
[JsonSerializable(typeof(TeamList))]
[JsonSerializable(typeof(TeamMetrics))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;

/// <summary>
/// <c>GET /api/v1/projects</c>, <c>GET /api/v1/namespaces/{ns}/projects/{name}/metrics</c>,
/// <c>GET /api/v1/teams</c> and <c>GET /api/v1/teams/{team}</c>, all taking <c>?window=7d</c> to
/// compute over another window on the fly and <c>?compare=previous</c> to add the window before it
/// and the deltas; a team also takes <c>?environment=</c>. Read from the caches, so
/// every replica answers, leader or not. Errors are <c>application/problem+json</c>.
/// </summary>
internal static class ProjectApi
{
    public static void Map(IEndpointRouteBuilder routes, OperatorCache cache, ProjectAggregator aggregator)
    {
        routes.MapGet("/api/v1/projects", (HttpContext context) =>
        {
            if (!TryWindow(context, out var window, out var problem) || !TryCompare(context, out var compare, out problem)) return problem!;
            var items = cache.Projects.List()
                .Select(p => View(p, aggregator, window, compare))
                .OrderBy(p => p.Namespace, StringComparer.Ordinal)
                .ThenBy(p => p.Name, StringComparer.Ordinal)
                .ToList();
            return Results.Json(new ProjectList(items), ApiJsonContext.Default.ProjectList);
        });
        routes.MapGet("/api/v1/namespaces/{ns}/projects/{name}/metrics", (HttpContext context, string ns, string name) =>
        {
            if (!TryWindow(context, out var window, out var problem) || !TryCompare(context, out var compare, out problem)) return problem!;
            if (cache.Projects.Get(ns, name) is { } project) return Results.Json(View(project, aggregator, window, compare), ApiJsonContext.Default.ProjectMetrics);
            return ProblemResult(404, "DoraProject not found", $"there is no DoraProject \"{name}\" in namespace \"{ns}\" (or the operator does not watch that namespace)", context.Request.Path);
        });
        routes.MapGet("/api/v1/teams", (HttpContext context) =>
        {
            if (!TryWindow(context, out var window, out var problem) || !TryCompare(context, out var compare, out problem)) return problem!;
            var items = TeamRollup.Keys(cache.Projects.List()).Select(k => TeamView(aggregator, k.Team, k.Environment, window, compare)).ToList();
            return Results.Json(new TeamList(items), ApiJsonContext.Default.TeamList);
        });
        routes.MapGet("/api/v1/teams/{team}", (HttpContext context, string team) =>
        {
            if (!TryWindow(context, out var window, out var problem) || !TryCompare(context, out var compare, out problem)) return problem!;
            var environments = TeamRollup.Keys(cache.Projects.List()).Where(k => k.Team == team).Select(k => k.Environment).ToList();
            var asked = context.Request.Query["environment"].ToString();
            if (environments.Count == 0)
            {
                return ProblemResult(404, "Team not found", $"no DoraProject has spec.team \"{team}\" (or the operator does not watch its namespace)", context.Request.Path);
            }
            var environment = asked.Length > 0 ? asked : TeamRollup.DefaultEnvironment(environments);
            if (!environments.Contains(environment))
            {
                return ProblemResult(404, "Team not found in environment", $"team \"{team}\" has projects in {string.Join(", ", environments)}, not in \"{environment}\"", context.Request.Path + context.Request.QueryString);
            }
            return Results.Json(TeamView(aggregator, team, environment, window, compare), ApiJsonContext.Default.TeamMetrics);
        });
        routes.MapFallback("/api/{**rest}", (HttpContext context) =>
            ProblemResult(404, "No such API path", "the API serves GET /api/v1/projects, GET /api/v1/namespaces/{namespace}/projects/{name}/metrics, GET /api/v1/teams and GET /api/v1/teams/{team}", context.Request.Path));
    }

    private static bool TryWindow(HttpContext context, out TimeSpan? window, out IResult? problem)
    {
        problem = WindowQuery.TryRead(context, out window, out var error) ? null : ProblemResult(400, "Invalid window", error!, context.Request.Path + context.Request.QueryString);
        return problem is null;
    }

    private static bool TryCompare(HttpContext context, out bool compare, out IResult? problem)
    {
        var text = context.Request.Query["compare"].ToString();
        compare = text == "previous";
        problem = text is "" or "previous" ? null
            : ProblemResult(400, "Invalid compare", $"compare \"{text}\" is not supported: the one comparison is compare=previous (the window before, of the same length)", context.Request.Path + context.Request.QueryString);
        return problem is null;
    }

    private static IResult ProblemResult(int status, string title, string detail, string? instance) => Problems.Result(status, title, detail, instance);

    private static ProjectMetrics View(DoraProject p, ProjectAggregator aggregator, TimeSpan? window, bool compare)
    {
        var current = aggregator.Report(p, window);
        return Metrics(p, current, compare ? aggregator.Previous(p, current) : null, window);
    }

    /// <summary>The previous period as the API shows it, and current minus previous per key.</summary>
    public static (PreviousPeriod Previous, PeriodDeltas Deltas) Compare(DoraReport current, DoraReport previous)
    {
        static double? Delta(double? now, double? before) => now is { } a && before is { } b ? Math.Round(a - b, 6) : null;
        return (
            new PreviousPeriod(previous.WindowStart, previous.WindowEnd, previous.Tier, previous.DeploymentFrequency, previous.LeadTime, previous.ChangeFailureRate, previous.RecoveryTime),
            new PeriodDeltas(
                Delta(current.DeploymentFrequency.PerDay, previous.DeploymentFrequency.PerDay),
                Delta(current.LeadTime.MedianSeconds, previous.LeadTime.MedianSeconds),
                Delta(current.ChangeFailureRate.Ratio, previous.ChangeFailureRate.Ratio),
                Delta(current.RecoveryTime.MedianSeconds, previous.RecoveryTime.MedianSeconds)));
    }

    private static TeamMetrics TeamView(ProjectAggregator aggregator, string team, string environment, TimeSpan? window, bool compare)
    {
        var rollup = aggregator.Team(team, environment, window);
        return Metrics(rollup, compare ? aggregator.PreviousTeam(rollup) : null, window);
    }

    /// <summary>A team's numbers as the API (and <c>report --format json</c>) shows them; with <paramref name="previous"/>, the comparison too.</summary>
    public static TeamMetrics Metrics(TeamReport rollup, TeamReport? previous, TimeSpan? window)
    {
        var r = rollup.Report;
        var view = new TeamMetrics(
            rollup.Team,
            rollup.Environment,
            [.. rollup.Members.Select(m => new TeamMember(m.Project.Metadata.Namespace!, m.Project.Metadata.Name!, window is { } w ? Durations.Format(w) : DoraDefaults.WindowOf(m.Project), m.Report.Tier))],
            r.WindowStart,
            r.WindowEnd,
            r.Benchmark,
            r.Tier,
            r.DeploymentFrequency,
            r.LeadTime,
            r.ChangeFailureRate,
            r.RecoveryTime,
            r.OpenIncidents,
            r.LastDeployment);
        if (previous is null) return view;
        var (before, deltas) = Compare(r, previous.Report);
        return view with { Previous = before, Deltas = deltas };
    }

    /// <summary>A project's numbers as the API (and <c>report --format json</c>) shows them; with <paramref name="previous"/>, the comparison too.</summary>
    public static ProjectMetrics Metrics(DoraProject p, DoraReport r, DoraReport? previous, TimeSpan? window)
    {
        var view = new ProjectMetrics(
            p.Metadata.Namespace!,
            p.Metadata.Name!,
            p.Spec.Team,
            DoraDefaults.EnvironmentOf(p),
            window is { } w ? Durations.Format(w) : DoraDefaults.WindowOf(p),
            r.WindowStart,
            r.WindowEnd,
            r.Benchmark,
            r.Tier,
            r.TierDistance,
            r.DeploymentFrequency,
            r.LeadTime,
            r.ChangeFailureRate,
            r.RecoveryTime,
            r.ReworkRate,
            r.DeploymentDuration,
            r.TimeToDetect,
            r.OpenIncidents,
            r.LastDeployment,
            r.FailedChanges);
        if (previous is null) return view;
        var (before, deltas) = Compare(r, previous);
        return view with { Previous = before, Deltas = deltas };
    }
}
