using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using DoraOperator.Kube.Meta;

namespace DoraOperator.Entities.BuiltIn;

/// <summary>
/// An Argo Rollouts <c>argoproj.io/v1alpha1</c> Rollout, read as JSON (no Argo library): the fields
/// the operator reads to follow a canary or blue-green rollout. Served only where Argo Rollouts is
/// installed.
/// </summary>
public sealed class ArgoRollout : KubeObject, IKubeResource<ArgoRollout>
{
    public static ResourceInfo Resource { get; } = new("argoproj.io", "v1alpha1", "rollouts", "Rollout", true);
    public static JsonTypeInfo<ArgoRollout> JsonType => EntitiesJsonContext.Default.ArgoRollout;

    public const string RevisionAnnotation = "rollout.argoproj.io/revision";

    public ArgoRolloutSpec? Spec { get; set; }
    public ArgoRolloutStatus? Status { get; set; }
}

public sealed class ArgoRolloutSpec
{
    public int? Replicas { get; set; }
    public PodTemplateSpec? Template { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed class ArgoRolloutStatus
{
    /// <summary>A string in Argo's API (unlike apps/v1): the generation as decimal text.</summary>
    public string? ObservedGeneration { get; set; }

    /// <summary>Healthy, Progressing, Paused or Degraded; meaningful only when observedGeneration is current.</summary>
    public string? Phase { get; set; }
    public bool? Abort { get; set; }
    public DateTimeOffset? AbortedAt { get; set; }
    public string? CurrentPodHash { get; set; }
    public string? StableRS { get; set; }
    public ArgoBlueGreenStatus? BlueGreen { get; set; }
    public List<DeploymentCondition>? Conditions { get; set; }
    public string? Message { get; set; }
}

public sealed class ArgoBlueGreenStatus
{
    public string? ActiveSelector { get; set; }
    public string? PreviewSelector { get; set; }
}

/// <summary>The informer transform for Rollouts, as <see cref="Workloads.Lean(Deployment)"/> does for Deployments.</summary>
public static class ArgoRollouts
{
    public static ArgoRollout Lean(ArgoRollout r)
    {
        r.ExtensionData = null;
        r.ApiVersion = StringPool.Intern(r.ApiVersion);
        r.Kind = StringPool.Intern(r.Kind);
        Workloads.LeanMeta(r.Metadata);
        if (r.Spec is { } spec)
        {
            spec.ExtensionData = null;
            spec.Template = Workloads.LeanTemplate(spec.Template, fingerprint: false);
        }
        if (r.Status is { } status)
        {
            status.Message = null;
            foreach (var c in status.Conditions ?? []) c.Message = null;
        }
        return r;
    }
}
