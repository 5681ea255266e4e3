using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using DoraOperator.Entities.BuiltIn;
using DoraOperator.Entities.Dora;
using DoraOperator.Kube.Meta;

namespace DoraOperator.Operator.Rollouts;

/// <summary>A problem with a workload's annotations, to report as a Warning Event and a record condition.</summary>
internal sealed record AnnotationProblem(string Record, string Reason, string Message);

/// <summary>What the records of one Deployment should be now.</summary>
internal sealed record RolloutPlan(IReadOnlyList<DeploymentRecord> Records, IReadOnlyList<AnnotationProblem> Problems);

/// <summary>Everything the planner looks at: one Deployment, its ReplicaSets, the records that exist, the project.</summary>
internal sealed record RolloutInput(
    Deployment Deployment,
    IReadOnlyList<ReplicaSet> ReplicaSets,
    IReadOnlyList<DeploymentRecord> Records,
    string Project,
    string Environment,
    DateTimeOffset Now,
    bool LeadTimeFromFirstCommit = false);

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
        var name = RecordName(d.Metadata.Name!, current);
        var previousRevision = byRevision.Keys.Where(r => r < current).DefaultIfEmpty(0).Max();
        var previousName = previousRevision > 0 ? RecordName(d.Metadata.Name!, previousRevision) : null;
        var previous = previousName is not null ? existing.GetValueOrDefault(previousName) : null;
        var reused = HistoryOf(currentRs).Count > 0;
        var isRollback = reused && previousRevision > 0;
        var isRestart = previousRevision > 0 && byRevision[previousRevision].Spec?.Template?.Fingerprint is { } pf
            && pf == currentRs.Spec?.Template?.Fingerprint && !reused;

        var record = existing.TryGetValue(name, out var found) ? Clone(found) : NewRecord(input, name, current, currentRs);
        var status = record.Status ??= new DeploymentRecordStatus();
        CheckCommitTimes(record, input, currentRs, problems, isNew: found is null);
        // A reused ReplicaSet carries no start: the record's creation is when the operator saw it start.
        status.StartedAt ??= reused ? found?.Metadata.CreationTimestamp ?? input.Now : currentRs.Metadata.CreationTimestamp ?? input.Now;
        if (isRollback && previous is not null) status.RollbackOf ??= previousName;

        if (status.Phase is null or "Progressing")
        {
            if (isRestart)
            {
                status.Phase = "Restart";
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
        if (found is null && record.Spec.ChangeType is null && previous is { Status.Phase: "Succeeded", Spec.CommitSha: { Length: > 0 } sha } && sha == record.Spec.CommitSha && !isRestart)
        {
            record.Spec.ChangeType = "config";
        }
        ComputeDurations(record, input, problems);

        var plan = new List<DeploymentRecord> { record };
        if (previous is not null)
        {
            var prior = Clone(previous);
            var priorStatus = prior.Status ??= new DeploymentRecordStatus();
            if (isRollback && priorStatus.Phase is "Succeeded" or "Progressing" or "Failed")
            {
                priorStatus.Phase = "RolledBack";
                priorStatus.RolledBackBy = name;
                priorStatus.FailedAt ??= status.StartedAt;
                priorStatus.Reason = $"rolled back by revision {current}";
            }
            else if (!isRollback && priorStatus.Phase == "Progressing")
            {
                priorStatus.Phase = "Superseded";
                priorStatus.Reason = $"revision {current} started before this one completed";
            }
            plan.Add(prior);
        }
        AddUnobserved(input, byRevision, current, existing, plan);
        return new RolloutPlan(plan, problems);
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
            var name = RecordName(input.Deployment.Metadata.Name!, revision);
            if (existing.ContainsKey(name) || plan.Any(p => p.Metadata.Name == name)) continue;
            var next = byRevision.Keys.Where(k => k > revision).Min();
            var record = NewRecord(input, name, revision, rs);
            record.Status!.Phase = "Superseded";
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
        records.Where(r => r.Status?.Phase is null or "Progressing").Select(r =>
        {
            var copy = Clone(r);
            copy.Status ??= new DeploymentRecordStatus();
            copy.Status.Phase = "Superseded";
            copy.Status.Reason = "the Deployment was deleted before the rollout completed";
            return copy;
        }).ToList();

    /// <summary>
    /// <c>&lt;deployment&gt;-&lt;revision&gt;</c>; names that would exceed 253 characters keep a prefix and
    /// add a hash of the full name, so they stay unique and deterministic.
    /// </summary>
    public static string RecordName(string deployment, long revision)
    {
        var name = $"{deployment}-{revision.ToString(CultureInfo.InvariantCulture)}";
        if (name.Length <= 253) return name;
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..10].ToLowerInvariant();
        var suffix = $"-{hash}-{revision.ToString(CultureInfo.InvariantCulture)}";
        return deployment[..(253 - suffix.Length)].TrimEnd('-', '.') + suffix;
    }

    /// <summary>A label value (at most 63 characters) for a name that may be longer.</summary>
    public static string LabelValue(string name)
    {
        if (name.Length <= 63) return name;
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..10].ToLowerInvariant();
        return name[..52].TrimEnd('-', '.', '_') + "-" + hash;
    }

    private static void ApplyRolloutState(Deployment d, DeploymentRecordStatus status, DateTimeOffset now)
    {
        var progressing = d.Status?.Conditions?.FirstOrDefault(c => c.Type == "Progressing");
        var observed = (d.Status?.ObservedGeneration ?? 0) >= (d.Metadata.Generation ?? 0);
        if (!observed)
        {
            // The status still describes an older generation: nothing about this rollout is known yet.
            status.Phase = "Progressing";
            return;
        }
        if (progressing is { Reason: "ProgressDeadlineExceeded" })
        {
            status.Phase = "Failed";
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
            status.Phase = "Succeeded";
            status.Reason = null;
            status.DeployedAt ??= progressing!.LastUpdateTime ?? now;
        }
        else
        {
            status.Phase = "Progressing";
        }
    }

    private static void ComputeDurations(DeploymentRecord record, RolloutInput input, List<AnnotationProblem> problems)
    {
        var status = record.Status!;
        if (status is { DeployedAt: { } deployed, StartedAt: { } started })
        {
            status.DurationSeconds = Math.Max(0, (deployed - started).TotalSeconds);
        }
        var commitText = input.LeadTimeFromFirstCommit ? record.Spec.FirstCommitTime ?? record.Spec.CommitTime : record.Spec.CommitTime;
        if (record.Spec.ChangeType == "config" || status.Phase is "Restart" || status.RollbackOf is not null)
        {
            // No new commit reaches production: a config-only change, a restart, a rollback to old code.
            status.LeadTimeSeconds = null;
        }
        else if (commitText is { } commit && status.DeployedAt is { } deployedAt)
        {
            if (commit > deployedAt)
            {
                status.LeadTimeSeconds = null;
                var message = $"commit-time {KubeTimeConverter.Format(commit)} is after the deployment completed at {KubeTimeConverter.Format(deployedAt)}; no lead time is recorded";
                if (SetCondition(status, "CommitTimeInFuture", message, input.Now)) problems.Add(new AnnotationProblem(record.Metadata.Name!, "CommitTimeInFuture", message));
            }
            else
            {
                status.LeadTimeSeconds = (deployedAt - commit).TotalSeconds;
            }
        }
        status.Display = status.LeadTimeSeconds is { } lead ? new DisplayValues { LeadTime = Projects.Statistics.HumanDuration(lead) } : null;
    }

    private static DeploymentRecord NewRecord(RolloutInput input, string name, long revision, ReplicaSet rs)
    {
        var d = input.Deployment;
        var template = rs.Spec?.Template;
        string? Read(string key) => ReadAnnotation(d, rs, key);
        var record = new DeploymentRecord
        {
            Metadata = new ObjectMeta
            {
                Name = name,
                Namespace = d.Metadata.Namespace,
                Labels = new Dictionary<string, string>
                {
                    [DoraNames.ProjectLabel] = LabelValue(input.Project),
                    ["dora-operator.io/workload"] = LabelValue(d.Metadata.Name!),
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
                Source = "cluster",
                Image = template?.Spec?.Containers?.FirstOrDefault()?.Image ?? d.Spec?.Template?.Spec?.Containers?.FirstOrDefault()?.Image,
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
    private static void CheckCommitTimes(DeploymentRecord record, RolloutInput input, ReplicaSet rs, List<AnnotationProblem> problems, bool isNew)
    {
        var d = input.Deployment;
        foreach (var (key, apply) in new (string, Action<DateTimeOffset>)[]
        {
            (DoraNames.CommitTimeAnnotation, t => record.Spec.CommitTime ??= t),
            (DoraNames.FirstCommitTimeAnnotation, t => record.Spec.FirstCommitTime ??= t),
        })
        {
            var text = ReadAnnotation(d, rs, key);
            if (text is null) continue;
            if (CommitTime.TryParse(text, out var parsed))
            {
                if (isNew) apply(parsed);
                continue;
            }
            var message = $"{key} \"{text}\" on Deployment {d.Metadata.Namespace}/{d.Metadata.Name} is not {CommitTime.AcceptedForms}; no lead time is recorded";
            if (SetCondition(record.Status!, "CommitTimeInvalid", message, input.Now)) problems.Add(new AnnotationProblem(record.Metadata.Name!, "CommitTimeInvalid", message));
        }
    }

    /// <summary>The pod template wins over metadata (the template changes with each revision).</summary>
    private static string? ReadAnnotation(Deployment d, ReplicaSet rs, string key) =>
        Workloads.TemplateAnnotation(rs.Spec?.Template, key) ?? Workloads.TemplateAnnotation(d.Spec?.Template, key)
        ?? Annotation(rs.Metadata, key) ?? Annotation(d.Metadata, key);

    /// <summary>Sets a True condition; false when it was already set with this message (nothing new to report).</summary>
    private static bool SetCondition(DeploymentRecordStatus status, string type, string message, DateTimeOffset now)
    {
        status.Conditions ??= [];
        var existing = status.Conditions.FirstOrDefault(c => c.Type == type);
        if (existing is { Status: "True" } && existing.Message == message) return false;
        status.Conditions.RemoveAll(c => c.Type == type);
        status.Conditions.Add(new Condition { Type = type, Status = "True", Reason = type, Message = message, LastTransitionTime = existing?.LastTransitionTime ?? now });
        return true;
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

    private static DeploymentRecord Clone(DeploymentRecord r) =>
        System.Text.Json.JsonSerializer.Deserialize(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(r, DeploymentRecord.JsonType), DeploymentRecord.JsonType)!;
}
