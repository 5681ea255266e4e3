using DoraOperator.Kube.Meta;

namespace DoraOperator.Entities.BuiltIn;

/// <summary>
/// A ReplicaSet as the operator caches it (made by <see cref="Workloads.Lean(ReplicaSet)"/>): only
/// what the rollout planner reads, in one object. A decoded <see cref="ReplicaSet"/> is four (the
/// object, its metadata, spec and pod template), and a Deployment keeps up to ten old ReplicaSets
/// (revisionHistoryLimit), so at 10,000 Deployments this is the largest cache. Never written back:
/// it is not an API object.
/// </summary>
public sealed class LeanReplicaSet : ICacheItem
{
    private PackedVersion _resourceVersion;
    private PackedTime _created;
    private PackedTime _deleted;

    public required string Name { get; init; }
    public string? Namespace { get; init; }
    public string? ResourceVersion { get => _resourceVersion.Value; init => _resourceVersion = new(value); }
    public DateTimeOffset? CreationTimestamp { get => _created.Value; init => _created = new(value); }
    public DateTimeOffset? DeletionTimestamp { get => _deleted.Value; init => _deleted = new(value); }

    /// <summary>The <c>deployment.kubernetes.io/</c>, Argo revision and <c>dora-operator.io/</c> annotations (see <see cref="Workloads"/>).</summary>
    public Dictionary<string, string>? Annotations { get; init; }
    public List<OwnerReference>? OwnerReferences { get; init; }

    /// <summary>Whether the ReplicaSet had a pod template (every one the API server serves has).</summary>
    public bool HasTemplate { get; init; }

    private readonly TemplateFingerprint _fingerprint;

    /// <summary>The pod template's <see cref="Workloads.Fingerprint(PodTemplateSpec)"/>; null without a template.</summary>
    public TemplateFingerprint? Fingerprint { get => HasTemplate ? _fingerprint : null; init => _fingerprint = value ?? default; }

    /// <summary>The pod template's <c>dora-operator.io/</c> and <c>kubectl.kubernetes.io/restartedAt</c> annotations.</summary>
    public KeyValuePair<string, string>[]? TemplateAnnotations { get; init; }

    /// <summary>The pod template's first container image (set again only to an equal text held by another cache, before it is cached).</summary>
    public string? Image { get; set; }

    /// <summary>The pod template as the planner reads it (a new lean <see cref="PodTemplateSpec"/> each call); null without one.</summary>
    public PodTemplateSpec? Template() =>
        HasTemplate ? new PodTemplateSpec { Fingerprint = Fingerprint, LeanAnnotations = TemplateAnnotations, LeanImage = Image } : null;
}
