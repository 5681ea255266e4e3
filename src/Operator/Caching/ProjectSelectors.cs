using System.Collections.Concurrent;
using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Kube.Informers;
using DoraOperator.Kube.Meta;

namespace DoraOperator.Operator.Caching;

/// <summary>
/// <see cref="ProjectClaims.Claimants"/> without matching every project of the namespace: each
/// project is filed under one label of its <c>matchLabels</c> (a workload without that label cannot
/// match it), and only projects that select by expressions alone are tried on every workload. A
/// namespace of P projects costs a workload a few lookups and the full match of its candidates,
/// not P matches, on each of a rollout's three to five reconciles. The index of a namespace is built on first
/// use and again after any project is added, deleted or changes its spec (generation).
/// </summary>
internal sealed class ProjectSelectors
{
    private readonly CacheView<DoraProject> _projects;
    private readonly ConcurrentDictionary<string, NamespaceIndex> _indexes = new(StringComparer.Ordinal);
    private long _version;

    public ProjectSelectors(CacheView<DoraProject> projects)
    {
        _projects = projects;
        // Handlers run after the cache holds the change: an index built from a version read before
        // its list is never newer than its version says.
        projects.AddHandler(new(_ => Changed(), (old, p) =>
        {
            if (old.Metadata.Generation != p.Metadata.Generation || old.Metadata.Uid != p.Metadata.Uid) Changed();
        }, _ => Changed()));
    }

    /// <summary>Indexes built so far (for tests).</summary>
    internal int Builds => _builds;

    private int _builds;

    /// <summary>The projects of <paramref name="ns"/> whose selector matches <paramref name="workload"/>, oldest first (as <see cref="ProjectClaims.Claimants"/>).</summary>
    public List<DoraProject> Claimants(string ns, ObjectMeta workload)
    {
        var index = Index(ns);
        var found = new List<DoraProject>(1);
        if (workload.Labels is { Count: > 0 } labels)
        {
            foreach (var (key, value) in labels)
            {
                if (index.ByLabel.TryGetValue((key, value), out var names)) Consider(names);
            }
        }
        Consider(index.ByExpressions);
        if (found.Count > 1) found.Sort(ProjectClaims.Oldest);
        return found;

        void Consider(List<string> names)
        {
            foreach (var name in names)
            {
                if (_projects.Get(ns, name) is { Spec.Selector: { } selector } project && LabelSelectors.Matches(selector, workload.Labels)) found.Add(project);
            }
        }
    }

    private void Changed() => Interlocked.Increment(ref _version);

    private NamespaceIndex Index(string ns)
    {
        var version = Interlocked.Read(ref _version);
        if (_indexes.TryGetValue(ns, out var index) && index.Version == version) return index;
        index = new NamespaceIndex(version);
        foreach (var p in _projects.List(ns))
        {
            if (p.Spec.Selector is not { } selector || p.Metadata.Name is not { } name) continue;
            if (selector.MatchLabels is { Count: > 0 } matchLabels)
            {
                var (key, value) = matchLabels.First();
                if (!index.ByLabel.TryGetValue((key, value), out var names)) index.ByLabel[(key, value)] = names = [];
                names.Add(name);
            }
            else if (selector.MatchExpressions is { Count: > 0 })
            {
                index.ByExpressions.Add(name);
            }
        }
        Interlocked.Increment(ref _builds);
        _indexes[ns] = index;
        return index;
    }

    /// <summary>One namespace's projects: by one of their matchLabels, and those that select by expressions alone.</summary>
    private sealed class NamespaceIndex(long version)
    {
        public long Version { get; } = version;

        public Dictionary<(string Key, string Value), List<string>> ByLabel { get; } = [];

        public List<string> ByExpressions { get; } = [];
    }
}
