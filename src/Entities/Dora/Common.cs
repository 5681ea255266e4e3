using DoraOperator.Entities.Schema;

namespace DoraOperator.Entities.Dora;

/// <summary>Names shared by the DORA kinds: the API group, labels and workload annotations.</summary>
public static class DoraNames
{
    public const string Group = "dora-operator.io";
    public const string Version = "v1alpha1";
    public const string ProjectLabel = "dora-operator.io/project";
    public const string ProjectAnnotation = "dora-operator.io/project";
    public const string CommitShaAnnotation = "dora-operator.io/commit-sha";
    public const string CommitTimeAnnotation = "dora-operator.io/commit-time";
    public const string FirstCommitTimeAnnotation = "dora-operator.io/first-commit-time";
    public const string ChangeTypeAnnotation = "dora-operator.io/change-type";

    /// <summary>
    /// On a record of a StatefulSet, DaemonSet or Argo Rollout: the ControllerRevision or ReplicaSet its
    /// revision was. A rollback renumbers that object, so a new revision whose object an older record
    /// names is a rollback.
    /// </summary>
    public const string RevisionObjectAnnotation = "dora-operator.io/revision-object";

    /// <summary>On a StatefulSet or DaemonSet: seconds a rollout may take before its record is Failed (default 600, like a Deployment's progressDeadlineSeconds).</summary>
    public const string ProgressDeadlineAnnotation = "dora-operator.io/progress-deadline-seconds";

    /// <summary>Durations written as a whole number and a unit: 90m, 24h, 30d, 2w.</summary>
    public const string DurationPattern = "^[1-9][0-9]*(m|h|d|w)$";
}

/// <summary>A reference to the workload a DeploymentRecord describes.</summary>
public sealed class WorkloadReference
{
    /// <summary>API version of the workload.</summary>
    [Default("apps/v1")]
    public string? ApiVersion { get; set; }

    /// <summary>Kind of the workload.</summary>
    [Default("Deployment")]
    public string? Kind { get; set; }

    /// <summary>Name of the workload in the record's namespace.</summary>
    [Required]
    public string Name { get; set; } = "";

    /// <summary>UID of the workload, so a deleted and re-created workload is not confused with the old one.</summary>
    public string? Uid { get; set; }
}

/// <summary>Human-readable values for kubectl columns, written by the operator.</summary>
public sealed class DisplayValues
{
    /// <summary>Deployments per day, e.g. 2.4.</summary>
    public string? DeploysPerDay { get; set; }

    /// <summary>Median change lead time in human units, e.g. 2.4h.</summary>
    public string? LeadTime { get; set; }

    /// <summary>Change failure rate as a percentage, e.g. 12%.</summary>
    public string? ChangeFailureRate { get; set; }

    /// <summary>Median failed-deployment recovery time in human units, e.g. 45m.</summary>
    public string? RecoveryTime { get; set; }

    /// <summary>Time from start to restore of an incident, in human units.</summary>
    public string? RestoredIn { get; set; }

    /// <summary>Overall tier: elite, high, medium, low or unknown.</summary>
    public string? Tier { get; set; }

    /// <summary>A copy (every value is a string).</summary>
    public DisplayValues Copy() => (DisplayValues)MemberwiseClone();

    /// <summary>True when every value is the same.</summary>
    public bool SameAs(DisplayValues other) =>
        DeploysPerDay == other.DeploysPerDay && LeadTime == other.LeadTime && ChangeFailureRate == other.ChangeFailureRate
        && RecoveryTime == other.RecoveryTime && RestoredIn == other.RestoredIn && Tier == other.Tier;
}
