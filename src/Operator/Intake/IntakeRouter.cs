using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Operator.Caching;

namespace DoraOperator.Operator.Intake;

/// <summary>
/// Which DoraProject an input belongs to, from the names outside tools use (<c>spec.sources</c>).
/// A name claimed by several projects belongs to the oldest (creation time, then name), as with
/// overlapping selectors. Reads the shared cache only.
/// </summary>
internal sealed class IntakeRouter(OperatorCache cache)
{
    /// <summary>
    /// An em-metrics <c>project_id</c> or a CI <c>service</c>: <c>namespace/name</c> names the project
    /// directly; otherwise the oldest project listing it in <c>sources.names</c>, or else the oldest
    /// project with that name.
    /// </summary>
    public DoraProject? ByName(string name)
    {
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0) return cache.Projects.Get(name[..slash], name[(slash + 1)..]);
        return Oldest(cache.Projects.List().Where(p => p.Spec.Sources?.Names?.Contains(name, StringComparer.Ordinal) == true))
            ?? Oldest(cache.Projects.List().Where(p => p.Metadata.Name == name));
    }

    /// <summary>The oldest project of <paramref name="ns"/> listing <paramref name="name"/> in <c>sources.names</c>, or named so.</summary>
    public DoraProject? ByName(string ns, string name) =>
        Oldest(cache.Projects.List(ns).Where(p => p.Spec.Sources?.Names?.Contains(name, StringComparer.Ordinal) == true)) ?? cache.Projects.Get(ns, name);

    /// <summary>
    /// An alert: its <c>dora_project</c> and <c>namespace</c> labels first, then a <c>service</c>
    /// label in <c>sources.names</c> (in the alert's namespace when it has one), then its
    /// <c>namespace</c> and <c>deployment</c> labels to the project that records that Deployment.
    /// </summary>
    public DoraProject? ForAlert(IReadOnlyDictionary<string, string> labels)
    {
        labels.TryGetValue("namespace", out var ns);
        if (labels.TryGetValue("dora_project", out var named) && named.Length > 0)
        {
            return ns is { Length: > 0 } ? cache.Projects.Get(ns, named) : ByName(named);
        }
        if (labels.TryGetValue("service", out var service) && service.Length > 0)
        {
            var bySource = Oldest(cache.Projects.List(ns is { Length: > 0 } ? ns : null).Where(p => p.Spec.Sources?.Names?.Contains(service, StringComparer.Ordinal) == true));
            if (bySource is not null) return bySource;
        }
        if (ns is { Length: > 0 } && labels.TryGetValue("deployment", out var deployment) && cache.Deployments.Get(ns, deployment) is { } d)
        {
            return ProjectClaims.Named(d.Metadata) is { } annotated ? cache.Projects.Get(ns, annotated) : cache.ProjectSelectors.Claimants(ns, d.Metadata).FirstOrDefault();
        }
        return null;
    }

    /// <summary>The oldest project listing <paramref name="value"/> in one of its <c>spec.sources</c> lists (compared without case: repository and service names).</summary>
    public DoraProject? BySource(Func<ProjectSources, List<string>?> list, string value) =>
        Oldest(cache.Projects.List().Where(p => p.Spec.Sources is { } s && list(s)?.Contains(value, StringComparer.OrdinalIgnoreCase) == true));

    private static DoraProject? Oldest(IEnumerable<DoraProject> projects) => projects.OrderBy(p => p, ProjectClaims.Oldest).FirstOrDefault();
}
