using System.Text.Json.Serialization;
using DoraOperator.Kube.Meta;

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
    /// fields, with repeated strings pooled. Everything the tracker compares and writes back (spec,
    /// status, labels, resourceVersion) is kept.
    /// </summary>
    public static DeploymentRecord Lean(DeploymentRecord r)
    {
        r.ExtensionData = null;
        r.ApiVersion = StringPool.Intern(r.ApiVersion);
        r.Kind = StringPool.Intern(r.Kind);
        r.Metadata.ExtensionData = null;
        r.Metadata.Namespace = StringPool.Intern(r.Metadata.Namespace);
        r.Metadata.Labels = StringPool.InternMap(r.Metadata.Labels, poolValue: _ => true);
        r.Spec.Project = StringPool.Intern(r.Spec.Project)!;
        r.Spec.Environment = StringPool.Intern(r.Spec.Environment);
        r.Spec.Source = StringPool.Intern(r.Spec.Source);
        r.Spec.ChangeType = StringPool.Intern(r.Spec.ChangeType);
        r.Spec.Workload.ApiVersion = StringPool.Intern(r.Spec.Workload.ApiVersion);
        r.Spec.Workload.Kind = StringPool.Intern(r.Spec.Workload.Kind);
        if (r.Status is { } status) status.Phase = StringPool.Intern(status.Phase);
        return r;
    }
}
