using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace DoraOperator.Kube.Meta;

/// <summary>
/// JSON merge patches (RFC 7386) computed from two states, so a controller sends only the fields it
/// changed and never rewrites fields another writer owns. Objects merge member by member; any other
/// value (arrays included) is replaced whole; a member to remove is sent as null.
/// </summary>
public static class MergePatch
{
    /// <summary>The patch that turns <paramref name="from"/> into <paramref name="to"/>; null when they are equal.</summary>
    public static JsonObject? Create(JsonObject? from, JsonObject? to)
    {
        from ??= [];
        to ??= [];
        JsonObject? patch = null;
        foreach (var (name, value) in from)
        {
            if (value is not null && !to.ContainsKey(name)) (patch ??= [])[name] = null;
        }
        foreach (var (name, value) in to)
        {
            var before = from[name];
            if (value is JsonObject after && before is JsonObject old)
            {
                if (Create(old, after) is { } inner) (patch ??= [])[name] = inner;
            }
            else if (!JsonNode.DeepEquals(before, value))
            {
                (patch ??= [])[name] = value?.DeepClone();
            }
        }
        return patch;
    }

    /// <summary>Serializes a value through its own JSON contract as an object (null stays an empty object).</summary>
    public static JsonObject ToObject<T>(T? value, JsonTypeInfo<T> type) =>
        value is null ? [] : JsonSerializer.SerializeToNode(value, type) as JsonObject ?? [];

    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> serialize to the same JSON (member order aside).</summary>
    public static bool Same<T>(T? a, T? b, JsonTypeInfo<T> type) => Create(ToObject(a, type), ToObject(b, type)) is null;
}
