using System.Text.Json.Serialization.Metadata;
using DoraOperator.Entities.Schema;
using DoraOperator.Kube.Meta;

namespace DoraOperator.Entities.Dora;

/// <summary>
/// DoraProject is a team's delivery pipeline as DORA measures it: the Deployments it selects in its
/// namespace, the environment they deliver to, and the window and benchmark its four keys are
/// computed over. The operator writes the numbers, their DORA buckets and tiers to its status.
/// </summary>
[CustomResource("doraproject", ShortNames = ["dora", "dp"], Categories = ["dora-operator"])]
[PrinterColumn(1, "Deploys/Day", "string", ".status.display.deploysPerDay", Description = "Successful deployments per day over the window")]
[PrinterColumn(2, "Lead Time", "string", ".status.display.leadTime", Description = "Median change lead time")]
[PrinterColumn(3, "CFR", "string", ".status.display.changeFailureRate", Description = "Change failure rate")]
[PrinterColumn(4, "Recovery", "string", ".status.display.recoveryTime", Description = "Median failed-deployment recovery time")]
[PrinterColumn(5, "Tier", "string", ".status.display.tier", Description = "Overall DORA tier against the benchmark")]
[PrinterColumn(6, "Age", "date", ".metadata.creationTimestamp")]
public sealed class DoraProject : KubeObject, IKubeResource<DoraProject>
{
    public static ResourceInfo Resource { get; } = new(DoraNames.Group, DoraNames.Version, "doraprojects", "DoraProject", true);
    public static JsonTypeInfo<DoraProject> JsonType => DoraJsonContext.Default.DoraProject;

    public DoraProjectSpec Spec { get; set; } = new();
    public DoraProjectStatus? Status { get; set; }
}

/// <summary>What the project measures and how.</summary>
[ValidationRule("self.benchmark != 'custom' || has(self.thresholds)", "benchmark 'custom' needs spec.thresholds")]
public sealed class DoraProjectSpec
{
    /// <summary>Selects the Deployments in this namespace that belong to the project. Deployments annotated dora-operator.io/project with the project's name belong to it too.</summary>
    public LabelSelector? Selector { get; set; }

    /// <summary>The environment the selected workloads deliver to; only deployments to it count.</summary>
    [Default("production")]
    [MaxLength(63)]
    public string? Environment { get; set; }

    /// <summary>The team that owns the project, shown on metrics.</summary>
    [MaxLength(63)]
    public string? Team { get; set; }

    /// <summary>The rolling window the metrics are computed over: a number and a unit (m, h, d, w), e.g. 30d, 720h, 2w.</summary>
    [Default("30d")]
    [Pattern(DoraNames.DurationPattern)]
    public string? Window { get; set; }

    /// <summary>The benchmark the tiers are read against: dora-2023, dora-2024, or custom (with thresholds).</summary>
    [Default("dora-2023")]
    [AllowedValues("dora-2023", "dora-2024", "custom")]
    public string? Benchmark { get; set; }

    /// <summary>Tier thresholds for benchmark custom.</summary>
    public CustomThresholds? Thresholds { get; set; }

    /// <summary>Where lead time starts: commit (the commit deployed, the default) or firstCommit (the oldest commit the release ships, from dora-operator.io/first-commit-time).</summary>
    [Default("commit")]
    [AllowedValues("commit", "firstCommit")]
    public string? LeadTimeFrom { get; set; }

    /// <summary>How incidents are attributed to deployments.</summary>
    public IncidentAttribution? IncidentAttribution { get; set; }

    /// <summary>How long DeploymentRecords are kept.</summary>
    public RetentionPolicy? Retention { get; set; }

    /// <summary>Record a workload's retained history (its old ReplicaSets) when the operator first sees it, marked Backfilled; false starts from the current revision.</summary>
    [Default(true)]
    public bool? Backfill { get; set; }

    /// <summary>The names outside tools use for this project, so the intake routes their deployments and incidents here.</summary>
    public ProjectSources? Sources { get; set; }
}

/// <summary>What outside tools call the project. A name claimed by two projects belongs to the older one.</summary>
public sealed class ProjectSources
{
    /// <summary>Names: an em-metrics project_id, a CI service name, an alert's service label.</summary>
    [ListSet]
    public List<string>? Names { get; set; }

    /// <summary>GitHub repositories, owner/repo.</summary>
    [ListSet]
    public List<string>? GithubRepositories { get; set; }

    /// <summary>GitLab projects, group/project.</summary>
    [ListSet]
    public List<string>? GitlabProjects { get; set; }

    /// <summary>PagerDuty service IDs.</summary>
    [ListSet]
    public List<string>? PagerdutyServices { get; set; }

    /// <summary>Opsgenie team names.</summary>
    [ListSet]
    public List<string>? OpsgenieTeams { get; set; }

    /// <summary>Jira project keys.</summary>
    [ListSet]
    public List<string>? JiraProjects { get; set; }
}

/// <summary>Incident attribution.</summary>
public sealed class IncidentAttribution
{
    /// <summary>explicit: only incidents naming a DeploymentRecord fail it. lastDeployment: an incident without one is attributed to the last successful deployment before it started, within maxAge.</summary>
    [Default("explicit")]
    [AllowedValues("explicit", "lastDeployment")]
    public string? Mode { get; set; }

    /// <summary>For lastDeployment: how old that deployment may be, e.g. 24h.</summary>
    [Default("24h")]
    [Pattern(DoraNames.DurationPattern)]
    public string? MaxAge { get; set; }
}

/// <summary>Record retention.</summary>
public sealed class RetentionPolicy
{
    /// <summary>Delete records older than this, e.g. 90d.</summary>
    [Default("90d")]
    [Pattern(DoraNames.DurationPattern)]
    public string? MaxAge { get; set; }

    /// <summary>Keep at most this many records per project (oldest are deleted first).</summary>
    [Default(1000)]
    [Range(1, 100000)]
    public int? MaxRecords { get; set; }
}

/// <summary>Per-metric thresholds for benchmark custom: the lowest value (or highest, for durations and rates) each tier accepts.</summary>
public sealed class CustomThresholds
{
    /// <summary>Deployments per day at least: elite, high, medium.</summary>
    public RateBands? DeploymentFrequency { get; set; }

    /// <summary>Lead time below: elite, high, medium (durations like 1d).</summary>
    public DurationBands? LeadTime { get; set; }

    /// <summary>Change failure rate at most, as a fraction between 0 and 1: elite, high, medium.</summary>
    public RateBands? ChangeFailureRate { get; set; }

    /// <summary>Recovery time below: elite, high, medium.</summary>
    public DurationBands? RecoveryTime { get; set; }
}

public sealed class RateBands
{
    [Required]
    public double Elite { get; set; }

    [Required]
    public double High { get; set; }

    [Required]
    public double Medium { get; set; }
}

public sealed class DurationBands
{
    [Required]
    [Pattern(DoraNames.DurationPattern)]
    public string Elite { get; set; } = "";

    [Required]
    [Pattern(DoraNames.DurationPattern)]
    public string High { get; set; } = "";

    [Required]
    [Pattern(DoraNames.DurationPattern)]
    public string Medium { get; set; } = "";
}

/// <summary>The project's DORA numbers, written by the operator.</summary>
public sealed class DoraProjectStatus
{
    /// <summary>The spec generation these numbers were computed for.</summary>
    public long? ObservedGeneration { get; set; }

    /// <summary>Ready: True (Calculated) or False (NoDeployments, SelectorInvalid, SelectorOverlap).</summary>
    [ListMap("type")]
    public List<Condition>? Conditions { get; set; }

    /// <summary>Start of the window the numbers cover.</summary>
    public DateTimeOffset? WindowStart { get; set; }

    /// <summary>End of the window the numbers cover.</summary>
    public DateTimeOffset? WindowEnd { get; set; }

    /// <summary>The benchmark the tiers were read against.</summary>
    public string? Benchmark { get; set; }

    /// <summary>Successful production deployments per day.</summary>
    public FrequencyMetric? DeploymentFrequency { get; set; }

    /// <summary>Commit-to-production time of the deployments in the window.</summary>
    public DurationMetric? LeadTime { get; set; }

    /// <summary>Share of deployments that failed, were rolled back or caused an incident.</summary>
    public RatioMetric? ChangeFailureRate { get; set; }

    /// <summary>Time from a failed change to restored service.</summary>
    public DurationMetric? RecoveryTime { get; set; }

    /// <summary>Share of deployments with change type fix or hotfix.</summary>
    public RatioMetric? ReworkRate { get; set; }

    /// <summary>Overall tier: elite, high, medium, low or unknown.</summary>
    public string? Tier { get; set; }

    /// <summary>The most recent successful deployment.</summary>
    public LastDeployment? LastDeployment { get; set; }

    /// <summary>Incidents of this project not yet restored.</summary>
    public int? OpenIncidents { get; set; }

    /// <summary>Preformatted values for kubectl columns.</summary>
    public DisplayValues? Display { get; set; }
}

public sealed class FrequencyMetric
{
    /// <summary>Deployments per day.</summary>
    public double? PerDay { get; set; }

    /// <summary>Deployments per week.</summary>
    public double? PerWeek { get; set; }

    /// <summary>Deployments counted.</summary>
    public int? Count { get; set; }

    /// <summary>DORA's answer bucket, e.g. "Between once per day and once per week".</summary>
    public string? Bucket { get; set; }

    /// <summary>elite, high, medium, low or unknown.</summary>
    public string? Tier { get; set; }
}

public sealed class DurationMetric
{
    public double? MedianSeconds { get; set; }
    public double? P90Seconds { get; set; }
    public double? MeanSeconds { get; set; }

    /// <summary>Samples behind the numbers.</summary>
    public int? Samples { get; set; }

    public string? Bucket { get; set; }
    public string? Tier { get; set; }
}

public sealed class RatioMetric
{
    /// <summary>The ratio, between 0 and 1.</summary>
    public double? Ratio { get; set; }

    /// <summary>The numerator: failed (or rework) deployments.</summary>
    public int? Count { get; set; }

    /// <summary>The denominator: all deployments counted.</summary>
    public int? Total { get; set; }

    public string? Bucket { get; set; }
    public string? Tier { get; set; }
}

public sealed class LastDeployment
{
    /// <summary>The DeploymentRecord's name.</summary>
    public string? Record { get; set; }
    public DateTimeOffset? DeployedAt { get; set; }
    public string? CommitSha { get; set; }
}
