using System.Text.Json.Nodes;

namespace DoraOperator.Sandbox.Printing;

/// <summary>
/// The JSONPath subset CRD printer columns use: <c>.a.b</c>, <c>.a[0]</c>, <c>.a[*].b</c> and
/// filters <c>.a[?(@.type=="Ready")].status</c>. Returns every match in order.
/// </summary>
internal static class JsonPathLite
{
    public static IReadOnlyList<JsonNode> Evaluate(JsonNode root, string path)
    {
        var p = path.Trim();
        if (p.StartsWith('{') && p.EndsWith('}')) p = p[1..^1];
        if (p.StartsWith('$')) p = p[1..];
        var current = new List<JsonNode> { root };
        var pos = 0;
        while (pos < p.Length && current.Count > 0)
        {
            if (p[pos] == '.')
            {
                pos++;
                var start = pos;
                while (pos < p.Length && p[pos] != '.' && p[pos] != '[') pos++;
                var name = p[start..pos];
                if (name.Length == 0) continue;
                current = current.Select(n => n is JsonObject o && o.TryGetPropertyValue(name, out var v) ? v : null).OfType<JsonNode>().ToList();
            }
            else if (p[pos] == '[')
            {
                var close = FindClose(p, pos);
                var inner = p[(pos + 1)..close];
                pos = close + 1;
                current = Index(current, inner);
            }
            else
            {
                return [];
            }
        }
        return current;
    }

    private static int FindClose(string p, int open)
    {
        var depth = 0;
        var inString = false;
        for (var i = open; i < p.Length; i++)
        {
            var c = p[i];
            if (c is '"' or '\'') inString = !inString;
            if (inString) continue;
            if (c == '[') depth++;
            if (c == ']' && --depth == 0) return i;
        }
        return p.Length - 1;
    }

    private static List<JsonNode> Index(List<JsonNode> nodes, string inner)
    {
        var items = nodes.OfType<JsonArray>().SelectMany(a => a).OfType<JsonNode>().ToList();
        if (inner == "*") return items;
        if (int.TryParse(inner, out var index))
        {
            return nodes.OfType<JsonArray>().Select(a => index >= 0 && index < a.Count ? a[index] : index < 0 && -index <= a.Count ? a[a.Count + index] : null).OfType<JsonNode>().ToList();
        }
        if (inner.StartsWith("?(", StringComparison.Ordinal) && inner.EndsWith(')'))
        {
            var expr = inner[2..^1].Trim();
            var ne = expr.Contains("!=", StringComparison.Ordinal);
            var parts = expr.Split(ne ? "!=" : "==", 2);
            if (parts.Length != 2 || !parts[0].Trim().StartsWith('@')) return [];
            var field = parts[0].Trim()[1..];
            var literal = parts[1].Trim().Trim('"', '\'');
            return items.Where(item =>
            {
                var matches = Evaluate(item, field);
                var v = matches.Count > 0 ? matches[0] : null;
                var s = v is JsonValue jv ? jv.ToString() : v?.ToJsonString();
                return (s == literal) != ne;
            }).ToList();
        }
        return [];
    }
}
