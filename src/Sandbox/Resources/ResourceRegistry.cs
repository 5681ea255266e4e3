using System.Collections.Immutable;

namespace DoraOperator.Sandbox.Resources;

/// <summary>
/// The set of resources currently served. Built-ins are fixed; CRDs come and go at runtime, and a
/// reader always sees a consistent snapshot (the map is swapped whole).
/// </summary>
internal sealed class ResourceRegistry
{
    private ImmutableDictionary<string, ResourceType> _byKey;

    public ResourceRegistry()
    {
        _byKey = BuiltInResources.All().ToImmutableDictionary(t => t.Key);
    }

    public IEnumerable<ResourceType> All => _byKey.Values;

    public ResourceType? Find(string group, string version, string plural) =>
        _byKey.TryGetValue($"{group}/{plural}", out var type) && type.Versions.Contains(version) ? type : null;

    public ResourceType? FindByKey(string key) => _byKey.TryGetValue(key, out var type) ? type : null;

    public ResourceType? FindByKind(string group, string kind) =>
        _byKey.Values.FirstOrDefault(t => t.Group == group && t.Kind == kind);

    public IReadOnlyList<string> GroupVersions(string group) =>
        _byKey.Values.Where(t => t.Group == group).SelectMany(t => t.Versions).Distinct().ToList();

    public void Put(ResourceType type) => ImmutableInterlocked.Update(ref _byKey, d => d.SetItem(type.Key, type));

    public void Remove(string key) => ImmutableInterlocked.Update(ref _byKey, d => d.Remove(key));
}
