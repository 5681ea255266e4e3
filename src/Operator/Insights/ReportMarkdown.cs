using System.Text;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Operator.Dora;

namespace DoraOperator.Operator.Insights;

/// <summary><c>report --format markdown</c>: the four keys, then the failed changes, incidents and slowest lead times, ready to paste into a review.</summary>
internal static class ReportMarkdown
{
    public static string Project(ProjectInsight p, bool compare)
    {
        var md = new StringBuilder(4096);
        md.Append("# DORA report: ").Append(p.Namespace).Append('/').Append(p.Name).Append("\n\n");
        Facts(md, p.Report, p.Previous, compare, p.Project.Spec.Team is { Length: > 0 } team ? $"team {team} · " : "", DoraDefaults.EnvironmentOf(p.Project));
        Keys(md, p.Report, p.Previous, compare);
        Lists(md, ReportLists.From([p]), team: false);
        return md.ToString();
    }

    public static string Team(TeamInsight t, bool compare)
    {
        var md = new StringBuilder(4096);
        md.Append("# DORA report: team ").Append(t.Team).Append("\n\n");
        Facts(md, t.Report, t.Previous, compare, $"{Formats.Plural(t.Members.Count, "project")} · ", t.Environment);
        Keys(md, t.Report, t.Previous, compare);
        md.Append("## Projects\n\n| Project | Tier |");
        foreach (var (_, label) in Formats.Keys) md.Append(' ').Append(label).Append(" |");
        md.Append("\n|---|---|---|---|---|---|\n");
        foreach (var m in t.Members)
        {
            md.Append("| ").Append(Cell($"{m.Namespace}/{m.Name}")).Append(" | ").Append(m.Report.Tier).Append(" |");
            foreach (var (metric, _) in Formats.Keys) md.Append(' ').Append(Cell(Formats.Value(metric, m.Report))).Append(" |");
            md.Append('\n');
        }
        md.Append('\n');
        Lists(md, ReportLists.From(t.Members), team: true);
        return md.ToString();
    }

    private static void Facts(StringBuilder md, DoraReport current, DoraReport previous, bool compare, string who, string environment)
    {
        md.Append("Window ").Append(Formats.Window(current)).Append(" · ").Append(who).Append("environment ").Append(environment).Append(" · benchmark ").Append(current.Benchmark).Append("\n\n");
        md.Append("Overall tier: **").Append(current.Tier).Append("**");
        if (compare) md.Append(" (previous window, ").Append(Formats.Window(previous)).Append(": ").Append(previous.Tier).Append(')');
        md.Append("\n\n");
    }

    private static void Keys(StringBuilder md, DoraReport current, DoraReport previous, bool compare)
    {
        md.Append(compare ? "| Key | Value | Of | Tier | Previous | Change |\n|---|---|---|---|---|---|\n" : "| Key | Value | Of | Tier |\n|---|---|---|---|\n");
        foreach (var (metric, label) in Formats.Keys)
        {
            md.Append("| ").Append(label).Append(" | ").Append(Formats.Value(metric, current)).Append(" | ").Append(Formats.Count(metric, current)).Append(" | ").Append(Formats.Tier(metric, current)).Append(" |");
            if (compare)
            {
                var (text, sense) = Formats.Delta(metric, current, previous);
                md.Append(' ').Append(Formats.Value(metric, previous)).Append(" | ").Append(text).Append(sense is Sense.Better or Sense.Worse ? $" ({sense.ToString().ToLowerInvariant()})" : "").Append(" |");
            }
            md.Append('\n');
        }
        md.Append('\n');
    }

    private static void Lists(StringBuilder md, ReportLists lists, bool team)
    {
        string Name(string ns, string name) => team ? $"{ns}/{name}" : name;
        md.Append("## Failed changes (").Append(lists.FailedChanges.Count).Append(")\n\n");
        if (lists.FailedChanges.Count == 0) md.Append("None in the window.\n\n");
        else
        {
            md.Append("| Record | Workload | Why | Failed | Restored | Recovery |\n|---|---|---|---|---|---|\n");
            foreach (var f in lists.FailedChanges)
            {
                md.Append("| ").Append(Cell(Name(f.Namespace, f.Record))).Append(" | ").Append(Cell(f.Workload)).Append(" | ").Append(Cell(f.Reason)).Append(" | ").Append(Formats.Time(f.FailedAt))
                    .Append(" | ").Append(f.RestoredAt is null ? "not yet" : Formats.Time(f.RestoredAt)).Append(" | ").Append(Formats.Seconds(f.RecoverySeconds)).Append(" |\n");
            }
            md.Append('\n');
        }
        md.Append("## Incidents (").Append(lists.Incidents.Count).Append(")\n\n");
        if (lists.Incidents.Count == 0) md.Append("None in the window.\n\n");
        else
        {
            md.Append("| Incident | Title | Severity | Started | Restored | Time to restore | Caused by |\n|---|---|---|---|---|---|---|\n");
            foreach (var i in lists.Incidents)
            {
                md.Append("| ").Append(Cell(Name(i.Namespace, i.Name))).Append(" | ").Append(Cell(i.Title ?? Formats.None)).Append(" | ").Append(Cell(i.Severity ?? Formats.None)).Append(" | ").Append(Formats.Time(i.StartedAt))
                    .Append(" | ").Append(i.RestoredAt is null ? "open" : Formats.Time(i.RestoredAt)).Append(" | ").Append(Formats.Seconds(i.TimeToRestoreSeconds)).Append(" | ").Append(Cell(i.Record ?? Formats.None)).Append(" |\n");
            }
            md.Append('\n');
        }
        md.Append("## Slowest lead times\n\n");
        if (lists.SlowestLeadTimes.Count == 0) md.Append("No lead-time samples in the window.\n");
        else
        {
            md.Append("| Record | Workload | Deployed | Lead time | Commit |\n|---|---|---|---|---|\n");
            foreach (var l in lists.SlowestLeadTimes)
            {
                md.Append("| ").Append(Cell(Name(l.Namespace, l.Record))).Append(" | ").Append(Cell(l.Workload)).Append(" | ").Append(Formats.Time(l.DeployedAt)).Append(" | ").Append(Durations.Human(l.LeadTimeSeconds))
                    .Append(" | ").Append(l.CommitSha is { } sha ? $"`{Cell(sha.Length > 12 ? sha[..12] : sha)}`" : Formats.None).Append(" |\n");
            }
        }
    }

    /// <summary>A table cell: pipes escaped, line breaks folded.</summary>
    private static string Cell(string s) => s.Replace("|", "\\|", StringComparison.Ordinal).Replace("\r", "", StringComparison.Ordinal).Replace('\n', ' ');
}
