using DoraOperator.Entities.Dora;
using DoraOperator.Kube.Meta;

namespace DoraOperator.Entities.Vocabulary;

/// <summary>
/// Which DoraProject a workload belongs to. The <c>dora-operator.io/project</c> annotation names it;
/// otherwise every project of the namespace whose selector matches claims it, and the oldest claimant
/// (creation time, then name) wins. The rollout tracker records for the winner; the others are told
/// by their Ready condition (SelectorOverlap).
/// </summary>
public static class ProjectClaims
{
    /// <summary>The project named by the annotation, or null when the workload names none.</summary>
    public static string? Named(ObjectMeta workload) =>
        workload.Annotations?.GetValueOrDefault(DoraNames.ProjectAnnotation) is { Length: > 0 } named ? named : null;

    /// <summary>The projects whose selector matches the (unannotated) workload, oldest first.</summary>
    /// <remarks>
    /// Matches every project of the namespace (the operator's rollout reconciles look candidates up in
    /// an index of the selectors instead, which must answer the same): a plain loop, sorted only when several claim.
    /// </remarks>
    public static List<DoraProject> Claimants(IEnumerable<DoraProject> namespaceProjects, ObjectMeta workload)
    {
        var claimants = new List<DoraProject>(1);
        foreach (var p in namespaceProjects)
        {
            if (p.Spec.Selector is { } s && LabelSelectors.Matches(s, workload.Labels)) claimants.Add(p);
        }
        if (claimants.Count > 1) claimants.Sort(Oldest);
        return claimants;
    }

    /// <summary>Oldest first: creation time, then name.</summary>
    public static IComparer<DoraProject> Oldest { get; } = Comparer<DoraProject>.Create((a, b) =>
    {
        var byTime = Nullable.Compare(a.Metadata.CreationTimestamp, b.Metadata.CreationTimestamp);
        return byTime != 0 ? byTime : string.CompareOrdinal(a.Metadata.Name, b.Metadata.Name);
    });

    /// <summary>The lists of <c>spec.sources</c>, by their field name, with how values compare (repository and service ids without case).</summary>
    public static IReadOnlyList<(string Field, Func<ProjectSources, List<string>?> List, StringComparer Comparer)> SourceLists { get; } =
    [
        ("names", s => s.Names, StringComparer.Ordinal),
        ("githubRepositories", s => s.GithubRepositories, StringComparer.OrdinalIgnoreCase),
        ("gitlabProjects", s => s.GitlabProjects, StringComparer.OrdinalIgnoreCase),
        ("pagerdutyServices", s => s.PagerdutyServices, StringComparer.OrdinalIgnoreCase),
        ("opsgenieTeams", s => s.OpsgenieTeams, StringComparer.OrdinalIgnoreCase),
        ("jiraProjects", s => s.JiraProjects, StringComparer.OrdinalIgnoreCase),
    ];

    /// <summary>
    /// The first source of <paramref name="project"/> that an older project (anywhere in the cluster)
    /// also lists: inputs for it go to that project. Null when every source is the project's own.
    /// </summary>
    public static (string Field, string Value, DoraProject Owner)? SourceConflict(DoraProject project, IEnumerable<DoraProject> allProjects)
    {
        if (project.Spec.Sources is not { } mine) return null;
        var older = allProjects.Where(p => p.Spec.Sources is not null && Oldest.Compare(p, project) < 0
            && !(p.Metadata.Namespace == project.Metadata.Namespace && p.Metadata.Name == project.Metadata.Name)).OrderBy(p => p, Oldest).ToList();
        foreach (var (field, list, comparer) in SourceLists)
        {
            foreach (var value in list(mine) ?? [])
            {
                if (older.FirstOrDefault(p => list(p.Spec.Sources!)?.Contains(value, comparer) == true) is { } owner) return (field, value, owner);
            }
        }
        return null;
    }
}
