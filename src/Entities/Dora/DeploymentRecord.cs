using System.Text.Json.Serialization.Metadata;
using DoraOperator.Entities.Schema;
using DoraOperator.Kube.Meta;

namespace DoraOperator.Entities.Dora;

/// <summary>
/// DeploymentRecord is one rollout of one workload, written by the operator when it sees a new
/// revision. Its status is the storage of the DORA metrics: when it started, when it was deployed or
/// failed, its lead time and what happened to it.
/// </summary>
[CustomResource("deploymentrecord", ShortNames = ["dr"], Categories = ["dora-operator"])]
[PrinterColumn(1, "Project", "string", ".spec.project")]
[PrinterColumn(2, "Workload", "string", ".spec.workload.name")]
[PrinterColumn(3, "Revision", "integer", ".spec.revision")]
[PrinterColumn(4, "Phase", "string", ".status.phase")]
[PrinterColumn(5, "Lead Time", "string", ".status.display.leadTime")]
[PrinterColumn(6, "Age", "date", ".metadata.creationTimestamp")]
public sealed class DeploymentRecord : KubeObject, IKubeResource<DeploymentRecord>
{
    public static ResourceInfo Resource { get; } = new(DoraNames.Group, DoraNames.Version, "deploymentrecords", "DeploymentRecord", true);
    public static JsonTypeInfo<DeploymentRecord> JsonType => DoraJsonContext.Default.DeploymentRecord;

    public DeploymentRecordSpec Spec { get; set; } = new();

    /// <summary>
    /// What happened to the rollout. Written once, with the outcome; until then the API server shows
    /// its defaults (phase Progressing), so a rollout costs one create and one status write.
    /// </summary>
    [DefaultEmptyObject]
    public DeploymentRecordStatus? Status { get; set; }

    /// <summary>
    /// A record to change the spec or status of without touching this one (a cached record): copies
    /// of both (<see cref="DeploymentRecordSpec.Copy"/>, <see cref="DeploymentRecordStatus.Copy"/>),
    /// this one's metadata, shared and so not to be changed. Cheaper than a deep copy through JSON.
    /// </summary>
    public DeploymentRecord WithCopiedSpecAndStatus() => new() { ApiVersion = ApiVersion, Kind = Kind, Metadata = Metadata, Spec = Spec.Copy(), Status = Status?.Copy() };
}

/// <summary>What was deployed.</summary>
/// <remarks>Times are packed (<see cref="PackedTime"/>): the operator caches every record.</remarks>
public sealed class DeploymentRecordSpec
{
    private PackedTime _commitTime;
    private PackedTime _firstCommitTime;
    private PackedSha _commitSha;

    /// <summary>The DoraProject (same namespace) the deployment counts for.</summary>
    [Required]
    [MaxLength(253)]
    public string Project { get; set; } = "";

    /// <summary>The workload that rolled out.</summary>
    [Required]
    public WorkloadReference Workload { get; set; } = new();

    /// <summary>The workload revision (deployment.kubernetes.io/revision).</summary>
    [Required]
    [Range(1, 9.2233720368547758E+18)]
    public long Revision { get; set; }

    /// <summary>The commit the revision ships (dora-operator.io/commit-sha).</summary>
    [MaxLength(128)]
    public string? CommitSha { get => _commitSha.Value; set => _commitSha = new(value); }

    /// <summary>When that commit was made (dora-operator.io/commit-time).</summary>
    public DateTimeOffset? CommitTime { get => _commitTime.Value; set => _commitTime = new(value); }

    /// <summary>The oldest commit the release ships (dora-operator.io/first-commit-time).</summary>
    public DateTimeOffset? FirstCommitTime { get => _firstCommitTime.Value; set => _firstCommitTime = new(value); }

    /// <summary>feature, fix, hotfix, config, ... (dora-operator.io/change-type; config when only configuration changed).</summary>
    [MaxLength(63)]
    public string? ChangeType { get; set; }

    /// <summary>The environment deployed to.</summary>
    [Default("production")]
    [MaxLength(63)]
    public string? Environment { get; set; }

    /// <summary>Who recorded it: cluster (the rollout tracker), api or webhook.</summary>
    [Default("cluster")]
    [AllowedValues("cluster", "api", "webhook")]
    public string? Source { get; set; }

    /// <summary>The first container image, for humans.</summary>
    [MaxLength(512)]
    public string? Image { get; set; }

    /// <summary>A copy whose fields can be set without touching this one (the workload reference is shared).</summary>
    public DeploymentRecordSpec Copy() => (DeploymentRecordSpec)MemberwiseClone();
}

/// <summary>What happened to the rollout.</summary>
/// <remarks>
/// Times and numbers are packed (<see cref="PackedTime"/>, <see cref="PackedDouble"/>): the operator
/// caches every record. What only failed, rolled-back, restored or incident-linked records carry (a
/// reason, the failure and restore times, the rollback links, the incidents) lives in a side object
/// allocated only for those: 40 bytes less per cached record. The properties read and write as plain ones.
/// </remarks>
public sealed class DeploymentRecordStatus
{
    private Rare? _rare;
    private PackedTime _startedAt;
    private PackedTime _deployedAt;
    private PackedDouble _durationSeconds;
    private PackedDouble _leadTimeSeconds;

    /// <summary>Progressing, Succeeded, Failed, RolledBack, Superseded, or Restart (a restart only: counted in no metric).</summary>
    [AllowedValues("Progressing", "Succeeded", "Failed", "RolledBack", "Superseded", "Restart")]
    [Default("Progressing")]
    public string? Phase { get; set; }

    /// <summary>Why the record is in its phase, for phases that need explaining.</summary>
    public string? Reason { get => _rare?.Reason; set => Set(value, static (r, v) => r.Reason = v); }

    /// <summary>When the rollout started: the new ReplicaSet's creation time (a reused ReplicaSet: the record's creation). Written with the outcome.</summary>
    public DateTimeOffset? StartedAt { get => _startedAt.Value; set => _startedAt = new(value); }

    /// <summary>When it completed: the Progressing condition's lastUpdateTime with reason NewReplicaSetAvailable.</summary>
    public DateTimeOffset? DeployedAt { get => _deployedAt.Value; set => _deployedAt = new(value); }

    /// <summary>When it failed (ProgressDeadlineExceeded, a missed progress deadline, a degraded Rollout) or was rolled back; for an aborted Argo Rollout, when its canary or preview began (startedAt).</summary>
    public DateTimeOffset? FailedAt { get => _rare?.FailedAt.Value; set => Set(value, static (r, v) => r.FailedAt = new(v)); }

    /// <summary>When service was restored without a new revision: an aborted Argo Rollout's abortedAt, when its stable version served all traffic again.</summary>
    public DateTimeOffset? RestoredAt { get => _rare?.RestoredAt.Value; set => Set(value, static (r, v) => r.RestoredAt = new(v)); }

    /// <summary>deployedAt - startedAt.</summary>
    public double? DurationSeconds { get => _durationSeconds.Value; set => _durationSeconds = new(value); }

    /// <summary>deployedAt - commitTime (or firstCommitTime); absent when the commit time is missing or invalid.</summary>
    public double? LeadTimeSeconds { get => _leadTimeSeconds.Value; set => _leadTimeSeconds = new(value); }

    /// <summary>For a rollback: the record it rolled back.</summary>
    public string? RollbackOf { get => _rare?.RollbackOf; set => Set(value, static (r, v) => r.RollbackOf = v); }

    /// <summary>For a rolled-back record: the rollback's record.</summary>
    public string? RolledBackBy { get => _rare?.RolledBackBy; set => Set(value, static (r, v) => r.RolledBackBy = v); }

    /// <summary>Incidents linked to this deployment.</summary>
    [ListSet]
    public List<string>? Incidents { get => _rare?.Incidents; set => Set(value, static (r, v) => r.Incidents = v); }

    /// <summary>Problems with the inputs, e.g. CommitTimeInvalid, CommitTimeInFuture.</summary>
    [ListMap("type")]
    public List<Condition>? Conditions { get; set; }

    /// <summary>Preformatted values for kubectl columns.</summary>
    public DisplayValues? Display { get; set; }

    /// <summary>
    /// A copy to change without touching this one (a cached status): the lists are new and the
    /// values shared. Conditions are shared too: they are replaced, never changed in place
    /// (<see cref="Conditions.Set"/>).
    /// </summary>
    public DeploymentRecordStatus Copy()
    {
        var copy = (DeploymentRecordStatus)MemberwiseClone();
        copy._rare = _rare?.Copy();
        copy.Conditions = Conditions is null ? null : [.. Conditions];
        copy.Display = Display?.Copy();
        return copy;
    }

    /// <summary>
    /// True when both statuses write the same JSON, <c>incidents</c> left out when
    /// <paramref name="ignoreIncidents"/> (a field for field comparison, without serializing).
    /// </summary>
    public bool SameAs(DeploymentRecordStatus other, bool ignoreIncidents = false) =>
        Phase == other.Phase && Reason == other.Reason && StartedAt == other.StartedAt && DeployedAt == other.DeployedAt
        && FailedAt == other.FailedAt && RestoredAt == other.RestoredAt
        && DurationSeconds == other.DurationSeconds && LeadTimeSeconds == other.LeadTimeSeconds
        && RollbackOf == other.RollbackOf && RolledBackBy == other.RolledBackBy
        && (ignoreIncidents || SameList(Incidents, other.Incidents, string.Equals))
        && SameList(Conditions, other.Conditions, SameCondition)
        && (Display is null ? other.Display is null : other.Display is not null && Display.SameAs(other.Display));

    private static bool SameCondition(Condition a, Condition b) =>
        a.Type == b.Type && a.Status == b.Status && a.ObservedGeneration == b.ObservedGeneration
        && a.LastTransitionTime == b.LastTransitionTime && a.Reason == b.Reason && a.Message == b.Message;

    private static bool SameList<TItem>(List<TItem>? a, List<TItem>? b, Func<TItem, TItem, bool> same)
    {
        if (a is null || b is null) return a is null && b is null;
        if (a.Count != b.Count) return false;
        for (var i = 0; i < a.Count; i++)
        {
            if (!same(a[i], b[i])) return false;
        }
        return true;
    }

    /// <summary>Sets a rare field; clearing one on a status that has none allocates nothing.</summary>
    private void Set<TValue>(TValue? value, Action<Rare, TValue?> set)
    {
        if (value is null && _rare is null) return;
        set(_rare ??= new Rare(), value);
    }

    private sealed class Rare
    {
        public string? Reason;
        public PackedTime FailedAt;
        public PackedTime RestoredAt;
        public string? RollbackOf;
        public string? RolledBackBy;
        public List<string>? Incidents;

        public Rare Copy()
        {
            var copy = (Rare)MemberwiseClone();
            copy.Incidents = Incidents is null ? null : [.. Incidents];
            return copy;
        }
    }
}
