using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using DoraOperator.Kube.Meta;

namespace DoraOperator.Entities.BuiltIn;

/// <summary>
/// apps/v1 Deployment with only the fields the operator reads. Everything else is kept in the
/// <c>ExtensionData</c> bags, so nothing is lost on a write; an informer transform can drop the bags
/// (see <see cref="Workloads.Lean(Deployment)"/>) when the object is only read.
/// </summary>
public sealed class Deployment : KubeObject, IKubeResource<Deployment>
{
    public static ResourceInfo Resource { get; } = new("apps", "v1", "deployments", "Deployment", true);
    public static JsonTypeInfo<Deployment> JsonType => EntitiesJsonContext.Default.Deployment;

    public DeploymentSpec? Spec { get; set; }
    public DeploymentStatus? Status { get; set; }
}

public sealed class DeploymentSpec
{
    public int? Replicas { get; set; }
    public LabelSelector? Selector { get; set; }
    public PodTemplateSpec? Template { get; set; }
    public bool? Paused { get; set; }
    public int? ProgressDeadlineSeconds { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed class PodTemplateSpec
{
    public ObjectMeta? Metadata { get; set; }
    public PodSpec? Spec { get; set; }
}

public sealed class PodSpec
{
    public List<Container>? Containers { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed class Container
{
    public string? Name { get; set; }
    public string? Image { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed class DeploymentStatus
{
    public long? ObservedGeneration { get; set; }
    public int? Replicas { get; set; }
    public int? UpdatedReplicas { get; set; }
    public int? ReadyReplicas { get; set; }
    public int? AvailableReplicas { get; set; }
    public int? UnavailableReplicas { get; set; }
    public List<DeploymentCondition>? Conditions { get; set; }
}

/// <summary>apps/v1 DeploymentCondition (has lastUpdateTime, unlike metav1.Condition).</summary>
public sealed class DeploymentCondition
{
    public string Type { get; set; } = "";
    public string Status { get; set; } = "";
    public DateTimeOffset? LastUpdateTime { get; set; }
    public DateTimeOffset? LastTransitionTime { get; set; }
    public string? Reason { get; set; }
    public string? Message { get; set; }
}

/// <summary>apps/v1 ReplicaSet, lean like <see cref="Deployment"/>.</summary>
public sealed class ReplicaSet : KubeObject, IKubeResource<ReplicaSet>
{
    public static ResourceInfo Resource { get; } = new("apps", "v1", "replicasets", "ReplicaSet", true);
    public static JsonTypeInfo<ReplicaSet> JsonType => EntitiesJsonContext.Default.ReplicaSet;

    public ReplicaSetSpec? Spec { get; set; }
    public ReplicaSetStatus? Status { get; set; }
}

public sealed class ReplicaSetSpec
{
    public int? Replicas { get; set; }
    public LabelSelector? Selector { get; set; }
    public PodTemplateSpec? Template { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed class ReplicaSetStatus
{
    public int? Replicas { get; set; }
    public int? ReadyReplicas { get; set; }
    public int? AvailableReplicas { get; set; }
    public long? ObservedGeneration { get; set; }
}

public static class Workloads
{
    /// <summary>
    /// An informer transform for read-only caches: drops managedFields, the last-applied annotation
    /// and every field the operator never reads (the extension bags), keeping metadata, the pod
    /// template's annotations/labels, container images and status.
    /// </summary>
    /// <summary>kubectl's copy of the whole applied manifest: large, and never read by the operator.</summary>
    public const string LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";

    public static Deployment Lean(Deployment d)
    {
        d.ExtensionData = null;
        LeanMeta(d.Metadata);
        if (d.Spec is { } spec)
        {
            spec.ExtensionData = null;
            if (spec.Selector is { } selector) selector.MatchLabels = StringPool.InternMap(selector.MatchLabels);
            LeanTemplate(spec.Template);
        }
        return d;
    }

    public static ReplicaSet Lean(ReplicaSet rs)
    {
        rs.ExtensionData = null;
        LeanMeta(rs.Metadata);
        if (rs.Spec is { } spec)
        {
            spec.ExtensionData = null;
            LeanTemplate(spec.Template);
        }
        return rs;
    }

    private static void LeanMeta(ObjectMeta meta)
    {
        meta.ExtensionData = null;
        meta.Namespace = StringPool.Intern(meta.Namespace);
        meta.Labels = StringPool.InternMap(meta.Labels);
        meta.Annotations = StringPool.InternMap(meta.Annotations, k => k != LastAppliedAnnotation);
    }

    private static void LeanTemplate(PodTemplateSpec? template)
    {
        if (template?.Metadata is { } m) LeanMeta(m);
        if (template?.Spec is not { } pod) return;
        pod.ExtensionData = null;
        foreach (var c in pod.Containers ?? [])
        {
            c.ExtensionData = null;
            c.Name = StringPool.Intern(c.Name);
        }
        pod.Containers?.TrimExcess();
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, Converters = [typeof(KubeTimeConverter)])]
[JsonSerializable(typeof(Deployment))]
[JsonSerializable(typeof(ReplicaSet))]
public sealed partial class EntitiesJsonContext : JsonSerializerContext;
