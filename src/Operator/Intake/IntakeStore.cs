using System.Text.Json.Nodes;
using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Kube.Meta;
using DoraOperator.Kube.Rest;
using DoraOperator.Operator.Http;

namespace DoraOperator.Operator.Intake;

/// <summary>What the intake learned about one deployment from outside the cluster.</summary>
internal sealed record DeploymentFacts(
    string Name,
    DoraProject Project,
    string Source,
    string Workload,
    string? Environment,
    string? CommitSha,
    DateTimeOffset? CommitTime,
    DateTimeOffset? FirstCommitTime,
    DateTimeOffset? StartedAt,
    DateTimeOffset? DeployedAt,
    DateTimeOffset? FailedAt,
    string? ChangeType,
    string ExternalId);

/// <summary>How a write went: created, changed, or already so (a replay).</summary>
internal enum WriteOutcome
{
    Created,
    Updated,
    Unchanged,
}

/// <summary>
/// Turns intake facts into custom resources, idempotently: names derive from the source's own id,
/// a replay of what is already recorded changes nothing, and updates are merge patches conditional
/// on the resourceVersion read (retried on a conflict). A record whose outcome is recorded is never
/// rewritten with another one: that is a 409 naming what is there.
/// </summary>
internal sealed class IntakeStore(KubeApiClient client)
{
    public const string ExternalIdAnnotation = "dora-operator.io/external-id";

    public static DeploymentRecord Desired(DeploymentFacts f)
    {
        var project = f.Project;
        var spec = new DeploymentRecordSpec
        {
            Project = project.Metadata.Name!,
            Workload = new WorkloadReference { ApiVersion = DoraNames.Group + "/" + DoraNames.Version, Kind = "External", Name = f.Workload },
            // A deployment from outside the cluster has no workload revision; its times order it.
            Revision = 1,
            CommitSha = f.CommitSha,
            CommitTime = f.CommitTime,
            FirstCommitTime = f.FirstCommitTime,
            ChangeType = f.ChangeType,
            Environment = f.Environment ?? DoraDefaults.EnvironmentOf(project),
            Source = f.Source,
        };
        return new DeploymentRecord
        {
            Metadata = new ObjectMeta
            {
                Name = f.Name,
                Namespace = project.Metadata.Namespace,
                Labels = new Dictionary<string, string>
                {
                    [DoraNames.ProjectLabel] = ObjectNames.LabelValue(project.Metadata.Name!),
                    ["dora-operator.io/workload"] = ObjectNames.LabelValue(f.Workload),
                },
                Annotations = new Dictionary<string, string> { [ExternalIdAnnotation] = f.ExternalId },
                OwnerReferences =
                [
                    new OwnerReference { ApiVersion = DoraProject.Resource.ApiVersion, Kind = "DoraProject", Name = project.Metadata.Name!, Uid = project.Metadata.Uid!, BlockOwnerDeletion = true },
                ],
            },
            Spec = spec,
            Status = Status(spec, f.StartedAt, f.DeployedAt, f.FailedAt, DoraDefaults.LeadTimeFromFirst(project)),
        };
    }

    /// <summary>The status an intake record has: the outcome with its times, duration and lead time.</summary>
    public static DeploymentRecordStatus Status(DeploymentRecordSpec spec, DateTimeOffset? startedAt, DateTimeOffset? deployedAt, DateTimeOffset? failedAt, bool leadTimeFromFirst)
    {
        var status = new DeploymentRecordStatus { StartedAt = startedAt };
        if (deployedAt is { } deployed)
        {
            status.Phase = RecordPhases.Succeeded;
            status.DeployedAt = deployed;
            if (startedAt is { } started && started <= deployed) status.DurationSeconds = (deployed - started).TotalSeconds;
            status.LeadTimeSeconds = spec.ChangeType == ChangeTypes.Config ? null : CommitTimes.LeadTimeSeconds(spec, deployed, leadTimeFromFirst);
            if (status.LeadTimeSeconds is { } lead) status.Display = new DisplayValues { LeadTime = Durations.Human(lead) };
        }
        else if (failedAt is { } failed)
        {
            status.Phase = RecordPhases.Failed;
            status.FailedAt = failed;
            status.Reason = "the pipeline reported the deployment failed";
        }
        else
        {
            status.Phase = RecordPhases.Progressing;
        }
        return status;
    }

    public Task<DeploymentRecord?> TryGetRecordAsync(string ns, string name, CancellationToken cancellationToken) =>
        client.TryGetAsync<DeploymentRecord>(name, ns, cancellationToken);

    /// <summary>Creates the record, or brings an existing one of the same name to the desired outcome.</summary>
    public async Task<(DeploymentRecord Record, WriteOutcome Outcome)> UpsertRecordAsync(DeploymentRecord desired, CancellationToken cancellationToken, DeploymentRecord? existing = null)
    {
        var created = false;
        var current = existing;
        if (current is null)
        {
            try
            {
                var status = desired.Status;
                current = await client.CreateAsync(desired, cancellationToken);
                desired.Status = status;
                created = true;
            }
            catch (KubeApiException e) when (e.IsAlreadyExists)
            {
                current = await client.GetAsync<DeploymentRecord>(desired.Metadata.Name!, desired.Metadata.Namespace, cancellationToken);
            }
        }
        for (var attempt = 0; ; attempt++)
        {
            if (current.Spec.Project != desired.Spec.Project)
            {
                throw new ProblemException(409, "Id already used", $"deployment \"{desired.Metadata.Annotations![ExternalIdAnnotation]}\" is already recorded for another project");
            }
            var patch = StatusPatch(current, desired);
            if (patch is null) return (current, created ? WriteOutcome.Created : WriteOutcome.Unchanged);
            try
            {
                var updated = await client.PatchAsync<DeploymentRecord>(current.Metadata.Name!, current.Metadata.Namespace, PatchType.Merge, patch.ToJsonString(), "status", cancellationToken);
                return (updated, created ? WriteOutcome.Created : WriteOutcome.Updated);
            }
            catch (KubeApiException e) when (e.IsConflict && attempt < 5)
            {
                current = await client.GetAsync<DeploymentRecord>(desired.Metadata.Name!, desired.Metadata.Namespace, cancellationToken);
            }
        }
    }

    /// <summary>The conditional status patch from <paramref name="current"/> to <paramref name="desired"/>; null when nothing is to change; 409 when the outcome would be rewritten.</summary>
    private static JsonObject? StatusPatch(DeploymentRecord current, DeploymentRecord desired)
    {
        var now = current.Status;
        var want = desired.Status!;
        if (!RecordPhases.InProgress(now?.Phase))
        {
            if (RecordPhases.InProgress(want.Phase) || (now!.Phase == want.Phase && now.DeployedAt == want.DeployedAt && now.FailedAt == want.FailedAt)) return null;
            throw new ProblemException(409, "Already recorded", $"deployment {current.Metadata.Name} is already recorded as {now.Phase} at {KubeTimeConverter.Format((now.DeployedAt ?? now.FailedAt)!.Value)}; a recorded outcome is not rewritten");
        }
        // Still in progress: keep the recorded start when the update brings none.
        if (want.StartedAt is null && now?.StartedAt is { } started)
        {
            want.StartedAt = started;
            if (want.DeployedAt is { } deployed && started <= deployed) want.DurationSeconds = (deployed - started).TotalSeconds;
        }
        var from = MergePatch.ToObject(now, DoraJsonContext.Default.DeploymentRecordStatus);
        var to = MergePatch.ToObject(want, DoraJsonContext.Default.DeploymentRecordStatus);
        from.Remove("incidents");
        to.Remove("incidents");
        // A record created moments ago shows the CRD's defaulted status: compare the outcome fields only.
        if (MergePatch.Create(from, to) is not { } status) return null;
        return new JsonObject { ["metadata"] = new JsonObject { ["resourceVersion"] = current.Metadata.ResourceVersion }, ["status"] = status };
    }

    /// <summary>
    /// A workload's records in a project as the API server has them now, not as the cache does: a
    /// client that posts a deployment and then its rollback must find the deployment it just posted,
    /// even before the watch brings it. Rollbacks are rare, so this list is cheap.
    /// </summary>
    public async Task<IReadOnlyList<DeploymentRecord>> RecordsOfAsync(DoraProject project, string workload, CancellationToken cancellationToken)
    {
        var selector = $"{DoraNames.ProjectLabel}={ObjectNames.LabelValue(project.Metadata.Name!)},dora-operator.io/workload={ObjectNames.LabelValue(workload)}";
        return (await client.ListAsync<DeploymentRecord>(project.Metadata.Namespace, new ListOptions(selector), cancellationToken)).Items;
    }

    /// <summary>Marks <paramref name="record"/> rolled back by <paramref name="rollback"/> at <paramref name="at"/> (a failed change), once.</summary>
    public async Task MarkRolledBackAsync(DeploymentRecord record, string rollback, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (record.Status?.Phase == RecordPhases.RolledBack) return;
        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject { ["resourceVersion"] = record.Metadata.ResourceVersion },
            ["status"] = new JsonObject
            {
                ["phase"] = RecordPhases.RolledBack, ["rolledBackBy"] = rollback, ["failedAt"] = KubeTimeConverter.Format(at), ["reason"] = $"rolled back by {rollback}",
            },
        };
        try
        {
            await client.PatchAsync<DeploymentRecord>(record.Metadata.Name!, record.Metadata.Namespace, PatchType.Merge, patch.ToJsonString(), "status", cancellationToken);
        }
        catch (KubeApiException e) when (e.IsConflict || e.IsNotFound)
        {
            // Changed or gone since the cache showed it: a replay of the rollback event tries again.
        }
    }

    /// <summary>An Incident of <paramref name="project"/> named <paramref name="name"/>, labelled with its project.</summary>
    public static Incident NewIncident(DoraProject project, string name, IncidentSpec spec)
    {
        spec.Project = project.Metadata.Name!;
        return new Incident
        {
            Metadata = new ObjectMeta
            {
                Name = name,
                Namespace = project.Metadata.Namespace,
                Labels = new Dictionary<string, string> { [DoraNames.ProjectLabel] = ObjectNames.LabelValue(project.Metadata.Name!) },
            },
            Spec = spec,
        };
    }

    /// <summary>Creates the incident, or records on the existing one the times it does not have yet (detected, restored, resolved).</summary>
    public Task<(Incident Incident, WriteOutcome Outcome)> UpsertIncidentAsync(Incident desired, CancellationToken cancellationToken)
    {
        var times = new JsonObject();
        if (desired.Spec.DetectedAt is { } detected) times["detectedAt"] = KubeTimeConverter.Format(detected);
        if (desired.Spec.RestoredAt is { } restored) times["restoredAt"] = KubeTimeConverter.Format(restored);
        if (desired.Spec.ResolvedAt is { } resolved) times["resolvedAt"] = KubeTimeConverter.Format(resolved);
        return UpsertIncidentAsync(desired, times, cancellationToken);
    }

    /// <summary>Creates the incident, or applies <paramref name="update"/> (spec fields to set when absent) to the existing one.</summary>
    public async Task<(Incident Incident, WriteOutcome Outcome)> UpsertIncidentAsync(Incident desired, JsonObject update, CancellationToken cancellationToken)
    {
        try
        {
            return (await client.CreateAsync(desired, cancellationToken), WriteOutcome.Created);
        }
        catch (KubeApiException e) when (e.IsAlreadyExists)
        {
        }
        return await RecordTimesAsync(desired, update, cancellationToken);
    }

    /// <summary>Sets on an existing incident the times in <paramref name="update"/> it does not have yet, by a conditional merge patch (retried on a conflict).</summary>
    public async Task<(Incident Incident, WriteOutcome Outcome)> RecordTimesAsync(Incident desired, JsonObject update, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var current = await client.GetAsync<Incident>(desired.Metadata.Name!, desired.Metadata.Namespace, cancellationToken);
            if (current.Spec.Project != desired.Spec.Project)
            {
                throw new ProblemException(409, "Id already used", $"incident \"{desired.Spec.ExternalId}\" is already recorded for another project");
            }
            var spec = MergePatch.ToObject(current.Spec, DoraJsonContext.Default.IncidentSpec);
            var changes = new JsonObject();
            foreach (var (field, value) in update)
            {
                // Times already recorded stay: a repeat notification never moves them.
                if (value is not null && spec[field] is null) changes[field] = value.DeepClone();
            }
            if (changes.Count == 0) return (current, WriteOutcome.Unchanged);
            var patch = new JsonObject { ["metadata"] = new JsonObject { ["resourceVersion"] = current.Metadata.ResourceVersion }, ["spec"] = changes };
            try
            {
                return (await client.PatchAsync<Incident>(current.Metadata.Name!, current.Metadata.Namespace, PatchType.Merge, patch.ToJsonString(), cancellationToken: cancellationToken), WriteOutcome.Updated);
            }
            catch (KubeApiException e) when (e.IsConflict && attempt < 5)
            {
            }
        }
    }
}
