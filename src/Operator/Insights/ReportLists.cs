using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Operator.Dora;

namespace DoraOperator.Operator.Insights;

/// <summary>A failed change of the window: which record, why, and how long until it was restored.</summary>
internal sealed record FailedChangeLine(string Namespace, string Record, string Workload, string Reason, DateTimeOffset FailedAt, DateTimeOffset? RestoredAt, double? RecoverySeconds);

/// <summary>An incident of the window.</summary>
internal sealed record IncidentLine(string Namespace, string Name, string? Title, string? Severity, DateTimeOffset? StartedAt, DateTimeOffset? RestoredAt, double? TimeToRestoreSeconds, string? Record);

/// <summary>A deployment with one of the window's longest lead times.</summary>
internal sealed record LeadTimeLine(string Namespace, string Record, string Workload, DateTimeOffset DeployedAt, double LeadTimeSeconds, string? CommitSha);

/// <summary>The lists a page or report shows under the numbers, over one project or a team's projects.</summary>
internal sealed record ReportLists(IReadOnlyList<FailedChangeLine> FailedChanges, IReadOnlyList<IncidentLine> Incidents, IReadOnlyList<LeadTimeLine> SlowestLeadTimes)
{
    /// <summary>How many of the longest lead times are listed.</summary>
    public const int Slowest = 5;

    public static ReportLists From(IEnumerable<ProjectInsight> projects)
    {
        var failed = new List<FailedChangeLine>();
        var incidents = new List<IncidentLine>();
        var lead = new List<LeadTimeLine>();
        foreach (var p in projects)
        {
            var byName = p.Records.ToDictionary(r => r.Metadata.Name!, StringComparer.Ordinal);
            foreach (var f in p.Report.FailedChanges)
            {
                var workload = byName.TryGetValue(f.Record, out var r) ? Workload(r) : "";
                failed.Add(new FailedChangeLine(p.Namespace, f.Record, workload, f.Reason, f.FailedAt, f.RestoredAt, f.RecoverySeconds is { } s ? Math.Round(s, 3) : null));
            }
            foreach (var i in p.Incidents)
            {
                var start = DoraCalculator.StartedAt(i);
                var restored = DoraCalculator.RestoredAt(i);
                incidents.Add(new IncidentLine(p.Namespace, i.Metadata.Name!, i.Spec.Title, i.Spec.Severity, start, restored,
                    start is { } a && restored is { } b ? Math.Round((b - a).TotalSeconds, 3) : null, DoraCalculator.LinkedRecord(i)));
            }
            var firstCommit = DoraDefaults.LeadTimeFromFirst(p.Project);
            foreach (var r in p.Records.Where(DoraCalculator.IsDeployment))
            {
                if (DoraCalculator.LeadTime(r, firstCommit) is { } seconds) lead.Add(new LeadTimeLine(p.Namespace, r.Metadata.Name!, Workload(r), r.Status!.DeployedAt!.Value, Math.Round(seconds, 3), r.Spec.CommitSha));
            }
        }
        return new ReportLists(
            [.. failed.OrderBy(f => f.FailedAt).ThenBy(f => f.Namespace, StringComparer.Ordinal).ThenBy(f => f.Record, StringComparer.Ordinal)],
            [.. incidents.OrderBy(i => i.StartedAt).ThenBy(i => i.Namespace, StringComparer.Ordinal).ThenBy(i => i.Name, StringComparer.Ordinal)],
            [.. lead.OrderByDescending(l => l.LeadTimeSeconds).ThenBy(l => l.Namespace, StringComparer.Ordinal).ThenBy(l => l.Record, StringComparer.Ordinal).Take(Slowest)]);
    }

    private static string Workload(DeploymentRecord r) => $"{r.Spec.Workload.Kind}/{r.Spec.Workload.Name}";
}
