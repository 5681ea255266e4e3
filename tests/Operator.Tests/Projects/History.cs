using DoraOperator.Entities.Dora;
using DoraOperator.Kube.Meta;

namespace DoraOperator.Operator.Tests.Projects;

/// <summary>Builds DeploymentRecords and Incidents as the operator stores them, for the calculation tests.</summary>
internal static class History
{
    public static DateTimeOffset At(int month, int day, int hour, int minute = 0) => new(2026, month, day, hour, minute, 0, TimeSpan.Zero);

    public static DeploymentRecord Record(string name, string phase, DateTimeOffset? deployedAt = null, DateTimeOffset? commit = null, DateTimeOffset? failedAt = null,
        string workload = "api", string? changeType = null, string environment = "production", string? rollbackOf = null, string? rolledBackBy = null,
        DateTimeOffset? startedAt = null, string project = "shop", DateTimeOffset? firstCommit = null)
    {
        var started = startedAt ?? (deployedAt ?? failedAt ?? At(11, 1, 0)).AddMinutes(-5);
        var lead = deployedAt is { } d && commit is { } c && changeType != "config" ? (d - c).TotalSeconds : (double?)null;
        return new DeploymentRecord
        {
            Metadata = new ObjectMeta { Name = name, Namespace = "team", CreationTimestamp = started },
            Spec = new DeploymentRecordSpec
            {
                Project = project,
                Workload = new WorkloadReference { Name = workload },
                Revision = long.TryParse(name.AsSpan(name.LastIndexOf('-') + 1), out var rev) ? rev : 1,
                CommitSha = commit is null ? null : $"sha-{name}",
                CommitTime = commit,
                FirstCommitTime = firstCommit,
                ChangeType = changeType,
                Environment = environment,
            },
            Status = new DeploymentRecordStatus
            {
                Phase = phase,
                StartedAt = started,
                DeployedAt = deployedAt,
                FailedAt = failedAt,
                DurationSeconds = deployedAt is { } dd ? (dd - started).TotalSeconds : null,
                LeadTimeSeconds = lead,
                RollbackOf = rollbackOf,
                RolledBackBy = rolledBackBy,
            },
        };
    }

    public static Incident Incident(string name, DateTimeOffset started, DateTimeOffset? restored = null, string? linked = null, DateTimeOffset? resolved = null, bool invalid = false, string project = "shop") => new()
    {
        Metadata = new ObjectMeta { Name = name, Namespace = "team", CreationTimestamp = started },
        Spec = new IncidentSpec { Project = project, StartedAt = started, RestoredAt = restored, ResolvedAt = resolved, DeploymentRef = linked },
        Status = new IncidentStatus
        {
            LinkedDeployment = linked,
            Conditions = invalid ? [new Condition { Type = "Invalid", Status = "True", Reason = "RestoredBeforeStarted" }] : null,
        },
    };
}
