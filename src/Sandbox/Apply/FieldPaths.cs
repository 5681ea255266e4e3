using System.Text;
using System.Text.Json.Nodes;
using DoraOperator.Sandbox.Patching;
using DoraOperator.Sandbox.Resources;

namespace DoraOperator.Sandbox.Apply;

/// <summary>The part of an object one write can own: the main resource or its status subresource.</summary>
internal enum FieldScope { Main, Status }

/// <summary>
/// The fields of an object as server-side apply names them, in the fieldsV1 vocabulary: a path is
/// its tokens (<c>f:spec</c>, <c>k:{"name":"app"}</c>, and <c>.</c> for a keyed list item or a map
/// itself) joined by newlines. The owned paths are the leaves (scalars, lists without a merge key,
/// empty maps) and the <c>.</c> of every keyed list item and string map. System metadata (name,
/// uid, resourceVersion, managedFields...) is never owned, and status belongs to the status
/// subresource where the kind has one, as kube-apiserver resets those fields per subresource.
/// </summary>
internal static class FieldPaths
{
    public const string Self = ".";
    private const char Separator = '\n';

    private static readonly HashSet<string> OwnedMetadata = new(StringComparer.Ordinal) { "labels", "annotations", "ownerReferences", "finalizers" };

    /// <summary>String maps, which own themselves (<c>.</c>) as well as their keys.</summary>
    private static readonly HashSet<string> Maps = new(StringComparer.Ordinal)
    {
        "labels", "annotations", "matchLabels", "nodeSelector", "data", "stringData", "binaryData", "limits", "requests",
    };

    /// <summary>Every owned path of <paramref name="obj"/> in <paramref name="scope"/>, with its value (null for a <c>.</c>).</summary>
    public static Dictionary<string, JsonNode?> Collect(ResourceType type, JsonObject obj, FieldScope scope)
    {
        var into = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var (key, value) in obj)
        {
            switch (key)
            {
                case "apiVersion" or "kind":
                    break;
                case "metadata":
                    if (scope == FieldScope.Main && value is JsonObject meta)
                    {
                        foreach (var (field, v) in meta)
                        {
                            if (OwnedMetadata.Contains(field)) Walk(v, "f:metadata" + Separator + "f:" + field, field, into);
                        }
                    }
                    break;
                case "status" when type.HasStatusSubresource:
                    if (scope == FieldScope.Status) Walk(value, "f:status", key, into);
                    break;
                default:
                    if (scope == FieldScope.Main) Walk(value, "f:" + key, key, into);
                    break;
            }
        }
        return into;
    }

    private static void Walk(JsonNode? value, string path, string field, Dictionary<string, JsonNode?> into)
    {
        switch (value)
        {
            case JsonObject map when map.Count > 0:
                if (Maps.Contains(field)) into[path + Separator + Self] = null;
                foreach (var (k, v) in map) Walk(v, path + Separator + "f:" + k, k, into);
                break;
            case JsonArray list when StrategicMergePatch.MergeKeyOf(field) is { } key && list.All(i => i is JsonObject o && o[key] is JsonValue):
                foreach (var item in list)
                {
                    var itemPath = path + Separator + "k:" + new JsonObject { [key] = item![key]!.DeepClone() }.ToJsonString();
                    into[itemPath + Separator + Self] = null;
                    foreach (var (k, v) in item.AsObject()) Walk(v, itemPath + Separator + "f:" + k, k, into);
                }
                break;
            default:
                into[path] = value;
                break;
        }
    }

    /// <summary>Whether a path names a list item or map itself rather than a value.</summary>
    public static bool IsSelf(string path) => path.EndsWith(Separator + Self, StringComparison.Ordinal);

    /// <summary>A path as kube-apiserver prints it in a conflict: <c>.spec.template.spec.containers[name="app"].image</c>.</summary>
    public static string Display(string path)
    {
        var text = new StringBuilder();
        foreach (var token in path.Split(Separator))
        {
            if (token.StartsWith("f:", StringComparison.Ordinal))
            {
                text.Append('.').Append(token.AsSpan(2));
            }
            else if (token.StartsWith("k:", StringComparison.Ordinal) && JsonNode.Parse(token[2..]) is JsonObject key)
            {
                text.Append('[').AppendJoin(',', key.Select(kv => $"{kv.Key}={kv.Value?.ToJsonString()}")).Append(']');
            }
        }
        return text.ToString();
    }

    /// <summary>Removes the field or list item a path names, if present; a map's own <c>.</c> removes nothing.</summary>
    public static void Remove(JsonObject obj, string path)
    {
        var tokens = path.Split(Separator);
        var last = tokens.Length - 1;
        if (tokens[last] == Self)
        {
            if (last == 0 || !tokens[last - 1].StartsWith("k:", StringComparison.Ordinal)) return;
            last--;
        }
        JsonNode? parent = obj;
        for (var i = 0; i < last && parent is not null; i++) parent = Step(parent, tokens[i]);
        switch (parent)
        {
            case JsonObject o when tokens[last].StartsWith("f:", StringComparison.Ordinal):
                o.Remove(tokens[last][2..]);
                break;
            case JsonArray a when tokens[last].StartsWith("k:", StringComparison.Ordinal):
                var index = IndexOf(a, tokens[last]);
                if (index >= 0) a.RemoveAt(index);
                break;
        }
    }

    private static JsonNode? Step(JsonNode node, string token) => (node, token[..2]) switch
    {
        (JsonObject o, "f:") => o[token[2..]],
        (JsonArray a, "k:") when IndexOf(a, token) is var i and >= 0 => a[i],
        _ => null,
    };

    private static int IndexOf(JsonArray list, string token)
    {
        if (JsonNode.Parse(token[2..]) is not JsonObject key) return -1;
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] is JsonObject item && key.All(kv => JsonNode.DeepEquals(item[kv.Key], kv.Value))) return i;
        }
        return -1;
    }

    /// <summary>A set of paths as the fieldsV1 tree kube-apiserver stores in managedFields.</summary>
    public static JsonObject ToFieldsV1(IEnumerable<string> paths)
    {
        var root = new JsonObject();
        foreach (var path in paths.Order(StringComparer.Ordinal))
        {
            var node = root;
            foreach (var token in path.Split(Separator))
            {
                if (node[token] is not JsonObject next)
                {
                    next = new JsonObject();
                    node[token] = next;
                }
                node = next;
            }
        }
        return root;
    }

    /// <summary>Whether a fieldsV1 tree holds a path as one of its own (a leaf or a <c>.</c>).</summary>
    public static bool Contains(JsonObject? fields, string path)
    {
        if (fields is null) return false;
        var node = fields;
        foreach (var token in path.Split(Separator))
        {
            if (node[token] is not JsonObject next) return false;
            node = next;
        }
        return node.Count == 0;
    }

    /// <summary>The paths of a fieldsV1 tree: its leaves, and every <c>.</c>.</summary>
    public static HashSet<string> FromFieldsV1(JsonObject? fields)
    {
        var paths = new HashSet<string>(StringComparer.Ordinal);
        if (fields is not null) Read(fields, "", paths);
        return paths;
    }

    private static void Read(JsonObject node, string prefix, HashSet<string> into)
    {
        foreach (var (token, child) in node)
        {
            var path = prefix.Length == 0 ? token : prefix + Separator + token;
            if (child is JsonObject { Count: > 0 } inner) Read(inner, path, into);
            else into.Add(path);
        }
    }
}
