using System.Globalization;
using DoraOperator.Entities.BuiltIn;
using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Kube.Meta;

namespace DoraOperator.Operator.Rollouts;

/// <summary>A problem with a workload's annotations, to report as a Warning Event and a record condition.</summary>
internal sealed record AnnotationProblem(string Record, string Reason, string Message);

/// <summary>What the records of one Deployment should be now.</summary>
internal sealed record RolloutPlan(IReadOnlyList<DeploymentRecord> Records, IReadOnlyList<AnnotationProblem> Problems);

/// <summary>
/// Everything the planner looks at: one Deployment, its ReplicaSets, the records that exist, the
/// project. <see cref="BackfillSince"/>: record retained history that started after this time on
/// first sight (null: no backfill).
/// </summary>
internal sealed record RolloutInput(
    Deployment Deployment,
    IReadOnlyList<ReplicaSet> ReplicaSets,
    IReadOnlyList<DeploymentRecord> Records,
    string Project,
    string Environment,
    DateTimeOffset Now,
    bool LeadTimeFromFirstCommit = false,
    DateTimeOffset? BackfillSince = null);

/// <summary>
/// The rollout semantics of DESIGN.md as a pure, level-based function: given what the cluster shows
/// now and the records already written (their status is the storage), it returns what every record
/// of the Deployment should be. It never reads a clock except <see cref="RolloutInput.Now"/>, which
/// it uses only where the objects carry no time (a reused ReplicaSet, a missing condition time).
/// Records it does not mention are left alone. Calling it again on the same input gives the same
/// records, so a reconcile that writes only differences is idempotent.
/// </summary>
internal static class RolloutPlanner
{
    public const string RevisionAnnotation = Workloads.RevisionAnnotation;
    public const string RevisionHistoryAnnotation = Workloads.RevisionHistoryAnnotation;

    public static RolloutPlan Plan(RolloutInput input)
    {
        var d = input.Deployment;
        var problems = new List<AnnotationProblem>();
        if (!long.TryParse(Annotation(d.Metadata, RevisionAnnotation), NumberStyles.None, CultureInfo.InvariantCulture, out var current) || current < 1)
        {
            return new RolloutPlan([], problems);
        }
        var byRevision = ReplicaSetsByRevision(input.ReplicaSets);
        if (!byRevision.TryGetValue(current, out var currentRs)) return new RolloutPlan([], problems);

        var existing = input.Records.ToDictionary(r => r.Metadata.Name!, StringComparer.Ordinal);
        var name = ObjectNames.Record(d.Metadata.Name!, current);
        var previousRevision = byRevision.Keys.Where(r => r < current).DefaultIfEmpty(0).Max();
        var previousName = previousRevision > 0 ? ObjectNames.Record(d.Metadata.Name!, previousRevision) : null;
        var previous = previousName is not null ? existing.GetValueOrDefault(previousName) : null;
        var reused = HistoryOf(currentRs).Count > 0;
        var isRollback = reused && previousRevision > 0;
        var isRestart = previousRevision > 0 && byRevision[previousRevision].Spec?.Template?.Fingerprint is { } pf
            && pf == currentRs.Spec?.Template?.Fingerprint && !reused;

        var record = existing.TryGetValue(name, out var found) ? KubeClone.DeepCopy(found) : NewRecord(input, name, current, currentRs);
        var status = record.Status ??= new DeploymentRecordStatus();
        CheckCommitTimes(record, input, currentRs, problems, isNew: found is null);
        // A reused ReplicaSet carries no start: the record's creation is when the operator saw it start.
        status.StartedAt ??= reused ? found?.Metadata.CreationTimestamp ?? input.Now : currentRs.Metadata.CreationTimestamp ?? input.Now;
        if (isRollback && previous is not null) status.RollbackOf ??= previousName;

        if (status.Phase is null or RecordPhases.Progressing)
        {
            if (isRestart)
            {
                status.Phase = RecordPhases.Restart;
                status.Reason = "the revision only restarts the pods (kubectl.kubernetes.io/restartedAt); it ships no change";
            }
            else
            {
                ApplyRolloutState(d, status, input.Now);
            }
        }
        // A reused ReplicaSet first seen after its rollout completed: the observed start would come after
        // the deployment, so the deployment time is the best bound.
        if (status is { StartedAt: { } started, DeployedAt: { } deployed } && started > deployed) status.StartedAt = deployed;
        if (found is null && record.Spec.ChangeType is null && previous is { Status.Phase: RecordPhases.Succeeded, Spec.CommitSha: { Length: > 0 } sha } && sha == record.Spec.CommitSha && !isRestart)
        {
            record.Spec.ChangeType = ChangeTypes.Config;
        }
        ComputeDurations(record, input, problems);

        var plan = new List<DeploymentRecord> { record };
        if (previous is not null)
        {
            var prior = KubeClone.DeepCopy(previous);
            var priorStatus = prior.Status ??= new DeploymentRecordStatus();
            if (isRollback && priorStatus.Phase is RecordPhases.Succeeded or RecordPhases.Progressing or RecordPhases.Failed)
            {
                priorStatus.Phase = RecordPhases.RolledBack;
                priorStatus.RolledBackBy = name;
                priorStatus.FailedAt ??= status.StartedAt;
                priorStatus.Reason = $"rolled back by revision {current}";
            }
            else if (!isRollback && priorStatus.Phase == RecordPhases.Progressing)
            {
                priorStatus.Phase = RecordPhases.Superseded;
                priorStatus.Reason = $"revision {current} started before this one completed";
            }
            plan.Add(prior);
        }
        if (found is null && input.BackfillSince is not null && input.Records.All(IsBackfilled))
        {
            // Backfilled records go first: the current revision's record, created last, ends the backfill.
            plan.InsertRange(0, Backfill(input, byRevision, current, existing, problems));
        }
        else
        {
            AddUnobserved(input, byRevision, current, existing, plan);
        }
        return new RolloutPlan(plan, problems);
    }

    public const string BackfilledCondition = "Backfilled";

    /// <summary>
    /// History from before the operator saw the Deployment: while the only records are backfilled
    /// ones (the current revision's record comes after them and ends it), every revision a retained
    /// ReplicaSet started becomes a record marked Backfilled, with the times the objects keep: its
    /// start (the ReplicaSet's creation) is exact; its completion was not kept, so deployedAt is the
    /// start, a lower bound (the next revision's start bounds it from above), and so is the lead time.
    /// A revision followed by the reuse of an older ReplicaSet was rolled back. Revisions that reused
    /// a ReplicaSet have no time of their own and are left out, as is anything older than retention.
    /// </summary>
    private static List<DeploymentRecord> Backfill(RolloutInput input, Dictionary<long, ReplicaSet> byRevision, long current,
        Dictionary<string, DeploymentRecord> existing, List<AnnotationProblem> problems)
    {
        var backfilled = new List<DeploymentRecord>();
        var since = input.BackfillSince!.Value;
        var revisions = byRevision.Keys.Where(r => r <= current).Order().ToList();
        for (var i = 0; i < revisions.Count - 1; i++)
        {
            var revision = revisions[i];
            var rs = byRevision[revision];
            if (FirstRevisionOf(rs) != revision || rs.Metadata.CreationTimestamp is not { } started || started < since) continue;
            var next = revisions[i + 1];
            var nextRs = byRevision[next];
            var name = ObjectNames.Record(input.Deployment.Metadata.Name!, revision);
            var record = existing.TryGetValue(name, out var found) ? found : NewRecord(input, name, revision, rs, fromReplicaSetOnly: true);
            if (found is null)
            {
                var status = record.Status!;
                CheckCommitTimes(record, input, rs, problems, isNew: true, fromReplicaSetOnly: true);
                status.StartedAt = started;
                status.DeployedAt = started;
                var previousRs = i > 0 ? byRevision[revisions[i - 1]] : null;
                var restart = previousRs?.Spec?.Template?.Fingerprint is { } pf && pf == rs.Spec?.Template?.Fingerprint;
                if (restart)
                {
                    status.Phase = RecordPhases.Restart;
                    status.Reason = "the revision only restarts the pods (kubectl.kubernetes.io/restartedAt); it ships no change";
                    status.DeployedAt = null;
                }
                else if (FirstRevisionOf(nextRs) < revision)
                {
                    status.Phase = RecordPhases.RolledBack;
                    status.Reason = $"rolled back by revision {next}, which reused an older ReplicaSet";
                }
                else
                {
                    status.Phase = RecordPhases.Succeeded;
                }
                if (!restart && record.Spec.ChangeType is null && previousRs is not null
                    && ReadAnnotation(input.Deployment, previousRs, DoraNames.CommitShaAnnotation, fromReplicaSetOnly: true) is { Length: > 0 } sha && sha == record.Spec.CommitSha)
                {
                    record.Spec.ChangeType = ChangeTypes.Config;
                }
                ComputeDurations(record, input, problems);
                var nextStart = FirstRevisionOf(nextRs) == next && nextRs.Metadata.CreationTimestamp is { } n ? $"; revision {next} started at {KubeTimeConverter.Format(n)}" : "";
                var conditions = status.Conditions;
                Conditions.Set(ref conditions, BackfilledCondition, true, "RetainedHistory",
                    $"recorded when the operator first saw the Deployment, from ReplicaSet {rs.Metadata.Name}: startedAt is exact (its creation); " +
                    $"deployedAt and the lead time are lower bounds (the rollout's end was not kept{nextStart})", input.Now);
                status.Conditions = conditions;
            }
            backfilled.Add(record);
        }
        return backfilled.Where(r => !existing.ContainsKey(r.Metadata.Name!)).ToList();
    }

    public static bool IsBackfilled(DeploymentRecord record) => Conditions.Find(record.Status?.Conditions, BackfilledCondition) is { Status: "True" };

    /// <summary>The revision a ReplicaSet was created for: the lowest it served.</summary>
    private static long FirstRevisionOf(ReplicaSet rs)
    {
        var own = long.TryParse(Annotation(rs.Metadata, RevisionAnnotation), NumberStyles.None, CultureInfo.InvariantCulture, out var r) ? r : long.MaxValue;
        return HistoryOf(rs).Append(own).Min();
    }

    /// <summary>
    /// Revisions that started and were replaced before the operator recorded them (it was not running,
    /// or a burst coalesced them): their start is known from the ReplicaSet, their outcome is not. They
    /// are recorded as Superseded with a reason, so the history has no gaps, and count in no metric.
    /// Only revisions after the newest record count: what happened before a Deployment was tracked is
    /// not ours to record.
    /// </summary>
    private static void AddUnobserved(RolloutInput input, Dictionary<long, ReplicaSet> byRevision, long current, Dictionary<string, DeploymentRecord> existing, List<DeploymentRecord> plan)
    {
        if (input.Records.Count == 0) return;
        var newest = input.Records.Max(r => r.Spec.Revision);
        foreach (var (revision, rs) in byRevision.Where(kv => kv.Key > newest && kv.Key < current).OrderBy(kv => kv.Key))
        {
            var name = ObjectNames.Record(input.Deployment.Metadata.Name!, revision);
            if (existing.ContainsKey(name) || plan.Any(p => p.Metadata.Name == name)) continue;
            var next = byRevision.Keys.Where(k => k > revision).Min();
            var record = NewRecord(input, name, revision, rs);
            record.Status!.Phase = RecordPhases.Superseded;
            record.Status.StartedAt = rs.Metadata.CreationTimestamp ?? input.Now;
            record.Status.Reason = $"revision {revision} was replaced by revision {next} before the operator recorded it (the operator was not running, or both came at once); its outcome was not observed";
            plan.Add(record);
        }
    }

    /// <summary>
    /// The records of a deleted Deployment: any still Progressing becomes Superseded with a reason;
    /// the others keep what they recorded.
    /// </summary>
    public static IReadOnlyList<DeploymentRecord> PlanDeleted(IReadOnlyList<DeploymentRecord> records) =>
        records.Where(r => r.Status?.Phase is null or RecordPhases.Progressing).Select(r =>
        {
            var copy = KubeClone.DeepCopy(r);
            copy.Status ??= new DeploymentRecordStatus();
            copy.Status.Phase = RecordPhases.Superseded;
            copy.Status.Reason = "the Deployment was deleted before the rollout completed";
            return copy;
        }).ToList();

    private static void ApplyRolloutState(Deployment d, DeploymentRecordStatus status, DateTimeOffset now)
    {
        var progressing = d.Status?.Conditions?.FirstOrDefault(c => c.Type == RecordPhases.Progressing);
        var observed = (d.Status?.ObservedGeneration ?? 0) >= (d.Metadata.Generation ?? 0);
        if (!observed)
        {
            // The status still describes an older generation: nothing about this rollout is known yet.
            status.Phase = RecordPhases.Progressing;
            return;
        }
        if (progressing is { Reason: "ProgressDeadlineExceeded" })
        {
            status.Phase = RecordPhases.Failed;
            status.FailedAt ??= progressing.LastUpdateTime ?? progressing.LastTransitionTime ?? now;
            status.Reason = "ProgressDeadlineExceeded: the rollout did not complete within spec.progressDeadlineSeconds";
            return;
        }
        var desired = d.Spec?.Replicas ?? 1;
        var s = d.Status;
        var complete = s is not null && (s.UpdatedReplicas ?? 0) == desired && (s.Replicas ?? 0) == desired
            && (s.AvailableReplicas ?? 0) == desired && progressing is { Reason: "NewReplicaSetAvailable" };
        if (complete)
        {
            status.Phase = RecordPhases.Succeeded;
            status.Reason = null;
            status.DeployedAt ??= progressing!.LastUpdateTime ?? now;
        }
        else
        {
            status.Phase = RecordPhases.Progressing;
        }
    }

    private static void ComputeDurations(DeploymentRecord record, RolloutInput input, List<AnnotationProblem> problems)
    {
        var status = record.Status!;
        if (status is { DeployedAt: { } deployed, StartedAt: { } started })
        {
            status.DurationSeconds = Math.Max(0, (deployed - started).TotalSeconds);
        }
        if (record.Spec.ChangeType == ChangeTypes.Config || status.Phase is RecordPhases.Restart || status.RollbackOf is not null)
        {
            // No new commit reaches production: a config-only change, a restart, a rollback to old code.
            status.LeadTimeSeconds = null;
        }
        else if (status.DeployedAt is { } deployedAt && CommitTimes.LeadTimeStart(record.Spec, input.LeadTimeFromFirstCommit) is { } commit)
        {
            status.LeadTimeSeconds = CommitTimes.LeadTimeSeconds(record.Spec, deployedAt, input.LeadTimeFromFirstCommit);
            if (status.LeadTimeSeconds is null)
            {
                var message = $"commit-time {KubeTimeConverter.Format(commit)} is after the deployment completed at {KubeTimeConverter.Format(deployedAt)}; no lead time is recorded";
                if (SetCondition(status, "CommitTimeInFuture", message, input.Now)) problems.Add(new AnnotationProblem(record.Metadata.Name!, "CommitTimeInFuture", message));
            }
        }
        status.Display = status.LeadTimeSeconds is { } lead ? new DisplayValues { LeadTime = Durations.Human(lead) } : null;
    }

    private static DeploymentRecord NewRecord(RolloutInput input, string name, long revision, ReplicaSet rs, bool fromReplicaSetOnly = false)
    {
        var d = input.Deployment;
        var template = rs.Spec?.Template;
        string? Read(string key) => ReadAnnotation(d, rs, key, fromReplicaSetOnly);
        var record = new DeploymentRecord
        {
            Metadata = new ObjectMeta
            {
                Name = name,
                Namespace = d.Metadata.Namespace,
                Labels = new Dictionary<string, string>
                {
                    [DoraNames.ProjectLabel] = ObjectNames.LabelValue(input.Project),
                    ["dora-operator.io/workload"] = ObjectNames.LabelValue(d.Metadata.Name!),
                },
            },
            Spec = new DeploymentRecordSpec
            {
                Project = input.Project,
                Workload = new WorkloadReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = d.Metadata.Name!, Uid = d.Metadata.Uid },
                Revision = revision,
                CommitSha = Read(DoraNames.CommitShaAnnotation),
                ChangeType = Read(DoraNames.ChangeTypeAnnotation),
                Environment = input.Environment,
                Source = Sources.Cluster,
                Image = template?.Spec?.Containers?.FirstOrDefault()?.Image ?? (fromReplicaSetOnly ? null : d.Spec?.Template?.Spec?.Containers?.FirstOrDefault()?.Image),
            },
            Status = new DeploymentRecordStatus(),
        };
        return record;
    }

    /// <summary>
    /// Reads the commit times from the annotations: valid ones fill an empty spec field (new records),
    /// invalid ones set CommitTimeInvalid on any record, new or existing, so the condition survives a
    /// lost status write.
    /// </summary>
    private static void CheckCommitTimes(DeploymentRecord record, RolloutInput input, ReplicaSet rs, List<AnnotationProblem> problems, bool isNew, bool fromReplicaSetOnly = false)
    {
        var d = input.Deployment;
        foreach (var (key, apply) in new (string, Action<DateTimeOffset>)[]
        {
            (DoraNames.CommitTimeAnnotation, t => record.Spec.CommitTime ??= t),
            (DoraNames.FirstCommitTimeAnnotation, t => record.Spec.FirstCommitTime ??= t),
        })
        {
            var text = ReadAnnotation(d, rs, key, fromReplicaSetOnly);
            if (text is null) continue;
            if (CommitTimes.TryParse(text, out var parsed))
            {
                if (isNew) apply(parsed);
                continue;
            }
            var message = $"{key} \"{text}\" on Deployment {d.Metadata.Namespace}/{d.Metadata.Name} is not {CommitTimes.AcceptedForms}; no lead time is recorded";
            if (SetCondition(record.Status!, "CommitTimeInvalid", message, input.Now)) problems.Add(new AnnotationProblem(record.Metadata.Name!, "CommitTimeInvalid", message));
        }
    }

    /// <summary>
    /// The pod template wins over metadata (the template changes with each revision). An old
    /// revision's annotations come from its ReplicaSet only: the Deployment's are the current ones.
    /// </summary>
    private static string? ReadAnnotation(Deployment d, ReplicaSet rs, string key, bool fromReplicaSetOnly = false) =>
        fromReplicaSetOnly
            ? Workloads.TemplateAnnotation(rs.Spec?.Template, key) ?? Annotation(rs.Metadata, key)
            : Workloads.TemplateAnnotation(rs.Spec?.Template, key) ?? Workloads.TemplateAnnotation(d.Spec?.Template, key)
                ?? Annotation(rs.Metadata, key) ?? Annotation(d.Metadata, key);

    /// <summary>Sets a True condition; false when it was already set with this message (nothing new to report).</summary>
    private static bool SetCondition(DeploymentRecordStatus status, string type, string message, DateTimeOffset now)
    {
        var conditions = status.Conditions;
        var changed = Conditions.Set(ref conditions, type, true, type, message, now);
        status.Conditions = conditions;
        return changed;
    }

    private static Dictionary<long, ReplicaSet> ReplicaSetsByRevision(IReadOnlyList<ReplicaSet> sets)
    {
        var map = new Dictionary<long, ReplicaSet>();
        foreach (var rs in sets)
        {
            if (long.TryParse(Annotation(rs.Metadata, RevisionAnnotation), NumberStyles.None, CultureInfo.InvariantCulture, out var r)) map[r] = rs;
            foreach (var h in HistoryOf(rs)) map.TryAdd(h, rs);
        }
        return map;
    }

    private static List<long> HistoryOf(ReplicaSet rs) =>
        (Annotation(rs.Metadata, RevisionHistoryAnnotation) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var r) ? r : 0).Where(r => r > 0).ToList();

    private static string? Annotation(ObjectMeta? meta, string key) => meta?.Annotations?.GetValueOrDefault(key);
}
