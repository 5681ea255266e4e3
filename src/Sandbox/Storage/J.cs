using System.Text.Json;
using System.Text.Json.Nodes;

namespace DoraOperator.Sandbox.Storage;

/// <summary>
/// Reads numbers from JSON nodes whatever their backing type: a parsed number, or an int/long/double
/// set in code (which System.Text.Json will not convert between numeric types by a cast).
/// </summary>
internal static class J
{
    public static long? Long(JsonNode? node)
    {
        if (node is not JsonValue v) return null;
        if (v.TryGetValue<long>(out var l)) return l;
        if (v.TryGetValue<int>(out var i)) return i;
        if (v.TryGetValue<double>(out var d)) return (long)d;
        if (v.TryGetValue<JsonElement>(out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var el)) return el;
        return null;
    }

    public static double? Double(JsonNode? node)
    {
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number) return null;
        if (v.TryGetValue<double>(out var d)) return d;
        if (v.TryGetValue<long>(out var l)) return l;
        if (v.TryGetValue<int>(out var i)) return i;
        if (v.TryGetValue<decimal>(out var m)) return (double)m;
        return v.TryGetValue<JsonElement>(out var e) ? e.GetDouble() : null;
    }

    public static int? Int(JsonNode? node) => Long(node) is { } l ? (int)Math.Clamp(l, int.MinValue, int.MaxValue) : null;
}
