using DoraOperator.Entities.BuiltIn;
using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Kube.Queue;

namespace DoraOperator.Operator.Caching;

/// <summary>
/// Every index the operator's caches keep, declared in one place. Index values are
/// <c>namespace/name</c> keys (<see cref="ObjectKey"/> text), so one lookup never mixes namespaces.
/// </summary>
internal static class CacheIndexes
{
    /// <summary>ReplicaSets by the UID of the Deployment or Argo Rollout that controls them; ControllerRevisions by their StatefulSet's or DaemonSet's.</summary>
    public const string Owner = "owner";

    /// <summary>
    /// DeploymentRecords the rollout tracker keeps (source cluster) by <c>namespace/workload</c>, the
    /// workload as <see cref="ObjectNames.WorkloadKey"/> names it; intake records have no workload in the cluster.
    /// </summary>
    public const string Workload = "workload";

    /// <summary>DeploymentRecords and Incidents by <c>namespace/project</c>.</summary>
    public const string Project = "project";

    /// <summary>DeploymentRecords by <c>namespace/incident</c> for each incident their status lists.</summary>
    public const string LinkedIncident = "incident";

    public static string Key(string? ns, string? name) => new ObjectKey(ns ?? "", name ?? "").ToString();

    internal static IReadOnlyDictionary<string, Func<LeanReplicaSet, IEnumerable<string>>> ReplicaSets { get; } = new Dictionary<string, Func<LeanReplicaSet, IEnumerable<string>>>
    {
        [Owner] = rs => rs.OwnerReferences?.Where(o => o.Controller == true && o.Kind is "Deployment" or "Rollout").Select(o => o.Uid) ?? [],
    };

    internal static IReadOnlyDictionary<string, Func<ControllerRevision, IEnumerable<string>>> ControllerRevisions { get; } = new Dictionary<string, Func<ControllerRevision, IEnumerable<string>>>
    {
        [Owner] = r => r.Metadata.OwnerReferences?.Where(o => o.Controller == true && o.Kind is "StatefulSet" or "DaemonSet").Select(o => o.Uid) ?? [],
    };

    internal static IReadOnlyDictionary<string, Func<DeploymentRecord, IEnumerable<string>>> Records { get; } = new Dictionary<string, Func<DeploymentRecord, IEnumerable<string>>>
    {
        [Workload] = r => r.Spec.Source is null or Sources.Cluster ? [Key(r.Metadata.Namespace, ObjectNames.WorkloadKey(r.Spec.Workload.Kind, r.Spec.Workload.Name))] : [],
        [Project] = r => [Key(r.Metadata.Namespace, r.Spec.Project)],
        [LinkedIncident] = r => r.Status?.Incidents?.Select(i => Key(r.Metadata.Namespace, i)) ?? [],
    };

    internal static IReadOnlyDictionary<string, Func<Incident, IEnumerable<string>>> Incidents { get; } = new Dictionary<string, Func<Incident, IEnumerable<string>>>
    {
        [Project] = i => [Key(i.Metadata.Namespace, i.Spec.Project)],
    };
}
