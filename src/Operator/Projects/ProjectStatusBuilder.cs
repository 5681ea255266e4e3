using DoraOperator.Entities.BuiltIn;
using DoraOperator.Entities.Dora;
using DoraOperator.Kube.Meta;
using DoraOperator.Operator.Rollouts;

namespace DoraOperator.Operator.Projects;

/// <summary>Turns a <see cref="DoraReport"/> into the DoraProject's status, and decides its Ready condition. Pure.</summary>
internal static class ProjectStatusBuilder
{
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromDays(30);

    public static TimeSpan WindowOf(DoraProject project) => Durations.TryParse(project.Spec.Window, out var w) ? w : DefaultWindow;

    public static DoraInput Input(DoraProject project, IReadOnlyList<DeploymentRecord> records, IReadOnlyList<Incident> incidents, DateTimeOffset now, TimeSpan? window = null) => new(
        records.Where(r => r.Spec.Project == project.Metadata.Name).ToList(),
        incidents.Where(i => i.Spec.Project == project.Metadata.Name).ToList(),
        project.Spec.Environment ?? "production",
        now - (window ?? WindowOf(project)),
        now,
        DoraCalculator.BenchmarkFor(project.Spec),
        project.Spec.LeadTimeFrom == "firstCommit");

    public static DoraProjectStatus Build(DoraProject project, DoraReport report, (bool Ready, string Reason, string Message) readiness, DateTimeOffset now)
    {
        var conditions = project.Status?.Conditions?.Select(c => new Condition
        {
            Type = c.Type, Status = c.Status, Reason = c.Reason, Message = c.Message, LastTransitionTime = c.LastTransitionTime, ObservedGeneration = c.ObservedGeneration,
        }).ToList();
        Conditions.Set(ref conditions, "Ready", readiness.Ready, readiness.Reason, readiness.Message, now, project.Metadata.Generation);
        return new DoraProjectStatus
        {
            ObservedGeneration = project.Metadata.Generation,
            Conditions = conditions,
            WindowStart = report.WindowStart,
            WindowEnd = report.WindowEnd,
            Benchmark = report.Benchmark,
            DeploymentFrequency = report.DeploymentFrequency,
            LeadTime = report.LeadTime,
            ChangeFailureRate = report.ChangeFailureRate,
            RecoveryTime = report.RecoveryTime,
            ReworkRate = report.ReworkRate,
            Tier = report.Tier,
            LastDeployment = report.LastDeployment,
            OpenIncidents = report.OpenIncidents,
            Display = new DisplayValues
            {
                DeploysPerDay = report.DeploymentFrequency.PerDay is { } f ? Statistics.HumanRate(f) : "-",
                LeadTime = report.LeadTime.MedianSeconds is { } lt ? Statistics.HumanDuration(lt) : "-",
                ChangeFailureRate = report.ChangeFailureRate.Ratio is { } cfr ? $"{Statistics.HumanPercent(cfr)} ({report.ChangeFailureRate.Count}/{report.ChangeFailureRate.Total})" : "-",
                RecoveryTime = report.RecoveryTime.MedianSeconds is { } rt ? Statistics.HumanDuration(rt) : "-",
                Tier = report.Tier,
            },
        };
    }

    /// <summary>
    /// Ready: False with SelectorInvalid (a selector the API server would reject), SelectorOverlap
    /// (an older project selects one of this project's Deployments, so that one records it), or
    /// NoDeployments (nothing reached the environment in the window); otherwise True, Calculated.
    /// </summary>
    public static (bool Ready, string Reason, string Message) Readiness(DoraProject project, IReadOnlyList<DoraProject> namespaceProjects, IReadOnlyList<Deployment> namespaceDeployments, DoraReport report)
    {
        if (project.Spec.Selector is { } selector && SelectorProblem(selector) is { } problem)
        {
            return (false, "SelectorInvalid", $"spec.selector: {problem}");
        }
        if (project.Spec.Selector is { } mine)
        {
            var older = namespaceProjects
                .Where(p => p.Metadata.Name != project.Metadata.Name && p.Spec.Selector is not null && IsOlder(p, project))
                .ToList();
            var contested = namespaceDeployments
                .Where(d => d.Metadata.Annotations?.GetValueOrDefault(DoraNames.ProjectAnnotation) is not { Length: > 0 } && Selectors.Matches(mine, d.Metadata.Labels))
                .Select(d => (Deployment: d, Winner: older.Where(p => Selectors.Matches(p.Spec.Selector!, d.Metadata.Labels)).OrderBy(p => p.Metadata.CreationTimestamp).ThenBy(p => p.Metadata.Name, StringComparer.Ordinal).FirstOrDefault()))
                .Where(x => x.Winner is not null)
                .ToList();
            if (contested.Count > 0)
            {
                var names = string.Join(", ", contested.Take(5).Select(x => $"{x.Deployment.Metadata.Name} (recorded by {x.Winner!.Metadata.Name})"));
                return (false, "SelectorOverlap", $"older DoraProjects also select {contested.Count} of this project's Deployments, and the oldest project records them: {names}. Narrow the selectors so each Deployment has one project.");
            }
        }
        if (report.DeploymentFrequency.Count is null or 0)
        {
            return (false, "NoDeployments", $"no deployment reached {project.Spec.Environment ?? "production"} in the window ({project.Spec.Window ?? "30d"}); the numbers appear with the first one");
        }
        return (true, "Calculated", $"{report.DeploymentFrequency.Count} deployments, {report.ChangeFailureRate.Count} failed changes, {report.LeadTime.Samples} lead-time samples in the window");
    }

    private static bool IsOlder(DoraProject a, DoraProject b) =>
        a.Metadata.CreationTimestamp < b.Metadata.CreationTimestamp
        || (a.Metadata.CreationTimestamp == b.Metadata.CreationTimestamp && string.CompareOrdinal(a.Metadata.Name, b.Metadata.Name) < 0);

    /// <summary>What the API server's label-selector validation would say, or null.</summary>
    public static string? SelectorProblem(LabelSelector selector)
    {
        foreach (var e in selector.MatchExpressions ?? [])
        {
            switch (e.Operator)
            {
                case "In" or "NotIn" when e.Values is not { Count: > 0 }:
                    return $"matchExpressions key {e.Key}: operator {e.Operator} needs at least one value";
                case "Exists" or "DoesNotExist" when e.Values is { Count: > 0 }:
                    return $"matchExpressions key {e.Key}: operator {e.Operator} takes no values";
                case "In" or "NotIn" or "Exists" or "DoesNotExist":
                    break;
                default:
                    return $"matchExpressions key {e.Key}: unknown operator \"{e.Operator}\" (In, NotIn, Exists, DoesNotExist)";
            }
        }
        return null;
    }
}
