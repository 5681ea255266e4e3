using DoraOperator.Entities.Dora;

namespace DoraOperator.Entities.Vocabulary;

/// <summary>
/// The defaults of the DORA kinds, as their CRDs declare them. Objects read from a cache carry the
/// API server's defaults; objects built in memory (tests, the planner) may not, so code reads these
/// through the accessors below and never spells a default twice.
/// </summary>
public static class DoraDefaults
{
    public const string Environment = "production";
    public const string Window = "30d";
    public const string Benchmark = "dora-2023";
    public const string Severity = "medium";
    public const string RetentionMaxAge = "90d";
    public const int RetentionMaxRecords = 1000;
    public const string AttributionMaxAge = "24h";
    /// <summary>spec.leadTimeFrom value that measures lead time from the release's oldest commit.</summary>
    public const string LeadTimeFromFirstCommit = "firstCommit";

    public static string EnvironmentOf(DoraProject project) => project.Spec.Environment ?? Environment;

    public static string EnvironmentOf(DeploymentRecord record) => record.Spec.Environment ?? Environment;

    public static string WindowOf(DoraProject project) => project.Spec.Window ?? Window;

    public static bool LeadTimeFromFirst(DoraProject? project) => project?.Spec.LeadTimeFrom == LeadTimeFromFirstCommit;

    /// <summary>Whether a workload's retained history is recorded on first sight (on unless spec.backfill is false).</summary>
    public static bool BackfillOf(DoraProject project) => project.Spec.Backfill ?? true;

    /// <summary>How old a record may be before retention deletes it (spec.retention.maxAge, default 90d).</summary>
    public static TimeSpan RetentionMaxAgeOf(DoraProject project) =>
        Durations.TryParse(project.Spec.Retention?.MaxAge ?? RetentionMaxAge, out var age) ? age : TimeSpan.FromDays(90);

    public static string SeverityOf(Incident incident) => incident.Spec.Severity ?? Severity;
}
