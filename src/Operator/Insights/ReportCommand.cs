using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Kube.Config;
using DoraOperator.Kube.Rest;
using DoraOperator.Operator.Projects;

namespace DoraOperator.Operator.Insights;

/// <summary>The formats <c>report</c> writes.</summary>
internal enum ReportFormat
{
    Markdown,
    Html,
    Json,
}

/// <summary><c>report --format json</c>: the API's numbers and the lists under them.</summary>
internal sealed record ReportDocument(
    string Kind,
    DateTimeOffset End,
    ProjectMetrics? Project,
    TeamMetrics? Team,
    IReadOnlyList<FailedChangeLine> FailedChanges,
    IReadOnlyList<IncidentLine> Incidents,
    IReadOnlyList<LeadTimeLine> SlowestLeadTimes);

/// <summary>
/// <c>report</c>: reads one project (or every project of a team) from the cluster, as the operator
/// does, computes its numbers over a window ending now (or <c>--end</c>), and writes a report a
/// person can paste into a review or send on: markdown, a self-contained HTML page, or JSON.
/// </summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var kubeconfig = new Option<string?>("--kubeconfig") { Description = "Path to a kubeconfig file (default: KUBECONFIG, ~/.kube/config, or in-cluster config inside a pod)." };
        var context = new Option<string?>("--context") { Description = "The kubeconfig context to use (default: its current context)." };
        var ns = new Option<string?>("--namespace", "-n") { Description = "The project's namespace (default: the context's). With --team: only this namespace's projects (default: all namespaces)." };
        var project = new Option<string?>("--project", "-p") { Description = "The DoraProject to report on." };
        var team = new Option<string?>("--team", "-t") { Description = "Report on every DoraProject with this spec.team, pooled (counts summed, medians over all samples)." };
        var environment = new Option<string>("--environment") { Description = "With --team: the environment whose projects are pooled.", DefaultValueFactory = _ => DoraDefaults.Environment };
        var window = new Option<string?>("--window", "-w") { Description = "The window, e.g. 30d, 2w, 12h (default: each project's spec.window, 30d unless set)." };
        var end = new Option<string?>("--end") { Description = "When the window ends, RFC 3339 (default: now). Fixes a report to a period, e.g. the end of last month." };
        var format = new Option<ReportFormat>("--format", "-f") { Description = "markdown, html (one self-contained page) or json.", DefaultValueFactory = _ => ReportFormat.Markdown };
        var compare = new Option<string?>("--compare") { Description = "'previous' adds the window before (same length) and the change of each key." };
        var output = new Option<string?>("--output", "-o") { Description = "Write the report to this file (default: standard output)." };
        var command = new Command("report", "Write a DORA report of a project or a team (markdown, HTML or JSON) from the cluster's records and incidents.")
        {
            kubeconfig, context, ns, project, team, environment, window, end, format, compare, output,
        };
        command.Validators.Add(r =>
        {
            var (p, t) = (r.GetValue(project), r.GetValue(team));
            if ((p is null) == (t is null)) r.AddError("give exactly one of --project (with --namespace) or --team");
            if (r.GetValue(window) is { } w && !Durations.TryParse(w, out _)) r.AddError($"--window \"{w}\" is not a duration: write a whole number and a unit m, h, d or w, e.g. 30d");
            if (r.GetValue(end) is { } e && !TryTime(e, out _)) r.AddError($"--end \"{e}\" is not an RFC 3339 time, e.g. 2026-11-01T00:00:00Z");
            if (r.GetValue(compare) is { } c && c != "previous") r.AddError($"--compare \"{c}\" is not supported: the one comparison is 'previous'");
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            KubeConnection connection;
            try
            {
                connection = KubeConfigLoader.LoadDefault(parse.GetValue(kubeconfig), parse.GetValue(context));
            }
            catch (KubeConfigException e)
            {
                await Console.Error.WriteLineAsync($"error: {e.Message}");
                return 1;
            }
            TimeSpan? span = parse.GetValue(window) is { } w && Durations.TryParse(w, out var parsed) ? parsed : null;
            var at = parse.GetValue(end) is { } e2 && TryTime(e2, out var t2) ? t2 : TimeProvider.System.GetUtcNow();
            var request = new ReportRequest(parse.GetValue(ns), parse.GetValue(project), parse.GetValue(team), parse.GetValue(environment)!, span, at, parse.GetValue(format), parse.GetValue(compare) == "previous");
            using var client = new KubeApiClient(connection);
            string text;
            try
            {
                text = await WriteAsync(client, connection.Namespace, request, cancellationToken);
            }
            catch (ReportException ex)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message}");
                return 1;
            }
            catch (Exception ex) when (ex is HttpRequestException or KubeApiException or TimeoutException)
            {
                await Console.Error.WriteLineAsync($"error: reading the cluster at {connection.Server} (from {connection.Source}) failed: {ex.Message}");
                return 1;
            }
            if (parse.GetValue(output) is { } file)
            {
                await File.WriteAllTextAsync(file, text, cancellationToken);
                await Console.Error.WriteLineAsync($"wrote {file} ({text.Length:N0} characters)");
            }
            else
            {
                await Console.Out.WriteAsync(text);
            }
            return 0;
        });
        return command;
    }

    internal sealed record ReportRequest(string? Namespace, string? Project, string? Team, string Environment, TimeSpan? Window, DateTimeOffset End, ReportFormat Format, bool Compare);

    internal sealed class ReportException(string message) : Exception(message);

    /// <summary>Reads what the report needs and renders it.</summary>
    public static async Task<string> WriteAsync(KubeApiClient client, string defaultNamespace, ReportRequest request, CancellationToken cancellationToken)
    {
        if (request.Project is { } name)
        {
            var ns = request.Namespace ?? defaultNamespace;
            var project = await client.TryGetAsync<DoraProject>(name, ns, cancellationToken)
                ?? throw new ReportException($"there is no DoraProject \"{name}\" in namespace \"{ns}\" (kubectl get doraprojects -n {ns} lists them)");
            var source = new ProjectSource(project, (await client.ListAsync<DeploymentRecord>(ns, null, cancellationToken)).Items, (await client.ListAsync<Incident>(ns, null, cancellationToken)).Items);
            var insight = InsightBuilder.Project(source, request.Window, request.End);
            var lists = ReportLists.From([insight]);
            return request.Format switch
            {
                ReportFormat.Markdown => ReportMarkdown.Project(insight, request.Compare),
                ReportFormat.Html => DashboardHtml.Project(insight, request.End, standalone: true, compare: request.Compare),
                _ => Json(new ReportDocument("project", request.End, ProjectApi.Metrics(project, insight.Report, request.Compare ? insight.Previous : null, request.Window), null,
                    lists.FailedChanges, lists.Incidents, lists.SlowestLeadTimes)),
            };
        }
        var team = request.Team!;
        var projects = (await client.ListAsync<DoraProject>(request.Namespace, null, cancellationToken)).Items.Where(p => TeamRollup.Member(p, team, request.Environment)).ToList();
        if (projects.Count == 0)
        {
            throw new ReportException($"no DoraProject{(request.Namespace is { } n ? $" in namespace \"{n}\"" : "")} has spec.team \"{team}\" in environment \"{request.Environment}\"");
        }
        var sources = new List<ProjectSource>();
        foreach (var group in projects.GroupBy(p => p.Metadata.Namespace!, StringComparer.Ordinal))
        {
            var records = (await client.ListAsync<DeploymentRecord>(group.Key, null, cancellationToken)).Items;
            var incidents = (await client.ListAsync<Incident>(group.Key, null, cancellationToken)).Items;
            sources.AddRange(group.Select(p => new ProjectSource(p, records, incidents)));
        }
        var teamInsight = InsightBuilder.Team(team, request.Environment, sources, request.Window, request.End);
        switch (request.Format)
        {
            case ReportFormat.Markdown:
                return ReportMarkdown.Team(teamInsight, request.Compare);
            case ReportFormat.Html:
                return DashboardHtml.Team(teamInsight, request.End, standalone: true, compare: request.Compare);
            default:
                var lists = ReportLists.From(teamInsight.Members);
                return Json(new ReportDocument("team", request.End, null, ProjectApi.Metrics(teamInsight.Rollup, request.Compare ? teamInsight.PreviousRollup : null, request.Window),
                    lists.FailedChanges, lists.Incidents, lists.SlowestLeadTimes));
        }
    }

    private static string Json(ReportDocument document) => JsonSerializer.Serialize(document, ReportJsonContext.Default.ReportDocument) + "\n";

    private static bool TryTime(string text, out DateTimeOffset time) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time) && text.Contains('T', StringComparison.Ordinal);
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase, WriteIndented = true,
    DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(ReportDocument))]
internal sealed partial class ReportJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
