using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using DoraOperator.Kube.Meta;

namespace DoraOperator.Entities.BuiltIn;

/// <summary>apps/v1 StatefulSet with the fields the operator reads (the rest is kept in ExtensionData).</summary>
public sealed class StatefulSet : KubeObject, IKubeResource<StatefulSet>
{
    public static ResourceInfo Resource { get; } = new("apps", "v1", "statefulsets", "StatefulSet", true);
    public static JsonTypeInfo<StatefulSet> JsonType => EntitiesJsonContext.Default.StatefulSet;

    public StatefulSetSpec? Spec { get; set; }
    public StatefulSetStatus? Status { get; set; }
}

/// <summary>What the StatefulSet and DaemonSet specs share, so one transform leans both.</summary>
public interface IRevisionedSpec
{
    LabelSelector? Selector { get; set; }
    PodTemplateSpec? Template { get; set; }
    UpdateStrategy? UpdateStrategy { get; set; }
    Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed class StatefulSetSpec : IRevisionedSpec
{
    public int? Replicas { get; set; }
    public LabelSelector? Selector { get; set; }
    public PodTemplateSpec? Template { get; set; }
    public UpdateStrategy? UpdateStrategy { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>StatefulSet and DaemonSet <c>updateStrategy</c>: RollingUpdate (with a StatefulSet's partition) or OnDelete.</summary>
public sealed class UpdateStrategy
{
    public string? Type { get; set; }
    public RollingUpdateParameters? RollingUpdate { get; set; }
}

public sealed class RollingUpdateParameters
{
    public int? Partition { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed class StatefulSetStatus
{
    public long? ObservedGeneration { get; set; }
    public int? Replicas { get; set; }
    public int? ReadyReplicas { get; set; }
    public int? UpdatedReplicas { get; set; }
    public int? AvailableReplicas { get; set; }
    public string? CurrentRevision { get; set; }
    public string? UpdateRevision { get; set; }
}

/// <summary>apps/v1 DaemonSet with the fields the operator reads.</summary>
public sealed class DaemonSet : KubeObject, IKubeResource<DaemonSet>
{
    public static ResourceInfo Resource { get; } = new("apps", "v1", "daemonsets", "DaemonSet", true);
    public static JsonTypeInfo<DaemonSet> JsonType => EntitiesJsonContext.Default.DaemonSet;

    public DaemonSetSpec? Spec { get; set; }
    public DaemonSetStatus? Status { get; set; }
}

public sealed class DaemonSetSpec : IRevisionedSpec
{
    public LabelSelector? Selector { get; set; }
    public PodTemplateSpec? Template { get; set; }
    public UpdateStrategy? UpdateStrategy { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed class DaemonSetStatus
{
    public long? ObservedGeneration { get; set; }
    public int? DesiredNumberScheduled { get; set; }
    public int? UpdatedNumberScheduled { get; set; }
    public int? NumberAvailable { get; set; }
    public int? NumberReady { get; set; }
}

/// <summary>
/// apps/v1 ControllerRevision: one pod template of a StatefulSet or DaemonSet, numbered. Its
/// <c>data</c> holds the whole template (as a patch); the lean transform keeps only
/// <see cref="Template"/>, reduced as a ReplicaSet's is.
/// </summary>
public sealed class ControllerRevision : KubeObject, IKubeResource<ControllerRevision>
{
    public static ResourceInfo Resource { get; } = new("apps", "v1", "controllerrevisions", "ControllerRevision", true);
    public static JsonTypeInfo<ControllerRevision> JsonType => EntitiesJsonContext.Default.ControllerRevision;

    public long Revision { get; set; }
    public JsonElement? Data { get; set; }

    /// <summary>Set by <see cref="RevisionedWorkloads.Lean(ControllerRevision)"/>: the template from <see cref="Data"/>, leaned. Never serialized.</summary>
    [JsonIgnore]
    public PodTemplateSpec? Template { get; set; }

    /// <summary>The pod template this revision restores (from the lean cache, or read from <see cref="Data"/>).</summary>
    public PodTemplateSpec? TemplateOf() =>
        Template ?? (Data is { ValueKind: JsonValueKind.Object } data && data.TryGetProperty("spec", out var spec) && spec.TryGetProperty("template", out var template)
            ? template.Deserialize(EntitiesJsonContext.Default.PodTemplateSpec)
            : null);
}

/// <summary>Informer transforms for StatefulSets, DaemonSets and ControllerRevisions, as <see cref="Workloads"/> does for Deployments.</summary>
public static class RevisionedWorkloads
{
    public static StatefulSet Lean(StatefulSet s)
    {
        LeanWorkload(s, s.Spec);
        return s;
    }

    public static DaemonSet Lean(DaemonSet d)
    {
        LeanWorkload(d, d.Spec);
        return d;
    }

    /// <summary>Metadata as for Deployments; the template reduced to its fingerprint, DORA annotations and image.</summary>
    private static void LeanWorkload(KubeObject workload, IRevisionedSpec? spec)
    {
        workload.ExtensionData = null;
        workload.ApiVersion = StringPool.Intern(workload.ApiVersion);
        workload.Kind = StringPool.Intern(workload.Kind);
        Workloads.LeanMeta(workload.Metadata);
        if (spec is null) return;
        spec.ExtensionData = null;
        spec.Selector = null;
        spec.Template = Workloads.LeanTemplate(spec.Template, fingerprint: true);
        if (spec.UpdateStrategy?.RollingUpdate is { } ru) ru.ExtensionData = null;
    }

    /// <summary>Keeps the owner, revision, creation time and the template's fingerprint, DORA annotations and image.</summary>
    public static ControllerRevision Lean(ControllerRevision r)
    {
        r.ExtensionData = null;
        r.ApiVersion = StringPool.Intern(r.ApiVersion);
        r.Kind = StringPool.Intern(r.Kind);
        Workloads.LeanMeta(r.Metadata);
        r.Metadata.Labels = null;
        r.Metadata.Uid = null;
        foreach (var owner in r.Metadata.OwnerReferences ?? [])
        {
            owner.ApiVersion = StringPool.Intern(owner.ApiVersion)!;
            owner.Kind = StringPool.Intern(owner.Kind)!;
            owner.Name = StringPool.Intern(owner.Name)!;
            owner.Uid = StringPool.Intern(owner.Uid)!;
        }
        r.Metadata.OwnerReferences?.TrimExcess();
        r.Template = Workloads.LeanTemplate(r.TemplateOf(), fingerprint: true);
        r.Data = null;
        return r;
    }
}
