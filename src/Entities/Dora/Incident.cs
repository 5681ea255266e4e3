using System.Text.Json.Serialization.Metadata;
using DoraOperator.Entities.Schema;
using DoraOperator.Kube.Meta;

namespace DoraOperator.Entities.Dora;

/// <summary>
/// Incident is a degradation of service in production, opened by people (kubectl apply), by
/// Alertmanager or by the HTTP API. It gives recovery time, and fails the deployment it links to.
/// </summary>
[CustomResource("incident", ShortNames = ["inc"], Categories = ["dora-operator"])]
[PrinterColumn(1, "Project", "string", ".spec.project")]
[PrinterColumn(2, "Severity", "string", ".spec.severity")]
[PrinterColumn(3, "Phase", "string", ".status.phase")]
[PrinterColumn(4, "Started", "date", ".spec.startedAt")]
[PrinterColumn(5, "Restored In", "string", ".status.display.restoredIn")]
[PrinterColumn(6, "Age", "date", ".metadata.creationTimestamp")]
public sealed class Incident : KubeObject, IKubeResource<Incident>
{
    public static ResourceInfo Resource { get; } = new(DoraNames.Group, DoraNames.Version, "incidents", "Incident", true);
    public static JsonTypeInfo<Incident> JsonType => DoraJsonContext.Default.Incident;

    public IncidentSpec Spec { get; set; } = new();
    public IncidentStatus? Status { get; set; }
}

/// <summary>What happened and when.</summary>
[ValidationRule("!has(self.restoredAt) || !has(self.startedAt) || timestamp(self.restoredAt) >= timestamp(self.startedAt)", "restoredAt must not be before startedAt", FieldPath = ".restoredAt")]
[ValidationRule("!has(self.resolvedAt) || !has(self.startedAt) || timestamp(self.resolvedAt) >= timestamp(self.startedAt)", "resolvedAt must not be before startedAt", FieldPath = ".resolvedAt")]
public sealed class IncidentSpec
{
    /// <summary>The DoraProject (same namespace) the incident belongs to.</summary>
    [Required]
    [MaxLength(253)]
    public string Project { get; set; } = "";

    /// <summary>A one-line description.</summary>
    [MaxLength(1024)]
    public string? Title { get; set; }

    /// <summary>critical, high, medium or low.</summary>
    [Default("medium")]
    [AllowedValues("critical", "high", "medium", "low")]
    public string? Severity { get; set; }

    /// <summary>When service degraded. Defaults to the incident's creation time.</summary>
    public DateTimeOffset? StartedAt { get; set; }

    /// <summary>When someone noticed.</summary>
    public DateTimeOffset? DetectedAt { get; set; }

    /// <summary>When service was restored (recovery time ends here).</summary>
    public DateTimeOffset? RestoredAt { get; set; }

    /// <summary>When the incident was closed. Implies restored; restoredAt is filled from it when absent.</summary>
    public DateTimeOffset? ResolvedAt { get; set; }

    /// <summary>The DeploymentRecord that caused it, if known.</summary>
    [MaxLength(253)]
    public string? DeploymentRef { get; set; }

    /// <summary>Where it came from: manual, alertmanager, api, ...</summary>
    [Default("manual")]
    [MaxLength(63)]
    public string? Source { get; set; }

    /// <summary>The incident's id in an external system (PagerDuty, Opsgenie, Alertmanager fingerprint).</summary>
    [MaxLength(253)]
    public string? ExternalId { get; set; }
}

/// <summary>The incident as the operator computed it.</summary>
public sealed class IncidentStatus
{
    /// <summary>Open, Restored or Resolved.</summary>
    [AllowedValues("Open", "Restored", "Resolved")]
    public string? Phase { get; set; }

    /// <summary>restoredAt - startedAt.</summary>
    public double? TimeToRestoreSeconds { get; set; }

    /// <summary>resolvedAt - startedAt.</summary>
    public double? TimeToResolveSeconds { get; set; }

    /// <summary>startedAt - the linked deployment's deployedAt.</summary>
    public double? TimeToDetectSeconds { get; set; }

    /// <summary>The DeploymentRecord the incident is attributed to.</summary>
    public string? LinkedDeployment { get; set; }

    /// <summary>Invalid (with the reason) when the spec cannot be processed.</summary>
    [ListMap("type")]
    public List<Condition>? Conditions { get; set; }

    /// <summary>Preformatted values for kubectl columns.</summary>
    public DisplayValues? Display { get; set; }
}
