namespace DoraOperator.Entities.Vocabulary;

/// <summary>The phases of a DeploymentRecord (its CRD's allowed values).</summary>
public static class RecordPhases
{
    public const string Progressing = "Progressing";
    public const string Succeeded = "Succeeded";
    public const string Failed = "Failed";
    public const string RolledBack = "RolledBack";
    public const string Superseded = "Superseded";
    /// <summary>A revision that only restarted the pods: visible, counted in no metric.</summary>
    public const string Restart = "Restart";

    /// <summary>True until the record has an outcome (no phase reads as Progressing, the CRD's default).</summary>
    public static bool InProgress(string? phase) => phase is null or Progressing;
}

/// <summary>Condition types of a DeploymentRecord's status.</summary>
public static class RecordConditions
{
    /// <summary>Recorded from a workload's retained history, after the fact; its message is the same on every such record.</summary>
    public const string Backfilled = "Backfilled";
}

/// <summary>The phases of an Incident.</summary>
public static class IncidentPhases
{
    public const string Open = "Open";
    public const string Restored = "Restored";
    public const string Resolved = "Resolved";
}

/// <summary>Change types with a meaning to the calculations (dora-operator.io/change-type).</summary>
public static class ChangeTypes
{
    /// <summary>Ships no new commit: a configuration-only change.</summary>
    public const string Config = "config";
    public const string Fix = "fix";
    public const string Hotfix = "hotfix";

    /// <summary>Rework: a change that repairs an earlier one.</summary>
    public static bool IsRework(string? changeType) =>
        string.Equals(changeType, Fix, StringComparison.OrdinalIgnoreCase) || string.Equals(changeType, Hotfix, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Where a DeploymentRecord or Incident came from (spec.source).</summary>
public static class Sources
{
    public const string Cluster = "cluster";
    public const string Api = "api";
    public const string Webhook = "webhook";
}
