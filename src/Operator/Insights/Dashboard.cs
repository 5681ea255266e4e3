using System.Text;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Operator.Caching;
using DoraOperator.Operator.Http;
using DoraOperator.Operator.Projects;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace DoraOperator.Operator.Insights;

/// <summary>
/// The read-only dashboard on the operator's HTTP port: <c>/</c> (projects and teams),
/// <c>/projects/{ns}/{name}</c>, <c>/teams/{team}</c> (<c>?environment=</c>), all taking
/// <c>?window=</c> as the JSON API does. Rendered from the caches on each request, so every replica
/// serves it, leader or not.
/// </summary>
internal static class Dashboard
{
    private const string HtmlType = "text/html; charset=utf-8";

    public static void Map(IEndpointRouteBuilder routes, OperatorCache cache, ProjectAggregator aggregator)
    {
        var css = Encoding.UTF8.GetBytes(DashboardHtml.Stylesheet);
        var etag = $"\"{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(css))[..16]}\"";
        routes.MapGet(DashboardHtml.StylesheetPath, (HttpContext context) =>
        {
            context.Response.Headers.ETag = etag;
            context.Response.Headers.CacheControl = "public, max-age=3600";
            return context.Request.Headers.IfNoneMatch == etag ? Results.StatusCode(304) : Results.Bytes(css, "text/css; charset=utf-8");
        });
        routes.MapGet("/", (HttpContext context) =>
        {
            if (!TryWindow(context, aggregator, out var window, out var problem)) return problem!;
            var now = aggregator.Now;
            var projects = cache.Projects.List()
                .OrderBy(p => p.Metadata.Namespace, StringComparer.Ordinal).ThenBy(p => p.Metadata.Name, StringComparer.Ordinal)
                .Select(p =>
                {
                    var source = aggregator.Source(p);
                    var current = source.Report(window, now);
                    return new ProjectRow(p, current, source.Previous(current));
                })
                .ToList();
            var teams = TeamRollup.Keys(projects.Select(r => r.Project))
                .Select(k =>
                {
                    var members = projects.Where(r => TeamRollup.Member(r.Project, k.Team, k.Environment)).ToList();
                    return new TeamRow(TeamRollup.Pool(k.Team, k.Environment, [.. members.Select(m => (m.Project, m.Current))]), TeamRollup.Pool(k.Team, k.Environment, [.. members.Select(m => (m.Project, m.Previous))]));
                })
                .ToList();
            return Page(DashboardHtml.Index(projects, teams, now));
        });
        routes.MapGet("/projects/{ns}/{name}", (HttpContext context, string ns, string name) =>
        {
            if (!TryWindow(context, aggregator, out var window, out var problem)) return problem!;
            if (cache.Projects.Get(ns, name) is not { } project)
            {
                return Page(DashboardHtml.Problem("Project not found", $"There is no DoraProject \"{name}\" in namespace \"{ns}\" (or the operator does not watch that namespace).", aggregator.Now), 404);
            }
            var now = aggregator.Now;
            return Page(DashboardHtml.Project(InsightBuilder.Project(aggregator.Source(project), window, now), now));
        });
        routes.MapGet("/teams/{team}", (HttpContext context, string team) =>
        {
            if (!TryWindow(context, aggregator, out var window, out var problem)) return problem!;
            var now = aggregator.Now;
            var elsewhere = TeamRollup.Keys(cache.Projects.List()).Where(k => k.Team == team).Select(k => k.Environment).ToList();
            var environment = context.Request.Query["environment"].ToString() is { Length: > 0 } e ? e : TeamRollup.DefaultEnvironment(elsewhere);
            var members = cache.Projects.List().Where(p => TeamRollup.Member(p, team, environment)).Select(aggregator.Source).ToList();
            if (members.Count == 0)
            {
                return Page(DashboardHtml.Problem("Team not found", elsewhere.Count == 0
                    ? $"No DoraProject has spec.team \"{team}\"."
                    : $"Team \"{team}\" has no projects in \"{environment}\"; it has projects in {string.Join(", ", elsewhere)} (add ?environment=).", now), 404);
            }
            return Page(DashboardHtml.Team(InsightBuilder.Team(team, environment, members, window, now), now));
        });
    }

    private static IResult Page(string html, int status = 200) => Results.Content(html, HtmlType, Encoding.UTF8, status);

    private static bool TryWindow(HttpContext context, ProjectAggregator aggregator, out TimeSpan? window, out IResult? problem)
    {
        problem = WindowQuery.TryRead(context, out window, out var error) ? null : Page(DashboardHtml.Problem("Invalid window", error + ".", aggregator.Now), 400);
        return problem is null;
    }
}
