using System.Globalization;
using DoraOperator.Entities.BuiltIn;
using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Kube.Meta;

namespace DoraOperator.Operator.Rollouts;

/// <summary>A problem with a workload's annotations, to report as a Warning Event and a record condition.</summary>
internal sealed record AnnotationProblem(string Record, string Reason, string Message);

/// <summary>What the records of one workload should be now; <see cref="RecheckAt"/>: when to plan again even if nothing changes.</summary>
internal sealed record RolloutPlan(IReadOnlyList<DeploymentRecord> Records, IReadOnlyList<AnnotationProblem> Problems, DateTimeOffset? RecheckAt = null);

/// <summary>
/// Everything the planner looks at: one workload with its revisions, the records that exist, the
/// project. <see cref="BackfillSince"/>: record retained history that started after this time on
/// first sight (null: no backfill). <see cref="ProgressSince"/>: since when the workload's
/// <see cref="WorkloadState.Signature"/> has not changed, for kinds whose deadline the operator keeps.
/// </summary>
internal sealed record RolloutInput(
    WorkloadState Workload,
    IReadOnlyList<DeploymentRecord> Records,
    string Project,
    string Environment,
    DateTimeOffset Now,
    bool LeadTimeFromFirstCommit = false,
    DateTimeOffset? BackfillSince = null,
    DateTimeOffset? ProgressSince = null)
{
    /// <summary>A Deployment and its ReplicaSets, as cached (<see cref="Workloads.Lean(ReplicaSet)"/>).</summary>
    public RolloutInput(Deployment deployment, IReadOnlyList<LeanReplicaSet> replicaSets, IReadOnlyList<DeploymentRecord> records, string project, string environment,
        DateTimeOffset now, bool leadTimeFromFirstCommit = false, DateTimeOffset? backfillSince = null)
        : this(WorkloadState.Of(deployment, replicaSets), records, project, environment, now, leadTimeFromFirstCommit, backfillSince)
    {
    }
}

/// <summary>
/// The rollout semantics of DESIGN.md as a pure, level-based function: given what the cluster shows
/// now and the records already written (their status is the storage), it returns what every record
/// of the workload (Deployment, StatefulSet or DaemonSet) should be. It never reads a clock except
/// <see cref="RolloutInput.Now"/>, which it uses only where the objects carry no time (a reused
/// revision, a missing condition time, a kind whose status has no completion time). Records it does
/// not mention are left alone. Calling it again on the same input gives the same records, so a
/// reconcile that writes only differences is idempotent.
/// </summary>
internal static class RolloutPlanner
{
    public const string RevisionAnnotation = Workloads.RevisionAnnotation;
    public const string RevisionHistoryAnnotation = Workloads.RevisionHistoryAnnotation;
    public const string BackfilledCondition = RecordConditions.Backfilled;
    private const string RestartReason = "the revision only restarts the pods (kubectl.kubernetes.io/restartedAt); it ships no change";

    public static RolloutPlan Plan(RolloutInput input)
    {
        var w = input.Workload;
        var problems = new List<AnnotationProblem>();
        var current = w.Current;
        if (current < 1 || !w.Revisions.TryGetValue(current, out var currentRev)) return new RolloutPlan([], problems);

        var existing = input.Records.ToDictionary(r => r.Metadata.Name!, StringComparer.Ordinal);
        var name = w.RecordName(current);
        var previousRevision = w.Previous;
        var previousName = previousRevision > 0 ? w.RecordName(previousRevision) : null;
        var previous = previousName is not null ? existing.GetValueOrDefault(previousName) : null;
        // A ControllerRevision created in the same second as a newer one cannot be told reused by its
        // time; an older record naming the same object says so.
        var reused = !currentRev.OwnTime || input.Records.Any(r => r.Spec.Revision < current
            && r.Metadata.Annotations?.GetValueOrDefault(DoraNames.RevisionObjectAnnotation) == currentRev.ObjectName);
        var isRollback = reused && previousRevision > 0;
        var isRestart = previousRevision > 0 && w.Revisions[previousRevision].Template?.Fingerprint is { } pf
            && pf == currentRev.Template?.Fingerprint && !reused;

        var record = existing.TryGetValue(name, out var found) ? found.WithCopiedSpecAndStatus() : NewRecord(input, name, currentRev);
        var status = record.Status ??= new DeploymentRecordStatus();
        CheckCommitTimes(record, input, currentRev, problems, isNew: found is null);
        // A reused revision carries no start: the record's creation is when the operator saw it start.
        status.StartedAt ??= reused ? found?.Metadata.CreationTimestamp ?? input.Now : currentRev.CreatedAt ?? input.Now;
        if (isRollback && previous is not null) status.RollbackOf ??= previousName;

        DateTimeOffset? recheckAt = null;
        if (status.Phase is null or RecordPhases.Progressing)
        {
            if (isRestart)
            {
                status.Phase = RecordPhases.Restart;
                status.Reason = RestartReason;
            }
            else
            {
                var since = input.ProgressSince is { } p && p > status.StartedAt.Value ? p : status.StartedAt.Value;
                // Times the operator observes are kept to the second, like every time an object carries.
                recheckAt = ApplyProgress(w.Progress(since, Conditions.WholeSeconds(input.Now)), status);
            }
        }
        // A reused revision first seen after its rollout completed: the observed start would come after
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
            var prior = previous.WithCopiedSpecAndStatus();
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
            // Backfilled records go first: the current revision's record, created after them, ends the backfill.
            plan.InsertRange(0, Backfill(input, current, existing, problems));
        }
        else
        {
            AddUnobserved(input, current, existing, plan);
        }
        return new RolloutPlan(plan, problems, recheckAt);
    }

    /// <summary>Writes the rollout's progress into a record's status; returns when to look again.</summary>
    private static DateTimeOffset? ApplyProgress(RolloutState progress, DeploymentRecordStatus status)
    {
        status.Phase = progress.Phase;
        switch (progress.Phase)
        {
            case RecordPhases.Failed:
                status.FailedAt ??= progress.At;
                status.RestoredAt ??= progress.RestoredAt;
                status.Reason = progress.Reason;
                break;
            case RecordPhases.Succeeded:
                status.Reason = null;
                status.DeployedAt ??= progress.At;
                break;
        }
        return progress.RecheckAt;
    }

    public static bool IsBackfilled(DeploymentRecord record) => Conditions.Find(record.Status?.Conditions, BackfilledCondition) is { Status: "True" };

    /// <summary>
    /// History from before the operator saw the workload: while the only records are backfilled
    /// ones (the current revision's record comes after them and ends it), every revision a retained
    /// ReplicaSet or ControllerRevision was created for becomes a record marked Backfilled, with the
    /// times the objects keep: its start (the object's creation) is exact; its completion was not
    /// kept, so deployedAt is the start, a lower bound (the next revision's start bounds it from
    /// above), and so is the lead time. A revision followed by the reuse of an older object was
    /// rolled back. Revisions that reused an object have no time of their own and are left out, as is
    /// anything older than retention.
    /// </summary>
    private static List<DeploymentRecord> Backfill(RolloutInput input, long current, Dictionary<string, DeploymentRecord> existing, List<AnnotationProblem> problems)
    {
        var w = input.Workload;
        var backfilled = new List<DeploymentRecord>();
        var since = input.BackfillSince!.Value;
        var revisions = w.Revisions.Keys.Where(r => r <= current).Order().ToList();
        for (var i = 0; i < revisions.Count - 1; i++)
        {
            var rev = w.Revisions[revisions[i]];
            if (!rev.OwnTime || rev.CreatedAt is not { } started || started < since) continue;
            var next = w.Revisions[revisions[i + 1]];
            var name = w.RecordName(rev.Number);
            if (existing.ContainsKey(name)) continue;
            var record = NewRecord(input, name, rev, fromRevisionOnly: true);
            var status = record.Status!;
            CheckCommitTimes(record, input, rev, problems, isNew: true, fromRevisionOnly: true);
            status.StartedAt = started;
            status.DeployedAt = started;
            var previousRev = i > 0 ? w.Revisions[revisions[i - 1]] : null;
            var restart = previousRev?.Template?.Fingerprint is { } pf && pf == rev.Template?.Fingerprint;
            if (restart)
            {
                status.Phase = RecordPhases.Restart;
                status.Reason = RestartReason;
                status.DeployedAt = null;
            }
            else if (!next.OwnTime)
            {
                status.Phase = RecordPhases.RolledBack;
                status.Reason = $"rolled back by revision {next.Number}, which reused an older {next.ObjectKind}";
            }
            else
            {
                status.Phase = RecordPhases.Succeeded;
            }
            if (!restart && record.Spec.ChangeType is null && previousRev is not null
                && ReadAnnotation(w, previousRev, DoraNames.CommitShaAnnotation, fromRevisionOnly: true) is { Length: > 0 } sha && sha == record.Spec.CommitSha)
            {
                record.Spec.ChangeType = ChangeTypes.Config;
            }
            ComputeDurations(record, input, problems);
            var conditions = status.Conditions;
            Conditions.Set(ref conditions, BackfilledCondition, true, "RetainedHistory", BackfilledMessage(w.Kind, rev.ObjectKind), input.Now);
            status.Conditions = conditions;
            backfilled.Add(record);
        }
        return backfilled;
    }

    /// <summary>
    /// The Backfilled condition's message. It carries nothing particular to one record (the record's
    /// spec names the workload and revision, and the next record's startedAt is the upper bound), so
    /// every backfilled record of a kind has the same text and a cache keeps one copy of it.
    /// </summary>
    internal static string BackfilledMessage(string kind, string objectKind) =>
        $"recorded from the {kind}'s retained {objectKind}s when the operator first saw it: startedAt is exact (the {objectKind}'s creation); " +
        "deployedAt and the lead time are lower bounds (the rollout's end was not kept; the next revision's startedAt bounds them from above)";

    /// <summary>
    /// Revisions that started and were replaced before the operator recorded them (it was not running,
    /// or a burst coalesced them): their start is known from their object, their outcome is not. They
    /// are recorded as Superseded with a reason, so the history has no gaps, and count in no metric.
    /// Only revisions after the newest record count; older history is the backfill's.
    /// </summary>
    private static void AddUnobserved(RolloutInput input, long current, Dictionary<string, DeploymentRecord> existing, List<DeploymentRecord> plan)
    {
        if (input.Records.Count == 0) return;
        var w = input.Workload;
        var newest = input.Records.Max(r => r.Spec.Revision);
        foreach (var (revision, rev) in w.Revisions.Where(kv => kv.Key > newest && kv.Key < current).OrderBy(kv => kv.Key))
        {
            var name = w.RecordName(revision);
            if (existing.ContainsKey(name) || plan.Any(p => p.Metadata.Name == name)) continue;
            var next = w.Revisions.Keys.Where(k => k > revision).Min();
            var record = NewRecord(input, name, rev);
            record.Status!.Phase = RecordPhases.Superseded;
            record.Status.StartedAt = rev.CreatedAt ?? input.Now;
            record.Status.Reason = $"revision {revision} was replaced by revision {next} before the operator recorded it (the operator was not running, or both came at once); its outcome was not observed";
            plan.Add(record);
        }
    }

    /// <summary>
    /// The records of a deleted workload: any still Progressing becomes Superseded with a reason;
    /// the others keep what they recorded.
    /// </summary>
    public static IReadOnlyList<DeploymentRecord> PlanDeleted(IReadOnlyList<DeploymentRecord> records) =>
        records.Where(r => r.Status?.Phase is null or RecordPhases.Progressing).Select(r =>
        {
            var copy = r.WithCopiedSpecAndStatus();
            copy.Status ??= new DeploymentRecordStatus();
            copy.Status.Phase = RecordPhases.Superseded;
            copy.Status.Reason = $"the {r.Spec.Workload.Kind ?? "Deployment"} was deleted before the rollout completed";
            return copy;
        }).ToList();

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

    private static DeploymentRecord NewRecord(RolloutInput input, string name, WorkloadRevision rev, bool fromRevisionOnly = false)
    {
        var w = input.Workload;
        string? Read(string key) => ReadAnnotation(w, rev, key, fromRevisionOnly);
        var record = new DeploymentRecord
        {
            Metadata = new ObjectMeta
            {
                Name = name,
                Namespace = w.Meta.Namespace,
                Labels = new Dictionary<string, string>
                {
                    [DoraNames.ProjectLabel] = ObjectNames.LabelValue(input.Project),
                    ["dora-operator.io/workload"] = ObjectNames.LabelValue(w.Meta.Name!),
                },
                Annotations = w.Kind != "Deployment" ? new Dictionary<string, string> { [DoraNames.RevisionObjectAnnotation] = rev.ObjectName } : null,
            },
            Spec = new DeploymentRecordSpec
            {
                Project = input.Project,
                Workload = new WorkloadReference { ApiVersion = w.ApiVersion, Kind = w.Kind, Name = w.Meta.Name!, Uid = w.Meta.Uid },
                Revision = rev.Number,
                CommitSha = Read(DoraNames.CommitShaAnnotation),
                ChangeType = Read(DoraNames.ChangeTypeAnnotation),
                Environment = input.Environment,
                Source = Sources.Cluster,
                Image = Workloads.Image(rev.Template) ?? (fromRevisionOnly ? null : Workloads.Image(w.Template)),
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
    private static void CheckCommitTimes(DeploymentRecord record, RolloutInput input, WorkloadRevision rev, List<AnnotationProblem> problems, bool isNew, bool fromRevisionOnly = false)
    {
        var w = input.Workload;
        foreach (var (key, apply) in new (string, Action<DateTimeOffset>)[]
        {
            (DoraNames.CommitTimeAnnotation, t => record.Spec.CommitTime ??= t),
            (DoraNames.FirstCommitTimeAnnotation, t => record.Spec.FirstCommitTime ??= t),
        })
        {
            var text = ReadAnnotation(w, rev, key, fromRevisionOnly);
            if (text is null) continue;
            if (CommitTimes.TryParse(text, out var parsed))
            {
                if (isNew) apply(parsed);
                continue;
            }
            var message = $"{key} \"{text}\" on {w.Kind} {w.Meta.Namespace}/{w.Meta.Name} is not {CommitTimes.AcceptedForms}; no lead time is recorded";
            if (SetCondition(record.Status!, "CommitTimeInvalid", message, input.Now)) problems.Add(new AnnotationProblem(record.Metadata.Name!, "CommitTimeInvalid", message));
        }
    }

    /// <summary>
    /// The pod template wins over metadata (the template changes with each revision). An old
    /// revision's annotations come from its own object only: the workload's are the current ones.
    /// </summary>
    private static string? ReadAnnotation(WorkloadState w, WorkloadRevision rev, string key, bool fromRevisionOnly = false) =>
        fromRevisionOnly
            ? Workloads.TemplateAnnotation(rev.Template, key) ?? rev.Annotations?.GetValueOrDefault(key)
            : Workloads.TemplateAnnotation(rev.Template, key) ?? Workloads.TemplateAnnotation(w.Template, key)
                ?? rev.Annotations?.GetValueOrDefault(key) ?? w.Meta.Annotations?.GetValueOrDefault(key);

    /// <summary>Sets a True condition; false when it was already set with this message (nothing new to report).</summary>
    private static bool SetCondition(DeploymentRecordStatus status, string type, string message, DateTimeOffset now)
    {
        var conditions = status.Conditions;
        var changed = Conditions.Set(ref conditions, type, true, type, message, now);
        status.Conditions = conditions;
        return changed;
    }
}
