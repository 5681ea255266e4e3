using System.Text.Json.Serialization;
using DoraOperator.Kube.Meta;
using DoraOperator.Entities.Vocabulary;

namespace DoraOperator.Entities.Dora;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, Converters = [typeof(KubeTimeConverter)])]
[JsonSerializable(typeof(DoraProject))]
[JsonSerializable(typeof(DeploymentRecord))]
[JsonSerializable(typeof(Incident))]
public sealed partial class DoraJsonContext : JsonSerializerContext;

/// <summary>Transforms for read-only caches of the DORA kinds.</summary>
public static class DoraLean
{
    /// <summary>
    /// A DeploymentRecord as the rollout tracker caches it: without managedFields and unknown
    /// fields, with what repeats across records held once. Everything the tracker compares and
    /// writes back (spec, status, labels, resourceVersion) is kept, with equal content:
    /// <list type="bullet">
    /// <item>the labels (project and workload, the same on every record of a workload), the workload
    /// reference, the display (a lead time in human units), the owner reference (the project) and
    /// the conditions of backfilled records are shared instances;</item>
    /// <item>the project, environment, source, change type, phase,
    /// condition types, statuses and reasons are pooled strings.</item>
    /// </list>
    /// </summary>
    public static DeploymentRecord Lean(DeploymentRecord r)
    {
        r.ExtensionData = null;
        r.ApiVersion = StringPool.Intern(r.ApiVersion);
        r.Kind = StringPool.Intern(r.Kind);
        r.Metadata.ExtensionData = null;
        r.Metadata.Namespace = StringPool.Intern(r.Metadata.Namespace);
        r.Metadata.Labels = SharedContent.Map(r.Metadata.Labels);
        r.Metadata.OwnerReferences = SharedContent.OwnerReferences(r.Metadata.OwnerReferences);
        r.Spec.Project = StringPool.Intern(r.Spec.Project)!;
        r.Spec.Environment = StringPool.Intern(r.Spec.Environment);
        r.Spec.Source = StringPool.Intern(r.Spec.Source);
        r.Spec.ChangeType = StringPool.Intern(r.Spec.ChangeType);
        r.Spec.Workload = SharedWorkload(r.Spec.Workload);
        if (r.Status is not { } status) return r;
        status.Phase = StringPool.Intern(status.Phase);
        status.Display = SharedDisplay(status.Display);
        if (status.Conditions is [{ Type: RecordConditions.Backfilled } backfilled])
        {
            status.Conditions = SharedBackfilled(backfilled);
            return r;
        }
        foreach (var c in status.Conditions ?? [])
        {
            c.Type = StringPool.Intern(c.Type)!;
            c.Status = StringPool.Intern(c.Status)!;
            c.Reason = StringPool.Intern(c.Reason)!;
        }
        status.Conditions?.TrimExcess();
        return r;
    }

    private static readonly SharedPool<(string, string, string, DateTimeOffset, long?), List<Condition>> SharedBackfilledConditions =
        new(static list => Content(list[0]));

    private static (string, string, string, DateTimeOffset, long?) Content(Condition c) => (c.Status, c.Reason, c.Message, c.LastTransitionTime, c.ObservedGeneration);

    /// <summary>
    /// A backfilled record's conditions are that one condition, with one text and the time of the
    /// backfill: every record backfilled in the same second (a workload's whole retained history, on
    /// first sight) shares one list.
    /// </summary>
    private static List<Condition> SharedBackfilled(Condition c) =>
        SharedBackfilledConditions.Share(Content(c), static k =>
        [
            new Condition
            {
                Type = RecordConditions.Backfilled, Status = StringPool.Intern(k.Item1)!, Reason = StringPool.Intern(k.Item2)!,
                Message = StringPool.Intern(k.Item3, 1024)!, LastTransitionTime = k.Item4, ObservedGeneration = k.Item5,
            },
        ]);

    private static readonly SharedPool<string, DisplayValues> SharedLeadTimes = new(static d => d.LeadTime!, StringComparer.Ordinal);

    /// <summary>
    /// A record's display holds only its lead time in human units ("2.4h"), and those repeat across
    /// records: one shared instance per text. Any other display is kept as it is.
    /// </summary>
    private static DisplayValues? SharedDisplay(DisplayValues? d)
    {
        if (d is not { LeadTime: { } lead, DeploysPerDay: null, ChangeFailureRate: null, RecoveryTime: null, RestoredIn: null, Tier: null }) return d;
        return SharedLeadTimes.Share(lead, static text => new DisplayValues { LeadTime = StringPool.Intern(text) });
    }

    private static readonly SharedPool<(string?, string?, string, string?), WorkloadReference> SharedWorkloads = new(static w => (w.ApiVersion, w.Kind, w.Name, w.Uid));

    /// <summary>One shared reference per workload (every record of a workload names it the same way), bounded as every <see cref="SharedPool{TKey, TValue}"/> is.</summary>
    private static WorkloadReference SharedWorkload(WorkloadReference w) =>
        SharedWorkloads.Share((w.ApiVersion, w.Kind, w.Name, w.Uid), static k => new WorkloadReference
        {
            ApiVersion = StringPool.Intern(k.Item1), Kind = StringPool.Intern(k.Item2), Name = StringPool.Intern(k.Item3)!, Uid = StringPool.Intern(k.Item4),
        });
}
