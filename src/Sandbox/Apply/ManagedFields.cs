using System.Text.Json.Nodes;
using DoraOperator.Sandbox.Http;
using DoraOperator.Sandbox.Resources;

namespace DoraOperator.Sandbox.Apply;

/// <summary>
/// Who makes a write: the field manager, the API version it wrote in, and the subresource
/// (status, scale) if any. <see cref="BothScopes"/> is for the in-process controllers, whose one
/// store write changes spec and status at once where the real controllers make two writes.
/// </summary>
internal sealed record FieldOwner(string Manager, string ApiVersion, string? Subresource = null, bool BothScopes = false)
{
    /// <summary>The name kube-controller-manager writes under.</summary>
    public static FieldOwner ControllerManager(string apiVersion) => new("kube-controller-manager", apiVersion, null, BothScopes: true);

    public FieldScope Scope => Subresource == "status" ? FieldScope.Status : FieldScope.Main;
}

/// <summary>One managedFields entry: a manager's fields for one operation, API version and subresource.</summary>
internal sealed class ManagedEntry
{
    public required string Manager { get; init; }
    public required string Operation { get; init; }
    public required string ApiVersion { get; set; }
    public string? Subresource { get; init; }
    public string? Time { get; set; }
    public HashSet<string> Fields { get; set; } = new(StringComparer.Ordinal);

    public bool Is(string manager, string operation, string? subresource) =>
        Manager == manager && Operation == operation && Subresource == subresource;
}

/// <summary>
/// <c>metadata.managedFields</c> as kube-apiserver keeps it. An update gives its manager the fields
/// whose values it changed, and takes them from every other manager; fields it removed leave every
/// set. Managers are told apart by name, operation and subresource. An apply makes its manager's set exactly the applied fields, fails with 409 when it would
/// change a field another manager owns (unless forced, which takes the field), co-owns fields it
/// sets to their current value, and removes the fields it applied before, no longer applies, and
/// nobody else owns.
/// </summary>
internal static class ManagedFields
{
    public const string Update = "Update";
    public const string ApplyOperation = "Apply";

    public static List<ManagedEntry> Read(JsonObject? obj) => ReadEntries(obj?["metadata"]?["managedFields"] as JsonArray);

    private static List<ManagedEntry> ReadEntries(JsonArray? list)
    {
        var entries = new List<ManagedEntry>();
        if (list is null) return entries;
        foreach (var item in list)
        {
            if (item is not JsonObject e || (string?)e["manager"] is not { } manager || (string?)e["operation"] is not { } operation) continue;
            entries.Add(new ManagedEntry
            {
                Manager = manager,
                Operation = operation,
                ApiVersion = (string?)e["apiVersion"] ?? "",
                Subresource = (string?)e["subresource"],
                Time = (string?)e["time"],
                Fields = FieldPaths.FromFieldsV1(e["fieldsV1"] as JsonObject),
            });
        }
        return entries;
    }

    /// <summary>Writes the entries that still own something; no entries, no managedFields.</summary>
    public static void Write(JsonObject obj, IEnumerable<ManagedEntry> entries)
    {
        var meta = obj["metadata"]!.AsObject();
        var list = new JsonArray();
        foreach (var e in entries.Where(e => e.Fields.Count > 0))
        {
            var item = new JsonObject { ["manager"] = e.Manager, ["operation"] = e.Operation, ["apiVersion"] = e.ApiVersion };
            if (e.Time is not null) item["time"] = e.Time;
            item["fieldsType"] = "FieldsV1";
            item["fieldsV1"] = FieldPaths.ToFieldsV1(e.Fields);
            if (e.Subresource is not null) item["subresource"] = e.Subresource;
            list.Add((JsonNode)item);
        }
        meta.Remove("managedFields");
        if (list.Count > 0) meta["managedFields"] = list;
    }

    /// <summary>
    /// Moves managedFields to the end of metadata, where kube-apiserver encodes it, so an unchanged
    /// object serializes to the same bytes whichever write put its keys in.
    /// </summary>
    public static void PlaceLast(JsonObject meta)
    {
        if (!meta.TryGetPropertyValue("managedFields", out var fields) || meta.Last().Key == "managedFields") return;
        meta.Remove("managedFields");
        meta["managedFields"] = fields;
    }

    /// <summary>
    /// What an update needs of the object before it: its owned fields per scope and its entries. Taken
    /// before the write's mutation runs on the same node; values that could be changed in place
    /// (lists, maps) are copied.
    /// </summary>
    public sealed class Before
    {
        internal Before(ResourceType type, JsonObject? old, FieldOwner owner)
        {
            foreach (var scope in Scopes(owner))
            {
                var fields = old is null ? [] : FieldPaths.Collect(type, old, scope);
                foreach (var (path, value) in fields)
                {
                    if (value is JsonArray or JsonObject) fields[path] = value.DeepClone();
                }
                Fields[(int)scope] = fields;
            }
            Entries = old?["metadata"]?["managedFields"] as JsonArray;
        }

        internal Dictionary<string, JsonNode?>?[] Fields { get; } = new Dictionary<string, JsonNode?>?[2];
        internal JsonArray? Entries { get; }
    }

    public static Before Snapshot(ResourceType type, JsonObject? old, FieldOwner owner) => new(type, old, owner);

    private static FieldScope[] Scopes(FieldOwner owner) => owner.BothScopes ? [FieldScope.Main, FieldScope.Status] : [owner.Scope];

    /// <summary>Records a create (a snapshot of null) or an update on <paramref name="updated"/>.</summary>
    public static void RecordUpdate(ResourceType type, Before before, JsonObject updated, FieldOwner owner, string now)
    {
        List<ManagedEntry>? entries = null;
        foreach (var scope in Scopes(owner))
        {
            var was = before.Fields[(int)scope]!;
            var after = FieldPaths.Collect(type, updated, scope);
            var changed = after.Where(kv => !was.TryGetValue(kv.Key, out var value) || !JsonNode.DeepEquals(value, kv.Value)).Select(kv => kv.Key).ToList();
            var removed = was.Keys.Where(k => !after.ContainsKey(k)).ToList();
            if (changed.Count == 0 && removed.Count == 0) continue;
            var subresource = owner.BothScopes ? (scope == FieldScope.Status ? "status" : null) : owner.Subresource;
            if (entries is null && removed.Count == 0 && Touch(before.Entries, owner, subresource, changed, now)) continue;
            entries ??= ReadEntries(before.Entries);
            var mine = entries.Find(e => e.Is(owner.Manager, Update, subresource));
            foreach (var e in entries)
            {
                e.Fields.ExceptWith(removed);
                if (e != mine) e.Fields.ExceptWith(changed);
            }
            if (changed.Count == 0) continue;
            if (mine is null)
            {
                mine = new ManagedEntry { Manager = owner.Manager, Operation = Update, ApiVersion = owner.ApiVersion, Subresource = subresource };
                entries.Add(mine);
            }
            mine.Fields.UnionWith(changed);
            mine.ApiVersion = owner.ApiVersion;
            mine.Time = now;
        }
        var meta = updated["metadata"]!.AsObject();
        if (entries is not null) Write(updated, entries);
        else if (before.Entries is null) meta.Remove("managedFields");
        else if (before.Entries.Parent != meta) meta["managedFields"] = before.Entries.Parent is null ? before.Entries : before.Entries.DeepClone();
    }

    /// <summary>
    /// The common update, decided on the stored entries without rebuilding them: the manager already
    /// owns every field it changed and nobody else owns any, so only its entry's time moves.
    /// </summary>
    private static bool Touch(JsonArray? entries, FieldOwner owner, string? subresource, List<string> changed, string now)
    {
        if (entries is null) return false;
        JsonObject? mine = null;
        foreach (var item in entries)
        {
            if (item is JsonObject e && (string?)e["manager"] == owner.Manager && (string?)e["operation"] == Update && (string?)e["subresource"] == subresource)
            {
                mine = e;
            }
        }
        if (mine is null || (string?)mine["apiVersion"] != owner.ApiVersion) return false;
        foreach (var path in changed)
        {
            foreach (var item in entries)
            {
                if (item is JsonObject e && FieldPaths.Contains(e["fieldsV1"] as JsonObject, path) != (e == mine)) return false;
            }
        }
        mine["time"] = now;
        return true;
    }

    /// <summary>
    /// Server-side apply of <paramref name="applied"/> onto <paramref name="current"/> (null: the
    /// object is created). Returns the merged object for admission and the entries to
    /// <see cref="Write"/> on the admitted result.
    /// </summary>
    public static (JsonObject Merged, List<ManagedEntry> Entries) Apply(ResourceType type, JsonObject? current, JsonObject applied, FieldOwner owner,
        bool force, Func<JsonObject, JsonObject, JsonObject> merge, string now)
    {
        var entries = Read(current);
        var scope = owner.Scope;
        var wanted = FieldPaths.Collect(type, applied, scope);
        var existing = current is null ? [] : FieldPaths.Collect(type, current, scope);
        var mine = entries.Find(e => e.Is(owner.Manager, ApplyOperation, owner.Subresource));
        var conflicts = new List<(ManagedEntry Owner, string Path)>();
        foreach (var (path, value) in wanted)
        {
            if (FieldPaths.IsSelf(path) || !existing.TryGetValue(path, out var present) || JsonNode.DeepEquals(present, value)) continue;
            foreach (var e in entries)
            {
                if (e != mine && e.Fields.Contains(path)) conflicts.Add((e, path));
            }
        }
        if (conflicts.Count > 0 && !force) throw Conflicts(conflicts);
        foreach (var (e, path) in conflicts) e.Fields.Remove(path);

        var result = current is null ? new JsonObject() : (JsonObject)current.DeepClone();
        if (mine is not null)
        {
            var othersOwn = entries.Where(e => e != mine).SelectMany(e => e.Fields).ToHashSet(StringComparer.Ordinal);
            var dropped = mine.Fields.Where(p => !wanted.ContainsKey(p) && !othersOwn.Contains(p)).ToList();
            foreach (var path in dropped) FieldPaths.Remove(result, path);
        }
        var merged = merge(result, applied);

        var unchanged = mine is not null && mine.Fields.SetEquals(wanted.Keys)
            && wanted.All(kv => FieldPaths.IsSelf(kv.Key) || (existing.TryGetValue(kv.Key, out var v) && JsonNode.DeepEquals(v, kv.Value)));
        if (mine is null)
        {
            mine = new ManagedEntry { Manager = owner.Manager, Operation = ApplyOperation, ApiVersion = owner.ApiVersion, Subresource = owner.Subresource };
            entries.Add(mine);
        }
        mine.Fields = [.. wanted.Keys];
        mine.ApiVersion = owner.ApiVersion;
        if (!unchanged) mine.Time = now;
        return (merged, entries);
    }

    /// <summary>kube-apiserver's conflict answer: every conflicting field, grouped by the manager that owns it.</summary>
    private static ApiException Conflicts(List<(ManagedEntry Owner, string Path)> conflicts)
    {
        var groups = conflicts
            .GroupBy(c => (c.Owner.Manager, c.Owner.Subresource, c.Owner.ApiVersion))
            .Select(g => (Who: Describe(g.Key.Manager, g.Key.Subresource, g.Key.ApiVersion), Paths: g.Select(c => FieldPaths.Display(c.Path)).Distinct().Order(StringComparer.Ordinal).ToList()))
            .ToList();
        var total = groups.Sum(g => g.Paths.Count);
        var parts = groups.Select(g => g.Paths.Count == 1
            ? $"conflict with {g.Who}: {g.Paths[0]}"
            : $"conflicts with {g.Who}:\n- {string.Join("\n- ", g.Paths)}");
        var message = $"Apply failed with {total} conflict{(total == 1 ? "" : "s")}: {string.Join("\n", parts)}";
        var causes = groups.SelectMany(g => g.Paths.Select(p => new FieldCause("FieldManagerConflict", $"conflict with {g.Who}", p))).ToList();
        return new ApiException(409, "Conflict", message) { Causes = causes };
    }

    private static string Describe(string manager, string? subresource, string apiVersion) =>
        subresource is null ? $"\"{manager}\" using {apiVersion}" : $"\"{manager}\" with subresource \"{subresource}\" using {apiVersion}";
}
