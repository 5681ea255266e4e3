using System.Diagnostics;
using System.Text;
using DoraOperator.Entities.Dora;
using DoraOperator.Kube.Meta;
using DoraOperator.Operator.Insights;
using DoraOperator.Operator.Projects;

namespace DoraOperator.Bench;

/// <summary>
/// Server-side render time of the dashboard's pages (compute and HTML, as a request does it): the
/// page of a project with N records in its window, a team of T such projects, and the projects
/// list. Goal: the project page in < 50 ms at N = 1,000.
/// </summary>
internal static class DashboardRender
{
    public static void Run(int records, int teamProjects, int listProjects, int renders)
    {
        var end = new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero);
        ProjectSource Source(string name, int n)
        {
            var project = new DoraProject { Metadata = new ObjectMeta { Name = name, Namespace = "bench" }, Spec = new DoraProjectSpec { Team = "bench" } };
            var list = Aggregation.Records(name, n, end);
            return new ProjectSource(project, list, Aggregation.Incidents(name, list, end));
        }
        var one = Source("big", records);
        var team = Enumerable.Range(0, teamProjects).Select(i => Source($"t{i}", records)).ToList();
        var many = Enumerable.Range(0, listProjects).Select(i => Source($"p{i}", 100)).ToList();

        var project = Measure(() => DashboardHtml.Project(InsightBuilder.Project(one, null, end), end), renders);
        var teamPage = Measure(() => DashboardHtml.Team(InsightBuilder.Team("bench", "production", team, null, end), end), Math.Max(5, renders / teamProjects));
        var index = Measure(() =>
        {
            var rows = many.Select(s =>
            {
                var current = s.Report(null, end);
                return new ProjectRow(s.Project, current, s.Previous(current));
            }).ToList();
            var teams = new[] { new TeamRow(TeamRollup.Pool("bench", "production", [.. rows.Select(r => (r.Project, r.Current))]), TeamRollup.Pool("bench", "production", [.. rows.Select(r => (r.Project, r.Previous))])) };
            return DashboardHtml.Index(rows, teams, end);
        }, Math.Max(5, renders / 4));

        Console.WriteLine();
        Console.WriteLine($"stylesheet: {Encoding.UTF8.GetByteCount(DashboardHtml.Stylesheet):N0} B (the page's only asset)");
        Console.WriteLine("| page | render median | p95 | HTML | allocated | goal |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- |");
        Row($"project, {records:N0} records in the window", project, "< 50 ms");
        Row($"team of {teamProjects} projects x {records:N0} records", teamPage, "-");
        Row($"projects list, {listProjects} projects x 100 records", index, "-");
    }

    private static void Row(string what, (double Median, double P95, int Bytes, double AllocatedKb) m, string goal) =>
        Console.WriteLine($"| {what} | {m.Median:F1} ms | {m.P95:F1} ms | {m.Bytes / 1024.0:N0} KB | {m.AllocatedKb / 1024:N1} MB | {goal} |");

    private static (double Median, double P95, int Bytes, double AllocatedKb) Measure(Func<string> render, int runs)
    {
        var bytes = Encoding.UTF8.GetByteCount(render());
        for (var i = 0; i < 3; i++) render();
        var times = new double[runs];
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            render();
            times[i] = sw.Elapsed.TotalMilliseconds;
        }
        var allocated = (GC.GetAllocatedBytesForCurrentThread() - before) / 1024.0 / runs;
        Array.Sort(times);
        return (times[runs / 2], times[Math.Min(runs - 1, (int)Math.Ceiling(runs * 0.95) - 1)], bytes, allocated);
    }
}
