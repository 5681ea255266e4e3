using System.Reflection;
using System.Text;
using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Operator.Dora;
using DoraOperator.Operator.Projects;

namespace DoraOperator.Operator.Insights;

/// <summary>One row of the projects list: a project's numbers now and in the window before.</summary>
internal sealed record ProjectRow(DoraProject Project, DoraReport Current, DoraReport Previous);

/// <summary>One row of the teams list.</summary>
internal sealed record TeamRow(TeamReport Current, TeamReport Previous);

/// <summary>
/// The dashboard's pages as server-rendered HTML: every number is in the markup, charts are inline
/// SVG, and the one stylesheet is embedded in the binary. The same pages, with the stylesheet
/// inlined, are the <c>report --format html</c> output.
/// </summary>
internal static class DashboardHtml
{
    public const string StylesheetPath = "/assets/dashboard.css";

    private static readonly Lazy<string> Css = new(() =>
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("DoraOperator.Operator.Insights.dashboard.css")
            ?? throw new InvalidOperationException("the dashboard stylesheet is not embedded in the assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    public static string Stylesheet => Css.Value;

    public static string Index(IReadOnlyList<ProjectRow> projects, IReadOnlyList<TeamRow> teams, DateTimeOffset now)
    {
        var html = new StringBuilder(8192);
        Open(html, "DORA metrics", now, standalone: false, []);
        html.Append("<h1>Projects</h1>");
        if (projects.Count == 0)
        {
            html.Append("<p class=\"empty\">No DoraProjects in the namespaces this operator watches. Create one with <code>kubectl apply</code> (see docs/crds.md), then label Deployments to match its selector.</p>");
        }
        else
        {
            html.Append("<table class=\"list projects\"><thead><tr><th>Project</th><th>Team</th><th>Tier</th>");
            foreach (var (_, label) in Formats.Keys) html.Append("<th>").Append(label).Append("</th>");
            html.Append("<th>Open incidents</th></tr></thead><tbody>");
            foreach (var row in projects)
            {
                var p = row.Project;
                html.Append("<tr data-project=\"").Append(Html.Attr($"{p.Metadata.Namespace}/{p.Metadata.Name}")).Append("\"><td><a href=\"").Append(Html.ProjectPath(p.Metadata.Namespace!, p.Metadata.Name!)).Append("\">")
                    .Append(Html.Text(p.Metadata.Name)).Append("</a><span class=\"sub\">").Append(Html.Text(p.Metadata.Namespace)).Append(" · ").Append(Html.Text(DoraDefaults.EnvironmentOf(p))).Append(" · ").Append(Html.Text(DoraDefaults.WindowOf(p))).Append("</span></td><td>");
                if (!string.IsNullOrEmpty(p.Spec.Team)) html.Append("<a href=\"").Append(Html.Attr(Html.TeamPath(p.Spec.Team, DoraDefaults.EnvironmentOf(p)))).Append("\">").Append(Html.Text(p.Spec.Team)).Append("</a>");
                html.Append("</td><td>");
                Badge(html, row.Current.Tier);
                html.Append("</td>");
                foreach (var (metric, _) in Formats.Keys) MetricCell(html, metric, row.Current, row.Previous);
                html.Append("<td class=\"num\">").Append(row.Current.OpenIncidents).Append("</td></tr>");
            }
            html.Append("</tbody></table>");
        }
        if (teams.Count > 0)
        {
            html.Append("<h2>Teams</h2><table class=\"list teams\"><thead><tr><th>Team</th><th>Projects</th><th>Tier</th>");
            foreach (var (_, label) in Formats.Keys) html.Append("<th>").Append(label).Append("</th>");
            html.Append("</tr></thead><tbody>");
            foreach (var t in teams)
            {
                html.Append("<tr data-team=\"").Append(Html.Attr(t.Current.Team)).Append("\"><td><a href=\"").Append(Html.Attr(Html.TeamPath(t.Current.Team, t.Current.Environment))).Append("\">").Append(Html.Text(t.Current.Team))
                    .Append("</a><span class=\"sub\">").Append(Html.Text(t.Current.Environment)).Append("</span></td><td class=\"num\">").Append(t.Current.Members.Count).Append("</td><td>");
                Badge(html, t.Current.Report.Tier);
                html.Append("</td>");
                foreach (var (metric, _) in Formats.Keys) MetricCell(html, metric, t.Current.Report, t.Previous.Report);
                html.Append("</tr>");
            }
            html.Append("</tbody></table>");
        }
        html.Append("<p class=\"note\">Arrows compare each window with the one before it, of the same length. The same numbers as JSON: <a href=\"/api/v1/projects?compare=previous\">/api/v1/projects</a>, <a href=\"/api/v1/teams?compare=previous\">/api/v1/teams</a>.</p>");
        return Close(html);
    }

    public static string Project(ProjectInsight p, DateTimeOffset now, bool standalone = false, bool compare = true)
    {
        var html = new StringBuilder(16384 + (p.Records.Count * 400));
        Open(html, $"{p.Name} · DORA metrics", now, standalone, [(p.Namespace, null), (p.Name, null)]);
        html.Append("<h1>").Append(Html.Text(p.Name)).Append(' ');
        Badge(html, p.Report.Tier);
        html.Append("</h1><p class=\"facts\">namespace <b>").Append(Html.Text(p.Namespace)).Append("</b>");
        if (!string.IsNullOrEmpty(p.Project.Spec.Team))
        {
            html.Append(" · team ");
            if (standalone) html.Append("<b>").Append(Html.Text(p.Project.Spec.Team)).Append("</b>");
            else html.Append("<a href=\"").Append(Html.Attr(Html.TeamPath(p.Project.Spec.Team, DoraDefaults.EnvironmentOf(p.Project)))).Append("\">").Append(Html.Text(p.Project.Spec.Team)).Append("</a>");
        }
        html.Append(" · environment <b>").Append(Html.Text(DoraDefaults.EnvironmentOf(p.Project))).Append("</b> · window <b>").Append(Html.Text(Formats.Window(p.Report)))
            .Append("</b> · benchmark <b>").Append(Html.Text(p.Report.Benchmark)).Append("</b> · previous window's tier ");
        Badge(html, p.Previous.Tier);
        html.Append("</p>");
        Keys(html, p.Report, p.Previous, compare);
        Trends(html, p.Weekly);
        Tiers(html, p.Report, p.Benchmark);
        var listed = Listed(p);
        Lists(html, ReportLists.From([p]), listed.Contains);
        Records(html, p);
        Incidents(html, p, listed);
        return Close(html, standalone);
    }

    public static string Team(TeamInsight t, DateTimeOffset now, bool standalone = false, bool compare = true)
    {
        var html = new StringBuilder(16384);
        Open(html, $"Team {t.Team} · DORA metrics", now, standalone, [($"team {t.Team}", null)]);
        html.Append("<h1>Team ").Append(Html.Text(t.Team)).Append(' ');
        Badge(html, t.Report.Tier);
        html.Append("</h1><p class=\"facts\">").Append(Formats.Plural(t.Members.Count, "project")).Append(" in <b>").Append(Html.Text(t.Environment))
            .Append("</b> · pooled over each project's window, up to <b>").Append(Html.Text(Formats.Window(t.Report))).Append("</b> · benchmark <b>").Append(Html.Text(t.Report.Benchmark))
            .Append("</b> · previous window's tier ");
        Badge(html, t.Previous.Tier);
        html.Append("</p>");
        Keys(html, t.Report, t.Previous, compare);
        Trends(html, t.Weekly);
        html.Append("<section id=\"members\"><h2>Projects</h2><table class=\"list\"><thead><tr><th>Project</th><th>Tier</th>");
        foreach (var (_, label) in Formats.Keys) html.Append("<th>").Append(label).Append("</th>");
        html.Append("</tr></thead><tbody>");
        foreach (var m in t.Members)
        {
            html.Append("<tr><td>");
            if (standalone) html.Append(Html.Text(m.Name));
            else html.Append("<a href=\"").Append(Html.ProjectPath(m.Namespace, m.Name)).Append("\">").Append(Html.Text(m.Name)).Append("</a>");
            html.Append("<span class=\"sub\">").Append(Html.Text(m.Namespace)).Append("</span></td><td>");
            Badge(html, m.Report.Tier);
            html.Append("</td>");
            foreach (var (metric, _) in Formats.Keys) MetricCell(html, metric, m.Report, m.Previous, compare);
            html.Append("</tr>");
        }
        html.Append("</tbody></table></section>");
        Tiers(html, t.Report, t.Benchmark);
        Lists(html, ReportLists.From(t.Members), linked: null);
        return Close(html, standalone);
    }

    /// <summary>An error page: "Not found", "Invalid window", with what to do.</summary>
    public static string Problem(string title, string what, DateTimeOffset now)
    {
        var html = new StringBuilder(2048);
        Open(html, $"{title} · DORA metrics", now, standalone: false, []);
        html.Append("<h1>").Append(Html.Text(title)).Append("</h1><p class=\"empty\">").Append(Html.Text(what)).Append("</p><p><a href=\"/\">All projects</a></p>");
        return Close(html);
    }

    private static void Open(StringBuilder html, string title, DateTimeOffset now, bool standalone, IReadOnlyList<(string Text, string? Href)> crumbs)
    {
        html.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>").Append(Html.Text(title)).Append("</title>");
        if (standalone) html.Append("<style>").Append(Stylesheet).Append("</style>");
        else html.Append("<link rel=\"stylesheet\" href=\"").Append(StylesheetPath).Append("\">");
        html.Append("</head><body><header class=\"top\">").Append(standalone ? "<span class=\"home\">DORA metrics</span>" : "<a class=\"home\" href=\"/\">DORA metrics</a>");
        foreach (var (text, _) in crumbs) html.Append("<span class=\"crumb\">").Append(Html.Text(text)).Append("</span>");
        html.Append("<span class=\"asof\">as of ").Append(Formats.Time(now)).Append("</span></header><main>");
    }

    private static string Close(StringBuilder html, bool standalone = false) =>
        html.Append(standalone
            ? "</main><footer>DoraOperator report · computed by <code>report</code> from the cluster's DeploymentRecords and Incidents.</footer></body></html>"
            : "</main><footer>DoraOperator · computed from the operator's caches; every replica serves the same numbers.</footer></body></html>").ToString();

    private static void Badge(StringBuilder html, string? tier) =>
        html.Append("<span class=\"tier tier-").Append(Html.Attr(tier ?? Benchmark.Unknown)).Append("\">").Append(Html.Text(tier ?? Benchmark.Unknown)).Append("</span>");

    private static void Delta(StringBuilder html, DoraMetric metric, DoraReport current, DoraReport previous)
    {
        var (text, sense) = Formats.Delta(metric, current, previous);
        var raise = Formats.Raw(metric, current) > Formats.Raw(metric, previous);
        var arrow = sense is Sense.Better or Sense.Worse ? (raise ? "▲ " : "▼ ") : "";
        html.Append("<span class=\"delta ").Append(sense.ToString().ToLowerInvariant()).Append("\" title=\"previous window: ").Append(Html.Attr(Formats.Value(metric, previous))).Append("\">")
            .Append(arrow).Append(Html.Text(text)).Append("</span>");
    }

    private static void MetricCell(StringBuilder html, DoraMetric metric, DoraReport current, DoraReport previous, bool compare = true)
    {
        html.Append("<td class=\"metric\" data-metric=\"").Append(metric).Append("\"><span class=\"value\">").Append(Html.Text(Formats.Value(metric, current))).Append("</span><span class=\"sub\">")
            .Append(Html.Text(Formats.Count(metric, current))).Append("</span>");
        if (compare) Delta(html, metric, current, previous);
        html.Append("</td>");
    }

    private static void Keys(StringBuilder html, DoraReport current, DoraReport previous, bool compare)
    {
        html.Append("<section class=\"keys\">");
        foreach (var (metric, label) in Formats.Keys)
        {
            html.Append("<div class=\"key\" data-metric=\"").Append(metric).Append("\"><h3>").Append(label).Append("</h3><p class=\"value\">").Append(Html.Text(Formats.Value(metric, current)))
                .Append("</p><p class=\"sub\">").Append(Html.Text(Formats.Count(metric, current))).Append(' ');
            Badge(html, Formats.Tier(metric, current));
            html.Append("</p>");
            if (compare) Delta(html, metric, current, previous);
            html.Append("</div>");
        }
        html.Append("</section>");
    }

    private static void Trends(StringBuilder html, IReadOnlyList<TrendPoint> weekly)
    {
        html.Append("<section class=\"trends\"><h2>Weekly trend</h2><div class=\"charts\">");
        SvgCharts.Trend(html, "chart-deployments", "Deployments", weekly, p => p.Deployments, v => Formats.Plural((int)Math.Round(v), "deployment"), bars: true, axis: v => Math.Round(v).ToString(System.Globalization.CultureInfo.InvariantCulture));
        SvgCharts.Trend(html, "chart-lead-time", "Lead time (median)", weekly, p => p.LeadTimeMedianSeconds, Durations.Human, bars: false);
        SvgCharts.Trend(html, "chart-change-failure-rate", "Change failure rate", weekly, p => p.ChangeFailureRatio, Durations.HumanPercent, bars: false);
        SvgCharts.Trend(html, "chart-recovery-time", "Recovery time (median)", weekly, p => p.RecoveryMedianSeconds, Durations.Human, bars: false);
        html.Append("</div></section>");
    }

    private static void Tiers(StringBuilder html, DoraReport report, Benchmark benchmark)
    {
        html.Append("<section id=\"tiers\"><h2>Tier per metric</h2><table class=\"list\"><thead><tr><th>Metric</th><th>Value</th><th>Tier</th><th>")
            .Append(Html.Text(benchmark.Name)).Append(" bands</th></tr></thead><tbody>");
        foreach (var (metric, label) in Formats.Keys)
        {
            html.Append("<tr><td>").Append(label).Append("</td><td>").Append(Html.Text(Formats.Value(metric, report))).Append("</td><td>");
            Badge(html, Formats.Tier(metric, report));
            html.Append("</td><td class=\"bands\">").Append(Html.Text(Formats.Bands(benchmark, metric))).Append("</td></tr>");
        }
        html.Append("</tbody></table></section>");
    }

    /// <summary>Failed changes and slowest lead times. <c>linked</c>: whether a record has a row on this page to link to; null on a team page (records of several namespaces, none listed).</summary>
    private static void Lists(StringBuilder html, ReportLists lists, Func<string, bool>? linked)
    {
        void Record(string ns, string name)
        {
            if (linked is null) html.Append(Html.Text($"{ns}/{name}"));
            else if (linked(name)) html.Append("<a href=\"#record-").Append(Html.Attr(name)).Append("\">").Append(Html.Text(name)).Append("</a>");
            else html.Append(Html.Text(name));
        }
        html.Append("<section id=\"failed-changes\"><h2>Failed changes <span class=\"sub\">").Append(lists.FailedChanges.Count).Append(" in the window</span></h2>");
        if (lists.FailedChanges.Count == 0) html.Append("<p class=\"empty\">None in the window.</p>");
        else
        {
            html.Append("<table class=\"list\"><thead><tr><th>Record</th><th>Workload</th><th>Why</th><th>Failed</th><th>Restored</th><th>Recovery</th></tr></thead><tbody>");
            foreach (var f in lists.FailedChanges)
            {
                html.Append("<tr><td>");
                Record(f.Namespace, f.Record);
                html.Append("</td><td>").Append(Html.Text(f.Workload)).Append("</td><td>").Append(Html.Text(f.Reason)).Append("</td><td>").Append(Formats.Time(f.FailedAt)).Append("</td><td>")
                    .Append(f.RestoredAt is null ? "not yet" : Formats.Time(f.RestoredAt)).Append("</td><td class=\"num\">").Append(Formats.Seconds(f.RecoverySeconds)).Append("</td></tr>");
            }
            html.Append("</tbody></table>");
        }
        html.Append("</section><section id=\"slowest\"><h2>Slowest lead times</h2>");
        if (lists.SlowestLeadTimes.Count == 0) html.Append("<p class=\"empty\">No lead-time samples in the window.</p>");
        else
        {
            html.Append("<table class=\"list\"><thead><tr><th>Record</th><th>Workload</th><th>Deployed</th><th>Lead time</th><th>Commit</th></tr></thead><tbody>");
            foreach (var l in lists.SlowestLeadTimes)
            {
                html.Append("<tr><td>");
                Record(l.Namespace, l.Record);
                html.Append("</td><td>").Append(Html.Text(l.Workload)).Append("</td><td>").Append(Formats.Time(l.DeployedAt)).Append("</td><td class=\"num\">").Append(Durations.Human(l.LeadTimeSeconds))
                    .Append("</td><td><code>").Append(Html.Text(l.CommitSha is { Length: > 12 } sha ? sha[..12] : l.CommitSha ?? Formats.None)).Append("</code></td></tr>");
            }
            html.Append("</tbody></table>");
        }
        html.Append("</section>");
    }

    /// <summary>The most records a page lists; the counts above cover them all.</summary>
    public const int RecordLimit = 200;

    /// <summary>The records the page lists (the newest <see cref="RecordLimit"/>): only these can be linked to.</summary>
    private static HashSet<string> Listed(ProjectInsight p) => p.Records.Take(RecordLimit).Select(r => r.Metadata.Name!).ToHashSet(StringComparer.Ordinal);

    private static void Records(StringBuilder html, ProjectInsight p)
    {
        var incidentsByRecord = p.Incidents
            .Where(i => DoraCalculator.LinkedRecord(i) is not null)
            .ToLookup(i => DoraCalculator.LinkedRecord(i)!, StringComparer.Ordinal);
        html.Append("<section id=\"records\"><h2>Deployments <span class=\"sub\">").Append(Formats.Plural(p.Records.Count, "record")).Append(" in the window</span></h2>");
        if (p.Records.Count == 0)
        {
            html.Append("<p class=\"empty\">No rollouts recorded in this window.</p></section>");
            return;
        }
        html.Append("<table class=\"list records\"><thead><tr><th>Record</th><th>Workload</th><th>Phase</th><th>When</th><th>Lead time</th><th>Change</th><th>Commit</th><th>Incidents</th></tr></thead><tbody>");
        foreach (var r in p.Records.Take(RecordLimit))
        {
            var name = r.Metadata.Name!;
            var phase = r.Status?.Phase ?? "Pending";
            html.Append("<tr id=\"record-").Append(Html.Attr(name)).Append("\"><td>").Append(Html.Text(name)).Append("</td><td>").Append(Html.Text($"{r.Spec.Workload.Kind}/{r.Spec.Workload.Name}"))
                .Append("</td><td><span class=\"phase phase-").Append(Html.Attr(phase.ToLowerInvariant())).Append("\">").Append(Html.Text(phase)).Append("</span></td><td>")
                .Append(Formats.Time(InsightBuilder.DisplayTime(r))).Append("</td><td class=\"num\">").Append(Formats.Seconds(DoraCalculator.LeadTime(r, DoraDefaults.LeadTimeFromFirst(p.Project))))
                .Append("</td><td>").Append(Html.Text(r.Spec.ChangeType ?? Formats.None)).Append("</td><td><code>").Append(Html.Text(r.Spec.CommitSha is { Length: > 12 } sha ? sha[..12] : r.Spec.CommitSha ?? Formats.None))
                .Append("</code></td><td>");
            foreach (var i in incidentsByRecord[name])
            {
                html.Append("<a class=\"incident-link\" href=\"#incident-").Append(Html.Attr(i.Metadata.Name)).Append("\">").Append(Html.Text(i.Metadata.Name)).Append("</a> ");
            }
            html.Append("</td></tr>");
        }
        html.Append("</tbody></table>");
        if (p.Records.Count > RecordLimit)
        {
            html.Append("<p class=\"note\">").Append(p.Records.Count - RecordLimit).Append(" older records are not listed: <code>kubectl get deploymentrecords -n ").Append(Html.Text(p.Namespace)).Append("</code> shows them all.</p>");
        }
        html.Append("</section>");
    }

    private static void Incidents(StringBuilder html, ProjectInsight p, HashSet<string> recorded)
    {
        html.Append("<section id=\"incidents\"><h2>Incidents <span class=\"sub\">").Append(Formats.Plural(p.Incidents.Count, "incident")).Append(" in the window</span></h2>");
        SvgCharts.Timeline(html, p.Report, p.Incidents);
        if (p.Incidents.Count > 0)
        {
            html.Append("<table class=\"list incidents\"><thead><tr><th>Incident</th><th>Severity</th><th>Started</th><th>Restored</th><th>Time to restore</th><th>Caused by</th></tr></thead><tbody>");
            foreach (var i in p.Incidents)
            {
                var start = DoraCalculator.StartedAt(i);
                var restored = DoraCalculator.RestoredAt(i);
                html.Append("<tr id=\"incident-").Append(Html.Attr(i.Metadata.Name)).Append("\"><td>").Append(Html.Text(i.Metadata.Name));
                if (!string.IsNullOrEmpty(i.Spec.Title)) html.Append("<span class=\"sub\">").Append(Html.Text(i.Spec.Title)).Append("</span>");
                html.Append("</td><td>").Append(Html.Text(i.Spec.Severity ?? Formats.None)).Append("</td><td>").Append(Formats.Time(start)).Append("</td><td>")
                    .Append(restored is null ? "<span class=\"phase phase-failed\">open</span>" : Formats.Time(restored)).Append("</td><td class=\"num\">")
                    .Append(Formats.Seconds(start is { } s && restored is { } e ? (e - s).TotalSeconds : null)).Append("</td><td>");
                if (DoraCalculator.LinkedRecord(i) is { } record)
                {
                    if (recorded.Contains(record)) html.Append("<a href=\"#record-").Append(Html.Attr(record)).Append("\">").Append(Html.Text(record)).Append("</a>");
                    else html.Append(Html.Text(record));
                }
                else
                {
                    html.Append(Html.Text(Formats.None));
                }
                html.Append("</td></tr>");
            }
            html.Append("</tbody></table>");
        }
        html.Append("</section>");
    }
}
