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
    public static List<DoraProject> Claimants(IEnumerable<DoraProject> namespaceProjects, ObjectMeta workload) =>
        namespaceProjects
            .Where(p => p.Spec.Selector is { } s && LabelSelectors.Matches(s, workload.Labels))
            .OrderBy(p => p, Oldest)
            .ToList();

    /// <summary>Oldest first: creation time, then name.</summary>
    public static IComparer<DoraProject> Oldest { get; } = Comparer<DoraProject>.Create((a, b) =>
    {
        var byTime = Nullable.Compare(a.Metadata.CreationTimestamp, b.Metadata.CreationTimestamp);
        return byTime != 0 ? byTime : string.CompareOrdinal(a.Metadata.Name, b.Metadata.Name);
    });
}
