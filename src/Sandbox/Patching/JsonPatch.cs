using System.Globalization;
using System.Text.Json.Nodes;

namespace DoraOperator.Sandbox.Patching;

/// <summary>A JSON patch that could not be decoded (400) or applied (422).</summary>
internal sealed class PatchException(string message, bool applyFailure) : Exception(message)
{
    public bool ApplyFailure { get; } = applyFailure;
}

/// <summary>JSON patch (RFC 6902): add, remove, replace, move, copy, test, with RFC 6901 pointers.</summary>
internal static class JsonPatch
{
    public static JsonNode Apply(JsonNode document, JsonNode? patch)
    {
        if (patch is not JsonArray operations) throw new PatchException("json patch must be a JSON array of operations", false);
        var doc = document.DeepClone();
        foreach (var item in operations)
        {
            if (item is not JsonObject op) throw new PatchException("each json patch operation must be an object", false);
            var name = (string?)op["op"] ?? throw new PatchException("json patch operation is missing \"op\"", false);
            var path = (string?)op["path"] ?? throw new PatchException($"json patch operation \"{name}\" is missing \"path\"", false);
            switch (name)
            {
                case "add":
                    doc = Add(doc, path, RequireValue(op, name));
                    break;
                case "remove":
                    doc = Remove(doc, path, out _);
                    break;
                case "replace":
                    doc = Remove(doc, path, out _);
                    doc = Add(doc, path, RequireValue(op, name));
                    break;
                case "move":
                {
                    var from = (string?)op["from"] ?? throw new PatchException("move operation is missing \"from\"", false);
                    doc = Remove(doc, from, out var moved);
                    doc = Add(doc, path, moved);
                    break;
                }
                case "copy":
                {
                    var from = (string?)op["from"] ?? throw new PatchException("copy operation is missing \"from\"", false);
                    doc = Add(doc, path, Get(doc, from)?.DeepClone());
                    break;
                }
                case "test":
                {
                    var actual = Get(doc, path);
                    if (!JsonNode.DeepEquals(actual, op["value"])) throw new PatchException($"testing value {path} failed: test failed", true);
                    break;
                }
                default:
                    throw new PatchException($"unexpected json patch operation \"{name}\"", false);
            }
        }
        return doc;
    }

    private static JsonNode? RequireValue(JsonObject op, string name) =>
        op.TryGetPropertyValue("value", out var v) ? v?.DeepClone() : throw new PatchException($"{name} operation is missing \"value\"", false);

    private static List<string> Parse(string pointer)
    {
        if (pointer.Length == 0) return [];
        if (pointer[0] != '/') throw new PatchException($"invalid JSON pointer \"{pointer}\": must start with '/'", false);
        return pointer[1..].Split('/').Select(s => s.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToList();
    }

    private static JsonNode? Get(JsonNode doc, string pointer)
    {
        JsonNode? node = doc;
        foreach (var token in Parse(pointer))
        {
            node = node switch
            {
                JsonObject o when o.TryGetPropertyValue(token, out var child) => child,
                JsonArray a when int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count => a[i],
                _ => throw new PatchException($"path \"{pointer}\" does not exist", true),
            };
        }
        return node;
    }

    private static JsonNode Add(JsonNode doc, string pointer, JsonNode? value)
    {
        var tokens = Parse(pointer);
        if (tokens.Count == 0) return value ?? throw new PatchException("cannot replace the document with null", true);
        var parent = Get(doc, "/" + string.Join('/', tokens.Take(tokens.Count - 1).Select(Escape)));
        if (tokens.Count == 1) parent = doc;
        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject o:
                o[last] = value;
                break;
            case JsonArray a when last == "-":
                a.Add(value);
                break;
            case JsonArray a when int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i <= a.Count:
                a.Insert(i, value);
                break;
            default:
                throw new PatchException($"cannot add at \"{pointer}\": parent does not exist or index is out of range", true);
        }
        return doc;
    }

    private static JsonNode Remove(JsonNode doc, string pointer, out JsonNode? removed)
    {
        var tokens = Parse(pointer);
        if (tokens.Count == 0) throw new PatchException("cannot remove the whole document", true);
        var parent = tokens.Count == 1 ? doc : Get(doc, "/" + string.Join('/', tokens.Take(tokens.Count - 1).Select(Escape)));
        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject o when o.TryGetPropertyValue(last, out var v):
                removed = v?.DeepClone();
                o.Remove(last);
                break;
            case JsonArray a when int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count:
                removed = a[i]?.DeepClone();
                a.RemoveAt(i);
                break;
            default:
                throw new PatchException($"unable to remove nonexistent key: {last}: missing value", true);
        }
        return doc;
    }

    private static string Escape(string token) => token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
}
