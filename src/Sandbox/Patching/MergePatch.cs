using System.Text.Json.Nodes;

namespace DoraOperator.Sandbox.Patching;

/// <summary>JSON merge patch (RFC 7386): objects merge recursively, null deletes, anything else replaces.</summary>
internal static class MergePatch
{
    public static JsonNode? Apply(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject) return patch?.DeepClone();
        var result = target as JsonObject ?? [];
        foreach (var (key, value) in patchObject)
        {
            if (value is null)
            {
                result.Remove(key);
                continue;
            }
            var existing = result.TryGetPropertyValue(key, out var e) ? e : null;
            var merged = Apply(existing?.DeepClone(), value);
            result[key] = merged;
        }
        return result;
    }
}
