using System.Globalization;
using DoraOperator.Entities.BuiltIn;
using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Kube.Meta;

namespace DoraOperator.Operator.Rollouts;

/// <summary>
/// One revision of a workload under one of its numbers: a ReplicaSet (a Deployment's) or a
/// ControllerRevision (a StatefulSet's or DaemonSet's). <see cref="OwnTime"/>: the object was
/// created for this number, so <see cref="CreatedAt"/> is when this revision started; a revision
/// that reused an older object (a rollback) has no time of its own.
/// </summary>
internal sealed record WorkloadRevision(
    long Number,
    string ObjectKind,
    string ObjectName,
    DateTimeOffset? CreatedAt,
    PodTemplateSpec? Template,
    IReadOnlyDictionary<string, string>? Annotations,
    bool OwnTime);

/// <summary>Where the rollout of the current revision stands. <see cref="RecheckAt"/>: when it must be looked at again even if nothing changes (a deadline).</summary>
/// <see cref="RestoredAt"/>: a failure whose service came back without a new revision (an aborted Argo Rollout).
internal sealed record RolloutState(string Phase, DateTimeOffset? At = null, string? Reason = null, DateTimeOffset? RecheckAt = null, DateTimeOffset? RestoredAt = null);

/// <summary>
/// A workload as the planner reads it, whatever its kind: its metadata and pod template, the
/// current revision number, every revision it keeps, and how to read its rollout's progress from
/// its status, given since when it has made no progress (for kinds with a deadline of ours) or the
/// rollout's start, and the time now. <see cref="Signature"/>: what counts as progress, for kinds
/// whose deadline the operator keeps (StatefulSets, DaemonSets); null for the others.
/// </summary>
internal sealed record WorkloadState(
    string Kind,
    ObjectMeta Meta,
    PodTemplateSpec? Template,
    long Current,
    IReadOnlyDictionary<long, WorkloadRevision> Revisions,
    Func<DateTimeOffset, DateTimeOffset, RolloutState> Progress)
{
    public const int DefaultProgressDeadlineSeconds = 600;

    public string? Signature { get; init; }

    public string ApiVersion => Kind == "Rollout" ? ArgoRollout.Resource.ApiVersion : "apps/v1";

    public string RecordName(long revision) => ObjectNames.Record(Meta.Name!, revision, Kind);

    /// <summary>The previous revision: the newest before <see cref="Current"/>; 0 when there is none.</summary>
    public long Previous => Revisions.Keys.Where(r => r < Current).DefaultIfEmpty(0).Max();

    /// <summary>
    /// The objects whose every revision number is older than <see cref="Previous"/>: once the
    /// current revision is recorded, the planner reads none
    /// of them again. It compares the current revision with the previous one (restart, rollback,
    /// configuration-only change), records revisions newer than its newest record, and backfills
    /// only while the current revision has no record. A rollback to one of them renumbers it (every
    /// controller does: a Deployment's, a StatefulSet's, a DaemonSet's, Argo's), and its update
    /// brings it back; kept, the previous revision's object, created after it, still shows it reused.
    /// </summary>
    public IReadOnlyList<(string Kind, string Name)> RetiredObjects()
    {
        // Two revisions are the current and the previous one: what every reconcile after the first sees.
        if (Revisions.Count <= 2) return [];
        var previous = Previous;
        if (previous == 0) return [];
        var newest = new Dictionary<(string, string), long>();
        foreach (var rev in Revisions.Values) newest[(rev.ObjectKind, rev.ObjectName)] = Math.Max(newest.GetValueOrDefault((rev.ObjectKind, rev.ObjectName)), rev.Number);
        return [.. newest.Where(kv => kv.Value < previous).Select(kv => kv.Key)];
    }

    /// <summary>A Deployment: revisions from <c>deployment.kubernetes.io/revision</c> (and revision-history) of its ReplicaSets; progress from its conditions.</summary>
    public static WorkloadState Of(Deployment d, IReadOnlyList<LeanReplicaSet> sets)
    {
        var revisions = new Dictionary<long, WorkloadRevision>();
        foreach (var rs in sets)
        {
            var numbers = HistoryOf(rs);
            if (Number(rs.Annotations, Workloads.RevisionAnnotation) is { } own) numbers.Add(own);
            if (numbers.Count == 0) continue;
            var first = numbers.Min();
            foreach (var n in numbers)
            {
                revisions.TryAdd(n, new WorkloadRevision(n, "ReplicaSet", rs.Name, rs.CreationTimestamp, rs.Template(), rs.Annotations, n == first));
            }
        }
        return new WorkloadState("Deployment", d.Metadata, d.Spec?.Template, Number(d.Metadata, Workloads.RevisionAnnotation) ?? 0, revisions, (_, now) => DeploymentProgress(d, now));
    }

    /// <summary>A StatefulSet: revisions from its ControllerRevisions; complete when every replica is ready on the update revision.</summary>
    public static WorkloadState Of(StatefulSet s, IReadOnlyList<ControllerRevision> owned)
    {
        var revisions = RevisionsOf(owned);
        var current = revisions.Keys.DefaultIfEmpty(0).Max();
        return new WorkloadState("StatefulSet", s.Metadata, s.Spec?.Template, current, revisions, (since, now) =>
        {
            if (!Matches(s.Spec?.Template, revisions, current)) return Deadline(s.Metadata, since, now);
            var spec = s.Spec;
            var status = s.Status;
            var replicas = spec?.Replicas ?? 1;
            var onDelete = spec?.UpdateStrategy?.Type == "OnDelete";
            var partition = onDelete ? 0 : Math.Clamp(spec?.UpdateStrategy?.RollingUpdate?.Partition ?? 0, 0, replicas);
            if ((status?.ObservedGeneration ?? 0) < (s.Metadata.Generation ?? 0)) return Deadline(s.Metadata, since, now);
            var ready = status?.ReadyReplicas ?? 0;
            var updated = status?.UpdatedReplicas ?? 0;
            if (ready >= replicas && updated >= replicas && (onDelete || status?.CurrentRevision == status?.UpdateRevision))
            {
                return new RolloutState(RecordPhases.Succeeded, now);
            }
            if (partition > 0 && updated >= replicas - partition)
            {
                // A canary by partition: the rollout waits for the partition to be lowered, which is no failure.
                return new RolloutState(RecordPhases.Progressing, Reason: $"held by partition {partition}: {updated} of {replicas} pods updated");
            }
            return Deadline(s.Metadata, since, now);
        })
        {
            Signature = $"{s.Metadata.Generation}/{s.Status?.ObservedGeneration}/{s.Status?.UpdatedReplicas}/{s.Status?.ReadyReplicas}/{s.Status?.CurrentRevision}/{s.Status?.UpdateRevision}",
        };
    }

    /// <summary>A DaemonSet: revisions from its ControllerRevisions; complete when every scheduled node runs an updated, available pod.</summary>
    public static WorkloadState Of(DaemonSet d, IReadOnlyList<ControllerRevision> owned)
    {
        var revisions = RevisionsOf(owned);
        var current = revisions.Keys.DefaultIfEmpty(0).Max();
        return new WorkloadState("DaemonSet", d.Metadata, d.Spec?.Template, current, revisions, (since, now) =>
        {
            if (!Matches(d.Spec?.Template, revisions, current)) return Deadline(d.Metadata, since, now);
            var status = d.Status;
            if ((status?.ObservedGeneration ?? 0) < (d.Metadata.Generation ?? 0)) return Deadline(d.Metadata, since, now);
            var desired = status?.DesiredNumberScheduled ?? 0;
            return (status?.UpdatedNumberScheduled ?? 0) >= desired && (status?.NumberAvailable ?? 0) >= desired
                ? new RolloutState(RecordPhases.Succeeded, now)
                : Deadline(d.Metadata, since, now);
        })
        {
            Signature = $"{d.Metadata.Generation}/{d.Status?.ObservedGeneration}/{d.Status?.UpdatedNumberScheduled}/{d.Status?.NumberAvailable}/{d.Status?.DesiredNumberScheduled}",
        };
    }

    /// <summary>
    /// An Argo Rollout: revisions from <c>rollout.argoproj.io/revision</c> on its ReplicaSets; deployed
    /// when fully promoted (the stable ReplicaSet is the current template's, and for blue-green the
    /// active selector too) and Healthy; an abort is a failed change whose stable version restored
    /// service at once; Degraded is a failure.
    /// </summary>
    public static WorkloadState Of(ArgoRollout r, IReadOnlyList<LeanReplicaSet> sets)
    {
        var revisions = Renumbered([.. sets
            .Select(rs => (Number: Number(rs.Annotations, ArgoRollout.RevisionAnnotation), Set: rs))
            .Where(x => x.Number is not null)
            .Select(x => new WorkloadRevision(x.Number!.Value, "ReplicaSet", x.Set.Name, x.Set.CreationTimestamp, x.Set.Template(), x.Set.Annotations, OwnTime: true))]);
        return new WorkloadState("Rollout", r.Metadata, r.Spec?.Template, Number(r.Metadata, ArgoRollout.RevisionAnnotation) ?? 0, revisions, (started, now) =>
        {
            var status = r.Status;
            if (status?.ObservedGeneration != (r.Metadata.Generation ?? 0).ToString(CultureInfo.InvariantCulture)) return new RolloutState(RecordPhases.Progressing);
            var progressing = status.Conditions?.FirstOrDefault(c => c.Type == "Progressing");
            if (status.Abort == true)
            {
                return new RolloutState(RecordPhases.Failed, started, "aborted: the Rollout was aborted and its stable version serves all traffic again",
                    RestoredAt: status.AbortedAt ?? progressing?.LastUpdateTime ?? now);
            }
            if (status.Phase == "Degraded")
            {
                return new RolloutState(RecordPhases.Failed, progressing?.LastUpdateTime ?? now, $"Degraded: {progressing?.Reason ?? "the Rollout is degraded"}");
            }
            var promoted = status.Phase == "Healthy" && status.CurrentPodHash is { Length: > 0 } hash && status.StableRS == hash
                && (status.BlueGreen?.ActiveSelector is null || status.BlueGreen.ActiveSelector == hash);
            return promoted
                ? new RolloutState(RecordPhases.Succeeded, progressing is { Reason: "NewReplicaSetAvailable" } ? progressing.LastUpdateTime ?? now : now)
                : new RolloutState(RecordPhases.Progressing);
        });
    }

    private static Dictionary<long, WorkloadRevision> RevisionsOf(IReadOnlyList<ControllerRevision> owned) =>
        Renumbered([.. owned.Select(r => new WorkloadRevision(r.Revision, "ControllerRevision", r.Metadata.Name!, r.Metadata.CreationTimestamp, r.Template, r.Metadata.Annotations, OwnTime: true))]);

    /// <summary>
    /// Revisions by number, for controllers that renumber an object that comes back (a rollback)
    /// instead of keeping its old numbers (StatefulSet, DaemonSet and Argo Rollouts controllers): an
    /// object created before a lower-numbered one was reused and has no time of its own.
    /// </summary>
    private static Dictionary<long, WorkloadRevision> Renumbered(IReadOnlyList<WorkloadRevision> revisions)
    {
        var result = new Dictionary<long, WorkloadRevision>();
        foreach (var r in revisions)
        {
            result.TryAdd(r.Number, r with { OwnTime = !revisions.Any(o => o.Number < r.Number && o.CreatedAt > r.CreatedAt) });
        }
        return result;
    }

    /// <summary>
    /// Whether the cached workload already shows the template of the newest ControllerRevision. The
    /// two come from separate watches, so the revision can arrive before the workload's update; until
    /// the workload catches up its status describes the previous revision.
    /// </summary>
    private static bool Matches(PodTemplateSpec? template, Dictionary<long, WorkloadRevision> revisions, long current) =>
        revisions.TryGetValue(current, out var rev) && FingerprintOf(template) is { } f && f == FingerprintOf(rev.Template);

    private static TemplateFingerprint? FingerprintOf(PodTemplateSpec? template) => template is null ? null : template.Fingerprint ?? Workloads.Fingerprint(template);

    /// <summary>
    /// Kinds without a progress deadline of their own, as a Deployment's progressDeadlineSeconds
    /// works: Failed once the rollout has made no progress (its <see cref="Signature"/> unchanged)
    /// for the annotation's seconds (default 600).
    /// </summary>
    private static RolloutState Deadline(ObjectMeta meta, DateTimeOffset since, DateTimeOffset now)
    {
        var seconds = int.TryParse(meta.Annotations?.GetValueOrDefault(DoraNames.ProgressDeadlineAnnotation), NumberStyles.None, CultureInfo.InvariantCulture, out var s) && s > 0
            ? s : DefaultProgressDeadlineSeconds;
        var deadline = since.AddSeconds(seconds);
        return now >= deadline
            ? new RolloutState(RecordPhases.Failed, deadline, $"the rollout made no progress for {seconds} s ({DoraNames.ProgressDeadlineAnnotation}, default {DefaultProgressDeadlineSeconds})")
            : new RolloutState(RecordPhases.Progressing, RecheckAt: deadline);
    }

    private static RolloutState DeploymentProgress(Deployment d, DateTimeOffset now)
    {
        var progressing = d.Status?.Conditions?.FirstOrDefault(c => c.Type == RecordPhases.Progressing);
        if ((d.Status?.ObservedGeneration ?? 0) < (d.Metadata.Generation ?? 0))
        {
            // The status still describes an older generation: nothing about this rollout is known yet.
            return new RolloutState(RecordPhases.Progressing);
        }
        if (progressing is { Reason: "ProgressDeadlineExceeded" })
        {
            return new RolloutState(RecordPhases.Failed, progressing.LastUpdateTime ?? progressing.LastTransitionTime ?? now,
                "ProgressDeadlineExceeded: the rollout did not complete within spec.progressDeadlineSeconds");
        }
        var desired = d.Spec?.Replicas ?? 1;
        var s = d.Status;
        var complete = s is not null && (s.UpdatedReplicas ?? 0) == desired && (s.Replicas ?? 0) == desired
            && (s.AvailableReplicas ?? 0) == desired && progressing is { Reason: "NewReplicaSetAvailable" };
        return complete ? new RolloutState(RecordPhases.Succeeded, progressing!.LastUpdateTime ?? now) : new RolloutState(RecordPhases.Progressing);
    }

    private static long? Number(ObjectMeta? meta, string annotation) => Number(meta?.Annotations, annotation);

    private static long? Number(Dictionary<string, string>? annotations, string annotation) =>
        long.TryParse(annotations?.GetValueOrDefault(annotation), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 ? n : null;

    private static List<long> HistoryOf(LeanReplicaSet rs) =>
        (rs.Annotations?.GetValueOrDefault(Workloads.RevisionHistoryAnnotation) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var r) ? r : 0).Where(r => r > 0).ToList();
}
