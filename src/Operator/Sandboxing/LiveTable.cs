using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Operator.Dora;
using Spectre.Console;

namespace DoraOperator.Operator.Sandboxing;

/// <summary>
/// The sandbox's terminal view: each project's four keys, tiers and the counts behind them, redrawn
/// every second from the aggregators' latest numbers. When the output is not a terminal, one line
/// per project whenever its numbers change.
/// </summary>
internal static class LiveTable
{
    public static async Task RunAsync(Func<IEnumerable<(DoraProject Project, DoraReport Report)>> reports, string footer, TimeProvider time, CancellationToken cancellationToken)
    {
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            await PlainAsync(reports, time, cancellationToken);
            return;
        }
        var table = Build(reports());
        try
        {
            await AnsiConsole.Live(new Rows(table, new Markup(footer))).AutoClear(false).StartAsync(async context =>
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken);
                    context.UpdateTarget(new Rows(Build(reports()), new Markup(footer)));
                }
            });
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task PlainAsync(Func<IEnumerable<(DoraProject Project, DoraReport Report)>> reports, TimeProvider time, CancellationToken cancellationToken)
    {
        var last = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                foreach (var (project, report) in reports())
                {
                    var key = $"{project.Metadata.Namespace}/{project.Metadata.Name}";
                    var line = $"{key}: {Line(report)}";
                    if (last.GetValueOrDefault(key) == line) continue;
                    last[key] = line;
                    Console.WriteLine(line);
                }
                await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>One project's numbers in one line, the counts beside every rate.</summary>
    public static string Line(DoraReport r) =>
        $"deploys/day {Rate(r.DeploymentFrequency)} ({r.DeploymentFrequency.Count}), lead time {Duration(r.LeadTime)}, " +
        $"CFR {Ratio(r.ChangeFailureRate)}, recovery {Duration(r.RecoveryTime)}, rework {Ratio(r.ReworkRate)}, open incidents {r.OpenIncidents}, tier {r.Tier}";

    private static Table Build(IEnumerable<(DoraProject Project, DoraReport Report)> reports)
    {
        // Fits an 80-column terminal with four projects; rework is on the dashboard and in the API.
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]DORA metrics[/] (medians; counts in brackets)");
        foreach (var column in new[] { "Project", "Deploys/day", "Lead time", "CFR", "Recovery", "Open", "Tier" }) table.AddColumn(new TableColumn(column).PadLeft(1).PadRight(0));
        var any = false;
        foreach (var (p, r) in reports.OrderBy(x => x.Project.Metadata.Namespace, StringComparer.Ordinal).ThenBy(x => x.Project.Metadata.Name, StringComparer.Ordinal))
        {
            any = true;
            table.AddRow(
                Markup.Escape($"{p.Metadata.Namespace}/{p.Metadata.Name}"),
                Tiered($"{Rate(r.DeploymentFrequency)} ({r.DeploymentFrequency.Count})", r.DeploymentFrequency.Tier),
                Tiered(Duration(r.LeadTime), r.LeadTime.Tier),
                Tiered(Ratio(r.ChangeFailureRate), r.ChangeFailureRate.Tier),
                Tiered(Duration(r.RecoveryTime), r.RecoveryTime.Tier),
                r.OpenIncidents.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Tiered(r.Tier, r.Tier));
        }
        if (!any) table.AddRow("[grey]no DoraProject yet: kubectl apply -f config/samples/doraproject.yaml[/]", "", "", "", "", "", "");
        return table;
    }

    private static string Tiered(string text, string? tier)
    {
        var color = tier switch { "elite" => "green", "high" => "cyan", "medium" => "yellow", "low" => "red", _ => "grey" };
        return $"[{color}]{Markup.Escape(text)}[/]";
    }

    private static string Rate(FrequencyMetric f) => f.PerDay is { } d ? Durations.HumanRate(d) : "-";

    private static string Duration(DurationMetric d) => d.MedianSeconds is { } m ? $"{Durations.Human(m)} ({d.Samples})" : $"- ({d.Samples})";

    private static string Ratio(RatioMetric r) => r.Ratio is { } x ? $"{Durations.HumanPercent(x)} ({r.Count}/{r.Total})" : "-";
}
