using System.Text.Json.Nodes;
using DoraOperator.Sandbox.Http;
using DoraOperator.Sandbox.Resources;

namespace DoraOperator.Sandbox.Selectors;

/// <summary>
/// A field selector (<c>metadata.name=x,involvedObject.uid!=y</c>) limited, like the real server,
/// to the field labels each kind supports; others are a 400.
/// </summary>
internal sealed class FieldSelector
{
    private sealed record Requirement(string Field, bool Equal, string Value);

    private readonly List<Requirement> _requirements;

    private FieldSelector(List<Requirement> requirements) => _requirements = requirements;

    public bool IsEmpty => _requirements.Count == 0;

    /// <summary>The name this selector pins with <c>metadata.name=</c>, if any (used for fast watches).</summary>
    public string? PinnedName => _requirements.FirstOrDefault(r => r.Field == "metadata.name" && r.Equal)?.Value;

    public static FieldSelector Parse(string? text, ResourceType type)
    {
        var requirements = new List<Requirement>();
        if (string.IsNullOrWhiteSpace(text)) return new FieldSelector(requirements);
        foreach (var raw in text.Split(','))
        {
            var part = raw.Trim();
            string field, value;
            bool equal;
            int idx;
            if ((idx = part.IndexOf("!=", StringComparison.Ordinal)) > 0)
            {
                field = part[..idx]; value = part[(idx + 2)..]; equal = false;
            }
            else if ((idx = part.IndexOf("==", StringComparison.Ordinal)) > 0)
            {
                field = part[..idx]; value = part[(idx + 2)..]; equal = true;
            }
            else if ((idx = part.IndexOf('=')) > 0)
            {
                field = part[..idx]; value = part[(idx + 1)..]; equal = true;
            }
            else
            {
                throw ApiException.BadRequest($"invalid selector: '{text}'; can't understand '{part}'");
            }
            field = field.Trim();
            if (field is not ("metadata.name" or "metadata.namespace") && !type.ExtraFieldLabels.Contains(field))
                throw ApiException.BadRequest($"field label not supported: {field}");
            requirements.Add(new Requirement(field, equal, value.Trim()));
        }
        return new FieldSelector(requirements);
    }

    public bool Matches(Func<string, string?> fieldValue)
    {
        foreach (var r in _requirements)
        {
            var actual = fieldValue(r.Field) ?? "";
            if ((actual == r.Value) != r.Equal) return false;
        }
        return true;
    }

    /// <summary>Reads a dotted field path from an object (the set of paths is small and validated).</summary>
    public static string? Read(JsonObject obj, string path)
    {
        JsonNode? node = obj;
        foreach (var segment in path.Split('.'))
        {
            node = node is JsonObject o && o.TryGetPropertyValue(segment, out var next) ? next : null;
            if (node is null) return null;
        }
        return node is JsonValue v ? v.ToString() : null;
    }
}
