using System.Text.Json.Nodes;

namespace DoraOperator.Sandbox.Patching;

/// <summary>
/// Strategic merge patch for built-in kinds, covering what kubectl sends (apply, set image,
/// rollout restart, label/annotate): lists with a merge key merge element-wise, <c>$patch</c>
/// (replace, delete, merge), <c>$retainKeys</c>, <c>$deleteFromPrimitiveList/</c> and
/// <c>$setElementOrder/</c> directives. Merge keys are the ones the Kubernetes API types declare
/// for the fields our kinds carry; any other list is replaced whole.
/// </summary>
internal static class StrategicMergePatch
{
    private static readonly Dictionary<string, string> MergeKeys = new(StringComparer.Ordinal)
    {
        ["containers"] = "name",
        ["initContainers"] = "name",
        ["ephemeralContainers"] = "name",
        ["env"] = "name",
        ["ports"] = "containerPort",
        ["volumeMounts"] = "mountPath",
        ["volumeDevices"] = "devicePath",
        ["volumes"] = "name",
        ["imagePullSecrets"] = "name",
        ["conditions"] = "type",
        ["ownerReferences"] = "uid",
        ["hostAliases"] = "ip",
        ["resourceClaims"] = "name",
        ["schedulingGates"] = "name",
    };

    /// <summary>Lists of scalars merged as sets (patchStrategy "merge").</summary>
    private static readonly HashSet<string> MergedScalarLists = new(StringComparer.Ordinal) { "finalizers" };

    /// <summary>The key a list field's items merge by, or null when the list is replaced whole (atomic).</summary>
    public static string? MergeKeyOf(string field) => MergeKeys.GetValueOrDefault(field);

    public static JsonNode? Apply(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject) return patch?.DeepClone();
        return MergeObject(target as JsonObject ?? [], patchObject);
    }

    private static JsonObject MergeObject(JsonObject target, JsonObject patch)
    {
        if (patch.TryGetPropertyValue("$patch", out var directive))
        {
            var kind = (string?)directive;
            if (kind == "replace")
            {
                var replaced = (JsonObject)patch.DeepClone();
                replaced.Remove("$patch");
                return (JsonObject)StripDirectives(replaced);
            }
            if (kind == "delete") return new JsonObject();
        }
        var result = (JsonObject)target.DeepClone();
        List<string>? retainKeys = null;
        foreach (var (key, value) in patch)
        {
            if (key == "$patch") continue;
            if (key == "$retainKeys")
            {
                retainKeys = (value as JsonArray)?.Select(v => (string?)v ?? "").ToList();
                continue;
            }
            if (key.StartsWith("$setElementOrder/", StringComparison.Ordinal)) continue;
            if (key.StartsWith("$deleteFromPrimitiveList/", StringComparison.Ordinal))
            {
                var field = key["$deleteFromPrimitiveList/".Length..];
                if (result[field] is JsonArray list && value is JsonArray remove)
                {
                    foreach (var r in remove)
                    {
                        foreach (var match in list.Where(x => JsonNode.DeepEquals(x, r)).ToList()) list.Remove(match);
                    }
                }
                continue;
            }
            if (value is null)
            {
                result.Remove(key);
                continue;
            }
            var existing = result.TryGetPropertyValue(key, out var e) ? e : null;
            result[key] = value switch
            {
                JsonObject po => MergeObject(existing as JsonObject ?? [], po),
                JsonArray pa when MergeKeys.TryGetValue(key, out var mergeKey) => MergeList(existing as JsonArray ?? [], pa, mergeKey),
                JsonArray pa when MergedScalarLists.Contains(key) => MergeScalarList(existing as JsonArray ?? [], pa),
                _ => StripDirectives(value.DeepClone()),
            };
        }
        if (retainKeys is not null)
        {
            foreach (var key in result.Select(kv => kv.Key).Where(k => !retainKeys.Contains(k)).ToList()) result.Remove(key);
        }
        return result;
    }

    private static JsonArray MergeList(JsonArray target, JsonArray patch, string mergeKey)
    {
        if (patch.Any(p => p is JsonObject o && (string?)o["$patch"] == "replace"))
        {
            return new JsonArray(patch.Where(p => !(p is JsonObject o && (string?)o["$patch"] == "replace")).Select(p => StripDirectives(p!.DeepClone())).ToArray());
        }
        var result = (JsonArray)target.DeepClone();
        foreach (var item in patch)
        {
            if (item is not JsonObject element)
            {
                result.Add(item?.DeepClone());
                continue;
            }
            var keyValue = element[mergeKey];
            var index = IndexOf(result, mergeKey, keyValue);
            if ((string?)element["$patch"] == "delete")
            {
                if (index >= 0) result.RemoveAt(index);
                continue;
            }
            if (index >= 0)
            {
                result[index] = MergeObject(result[index] as JsonObject ?? [], element);
            }
            else
            {
                result.Add(StripDirectives(element.DeepClone()));
            }
        }
        return result;
    }

    private static JsonArray MergeScalarList(JsonArray target, JsonArray patch)
    {
        var result = (JsonArray)target.DeepClone();
        foreach (var item in patch)
        {
            if (!result.Any(x => JsonNode.DeepEquals(x, item))) result.Add(item?.DeepClone());
        }
        return result;
    }

    private static int IndexOf(JsonArray list, string mergeKey, JsonNode? value)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] is JsonObject o && JsonNode.DeepEquals(o[mergeKey], value)) return i;
        }
        return -1;
    }

    private static JsonNode StripDirectives(JsonNode node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var key in o.Select(kv => kv.Key).Where(k => k.StartsWith('$')).ToList()) o.Remove(key);
                foreach (var (_, v) in o.ToList())
                {
                    if (v is not null) StripDirectives(v);
                }
                break;
            case JsonArray a:
                foreach (var v in a)
                {
                    if (v is not null) StripDirectives(v);
                }
                break;
        }
        return node;
    }
}
