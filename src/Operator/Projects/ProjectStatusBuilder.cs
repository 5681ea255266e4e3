using DoraOperator.Entities.BuiltIn;
using DoraOperator.Entities.Dora;
using DoraOperator.Kube.Meta;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Operator.Dora;

namespace DoraOperator.Operator.Projects;

/// <summary>Turns a <see cref="DoraReport"/> into the DoraProject's status, and decides its Ready condition. Pure.</summary>
internal static class ProjectStatusBuilder
{
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromDays(30);

    public static TimeSpan WindowOf(DoraProject project) => Durations.TryParse(project.Spec.Window, out var w) ? w : DefaultWindow;

    public static DoraInput Input(DoraProject project, IReadOnlyList<DeploymentRecord> records, IReadOnlyList<Incident> incidents, DateTimeOffset now, TimeSpan? window = null) => new(
        records.Where(r => r.Spec.Project == project.Metadata.Name).ToList(),
        incidents.Where(i => i.Spec.Project == project.Metadata.Name).ToList(),
        DoraDefaults.EnvironmentOf(project),
        now - (window ?? WindowOf(project)),
        now,
        DoraCalculator.BenchmarkFor(project.Spec),
        DoraDefaults.LeadTimeFromFirst(project));

    /// <summary>
    /// Why the project's selector overlaps older projects' (they record the Deployments both select),
    /// or null when it does not: what only the namespace's Deployment labels and claims and its
    /// projects decide.
    /// </summary>
    public static string? Overlap(DoraProject project, IReadOnlyList<DoraProject> namespaceProjects, IReadOnlyList<Deployment> namespaceDeployments)
    {
        if (project.Spec.Selector is not { } own) return null;
        // Only the Deployments this project selects can be contested: match its own selector
        // first, so a namespace of P projects and D Deployments costs D matches, not D x P.
        var contested = namespaceDeployments
            .Where(d => ProjectClaims.Named(d.Metadata) is null && LabelSelectors.Matches(own, d.Metadata.Labels))
            .Select(d => (Deployment: d, Claimants: ProjectClaims.Claimants(namespaceProjects, d.Metadata)))
            .Where(x => x.Claimants.Count > 1 && x.Claimants[0].Metadata.Name != project.Metadata.Name && x.Claimants.Any(p => p.Metadata.Name == project.Metadata.Name))
            .ToList();
        if (contested.Count == 0) return null;
        var names = string.Join(", ", contested.Take(5).Select(x => $"{x.Deployment.Metadata.Name} (recorded by {x.Claimants[0].Metadata.Name})"));
        return $"older DoraProjects also select {contested.Count} of this project's Deployments, and the oldest project records them: {names}. Narrow the selectors so each Deployment has one project.";
    }

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
                DeploysPerDay = report.DeploymentFrequency.PerDay is { } f ? Durations.HumanRate(f) : "-",
                LeadTime = report.LeadTime.MedianSeconds is { } lt ? Durations.Human(lt) : "-",
                ChangeFailureRate = report.ChangeFailureRate.Ratio is { } cfr ? $"{Durations.HumanPercent(cfr)} ({report.ChangeFailureRate.Count}/{report.ChangeFailureRate.Total})" : "-",
                RecoveryTime = report.RecoveryTime.MedianSeconds is { } rt ? Durations.Human(rt) : "-",
                Tier = report.Tier,
            },
        };
    }

    /// <summary>
    /// Ready: False with SelectorInvalid (a selector the API server would reject), SelectorOverlap
    /// (an older project selects one of this project's Deployments, so that one records it), or
    /// SourceConflict (an older project lists one of this project's sources, so inputs from it go there),
    /// NoDeployments (nothing reached the environment in the window); otherwise True, Calculated.
    /// The overlap (<see cref="Overlap"/>) is asked for only when the project has a valid selector.
    /// </summary>
    public static (bool Ready, string Reason, string Message) Readiness(DoraProject project, IReadOnlyList<DoraProject> namespaceProjects, Func<string?> overlap, DoraReport report,
        IReadOnlyList<DoraProject>? allProjects = null)
    {
        if (project.Spec.Selector is { } selector && LabelSelectors.Problem(selector) is { } problem)
        {
            return (false, "SelectorInvalid", $"spec.selector: {problem}");
        }
        if (project.Spec.Selector is not null && overlap() is { } message) return (false, "SelectorOverlap", message);
        if (ProjectClaims.SourceConflict(project, allProjects ?? namespaceProjects) is { } conflict)
        {
            return (false, "SourceConflict",
                $"spec.sources.{conflict.Field} {conflict.Value} is also listed by the older DoraProject {conflict.Owner.Metadata.Namespace}/{conflict.Owner.Metadata.Name}, which receives its inputs; remove it from one of them");
        }
        if (report.DeploymentFrequency.Count is null or 0)
        {
            return (false, "NoDeployments", $"no deployment reached {DoraDefaults.EnvironmentOf(project)} in the window ({DoraDefaults.WindowOf(project)}); the numbers appear with the first one");
        }
        return (true, "Calculated", $"{report.DeploymentFrequency.Count} deployments, {report.ChangeFailureRate.Count} failed changes, {report.LeadTime.Samples} lead-time samples in the window");
    }
}
