using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using DoraOperator.Sandbox.Resources;

namespace DoraOperator.Sandbox.Http;

/// <summary>
/// OpenAPI v3 discovery: <c>/openapi/v3</c> lists one document per group-version, and each document
/// describes the resource paths with their PATCH operation (tagged with
/// <c>x-kubernetes-group-version-kind</c> and the <c>fieldValidation</c> parameter), which is how
/// kubectl decides that the server validates fields itself. CRD schemas appear as components.
/// Strategic merge patch is not advertised, so kubectl computes it from its built-in types.
/// </summary>
internal static class OpenApi
{
    public static JsonObject Index(ResourceRegistry registry)
    {
        var paths = new JsonObject();
        foreach (var (group, version) in GroupVersions(registry))
        {
            var key = group.Length == 0 ? $"api/{version}" : $"apis/{group}/{version}";
            paths[key] = new JsonObject { ["serverRelativeURL"] = $"/openapi/v3/{key}?hash={Hash(registry, group, version)}" };
        }
        return new JsonObject { ["paths"] = paths };
    }

    public static JsonObject? Document(ResourceRegistry registry, string group, string version)
    {
        var types = registry.All.Where(t => t.Group == group && t.Versions.Contains(version)).ToList();
        if (types.Count == 0) return null;
        var paths = new JsonObject();
        var schemas = new JsonObject();
        var prefix = group.Length == 0 ? $"/api/{version}" : $"/apis/{group}/{version}";
        foreach (var t in types.OrderBy(t => t.Plural, StringComparer.Ordinal))
        {
            var gvk = new JsonObject { ["group"] = t.Group, ["version"] = version, ["kind"] = t.Kind };
            var itemPath = t.Namespaced ? $"{prefix}/namespaces/{{namespace}}/{t.Plural}/{{name}}" : $"{prefix}/{t.Plural}/{{name}}";
            paths[itemPath] = new JsonObject
            {
                ["get"] = Operation("read", t, gvk, [], null),
                ["put"] = Operation("replace", t, gvk, ["fieldValidation", "fieldManager", "dryRun"], ["application/json", "application/yaml"]),
                ["patch"] = Operation("patch", t, gvk, ["fieldValidation", "fieldManager", "dryRun", "force"],
                    ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"]),
                ["delete"] = Operation("delete", t, gvk, ["dryRun", "propagationPolicy", "gracePeriodSeconds"], null),
            };
            if (t.IsCustom && t.Schemas.TryGetValue(version, out var schema))
            {
                var s = (JsonObject)schema.DeepClone();
                s["x-kubernetes-group-version-kind"] = new JsonArray(gvk.DeepClone());
                schemas[$"{ReverseGroup(t.Group)}.{version}.{t.Kind}"] = s;
            }
        }
        return new JsonObject
        {
            ["openapi"] = "3.0.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = "v1.32.0" },
            ["paths"] = paths,
            ["components"] = new JsonObject { ["schemas"] = schemas },
        };
    }

    private static JsonObject Operation(string action, ResourceType t, JsonObject gvk, string[] queryParams, string[]? bodyTypes)
    {
        var op = new JsonObject
        {
            ["operationId"] = $"{action}{t.Kind}",
            ["x-kubernetes-action"] = action,
            ["x-kubernetes-group-version-kind"] = gvk.DeepClone(),
            ["parameters"] = new JsonArray(queryParams.Select(p => (JsonNode)new JsonObject
            {
                ["name"] = p, ["in"] = "query", ["schema"] = new JsonObject { ["type"] = p == "force" ? "boolean" : "string", ["uniqueItems"] = true },
            }).ToArray()),
            ["responses"] = new JsonObject { ["200"] = new JsonObject { ["description"] = "OK" } },
        };
        if (bodyTypes is not null)
        {
            var content = new JsonObject();
            foreach (var b in bodyTypes) content[b] = new JsonObject { ["schema"] = new JsonObject { ["type"] = "object" } };
            op["requestBody"] = new JsonObject { ["content"] = content, ["required"] = true };
        }
        return op;
    }

    private static IEnumerable<(string Group, string Version)> GroupVersions(ResourceRegistry registry) =>
        registry.All.SelectMany(t => t.Versions.Select(v => (t.Group, v))).Distinct().OrderBy(x => x.Group, StringComparer.Ordinal).ThenBy(x => x.v, StringComparer.Ordinal);

    /// <summary>Changes whenever the group-version's served types change, so clients' caches refresh.</summary>
    private static string Hash(ResourceRegistry registry, string group, string version)
    {
        var doc = Document(registry, group, version)?.ToJsonString() ?? "";
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(doc)))[..32];
    }

    private static string ReverseGroup(string group) => string.Join('.', group.Split('.').Reverse());
}
