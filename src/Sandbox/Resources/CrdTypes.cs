using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DoraOperator.Sandbox.Http;
using DoraOperator.Sandbox.Storage;

namespace DoraOperator.Sandbox.Resources;

/// <summary>Turns a CustomResourceDefinition into a served <see cref="ResourceType"/>, and validates the CRD itself.</summary>
internal static partial class CrdTypes
{
    [GeneratedRegex("^v(\\d+)(?:(alpha|beta)(\\d+))?$")]
    private static partial Regex KubeVersion();

    public static void Validate(JsonObject crd, JsonObject? old, List<FieldCause> causes)
    {
        var spec = crd["spec"] as JsonObject;
        var group = (string?)spec?["group"];
        var plural = (string?)spec?["names"]?["plural"];
        var kind = (string?)spec?["names"]?["kind"];
        var scope = (string?)spec?["scope"];
        if (string.IsNullOrEmpty(group)) causes.Add(new FieldCause("FieldValueRequired", "Required value", "spec.group"));
        if (string.IsNullOrEmpty(plural)) causes.Add(new FieldCause("FieldValueRequired", "Required value", "spec.names.plural"));
        if (string.IsNullOrEmpty(kind)) causes.Add(new FieldCause("FieldValueRequired", "Required value", "spec.names.kind"));
        if (scope is not ("Namespaced" or "Cluster"))
            causes.Add(new FieldCause("FieldValueNotSupported", $"Unsupported value: \"{scope}\": supported values: \"Cluster\", \"Namespaced\"", "spec.scope"));
        var name = (string?)crd["metadata"]?["name"];
        if (!string.IsNullOrEmpty(plural) && !string.IsNullOrEmpty(group) && name != $"{plural}.{group}")
            causes.Add(new FieldCause("FieldValueInvalid", $"Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group", "metadata.name"));
        var versions = spec?["versions"] as JsonArray;
        if (versions is null || versions.Count == 0)
        {
            causes.Add(new FieldCause("FieldValueRequired", "Required value: must have exactly one version marked as storage version", "spec.versions"));
        }
        else
        {
            var storage = versions.Count(v => (bool?)v?["storage"] == true);
            if (storage != 1)
                causes.Add(new FieldCause("FieldValueInvalid", $"Invalid value: []string{{}}: must have exactly one version marked as storage version", "spec.versions"));
            for (var i = 0; i < versions.Count; i++)
            {
                if (versions[i]?["schema"]?["openAPIV3Schema"] is not JsonObject)
                    causes.Add(new FieldCause("FieldValueRequired", "Required value: schemas are required", $"spec.versions[{i}].schema.openAPIV3Schema"));
            }
        }
        if (old is not null && (string?)old["spec"]?["group"] != group)
            causes.Add(new FieldCause("FieldValueInvalid", $"Invalid value: \"{group}\": field is immutable", "spec.group"));
    }

    public static ResourceType ToResourceType(JsonObject crd)
    {
        var spec = crd["spec"]!.AsObject();
        var names = spec["names"]!.AsObject();
        var kind = (string)names["kind"]!;
        var served = spec["versions"]!.AsArray().OfType<JsonObject>().Where(v => (bool?)v["served"] != false).ToList();
        var ordered = served.OrderByDescending(v => Priority((string)v["name"]!)).ToList();
        return new ResourceType
        {
            Group = (string)spec["group"]!,
            Versions = ordered.Select(v => (string)v["name"]!).ToList(),
            Plural = (string)names["plural"]!,
            Singular = (string?)names["singular"] ?? kind.ToLowerInvariant(),
            Kind = kind,
            Namespaced = (string?)spec["scope"] == "Namespaced",
            ShortNames = (names["shortNames"] as JsonArray)?.Select(s => (string)s!).ToList() ?? [],
            Categories = (names["categories"] as JsonArray)?.Select(s => (string)s!).ToList() ?? [],
            HasStatusSubresource = served.Any(v => v["subresources"]?["status"] is not null),
            HasScaleSubresource = served.Any(v => v["subresources"]?["scale"] is not null),
            HasGeneration = true,
            IsCustom = true,
            Schemas = served.Where(v => v["schema"]?["openAPIV3Schema"] is JsonObject)
                .ToDictionary(v => (string)v["name"]!, v => (JsonObject)v["schema"]!["openAPIV3Schema"]!.DeepClone()),
            PrinterColumns = served.ToDictionary(
                v => (string)v["name"]!,
                v => (IReadOnlyList<PrinterColumn>)((v["additionalPrinterColumns"] as JsonArray)?.OfType<JsonObject>().Select(c => new PrinterColumn(
                    (string)c["name"]!, (string?)c["type"] ?? "string", (string)c["jsonPath"]!, (string?)c["format"], (string?)c["description"], J.Int(c["priority"]) ?? 0)).ToList() ?? [])),
            SupportsStrategicMerge = false,
        };
    }

    /// <summary>The status the apiextensions controllers would set once the names are accepted.</summary>
    public static JsonObject EstablishedStatus(JsonObject crd, string now)
    {
        var names = crd["spec"]!["names"]!.DeepClone().AsObject();
        names["singular"] ??= ((string)names["kind"]!).ToLowerInvariant();
        names["listKind"] ??= (string)names["kind"]! + "List";
        return new JsonObject
        {
            ["acceptedNames"] = names,
            ["conditions"] = new JsonArray(
                Condition("NamesAccepted", "NoConflicts", "no conflicts found", now),
                Condition("Established", "InitialNamesAccepted", "the initial names have been accepted", now)),
            ["storedVersions"] = new JsonArray(crd["spec"]!["versions"]!.AsArray().Where(v => (bool?)v?["storage"] == true).Select(v => (JsonNode)JsonValue.Create((string)v!["name"]!)!).ToArray()),
        };
    }

    private static JsonObject Condition(string type, string reason, string message, string now) => new()
    {
        ["type"] = type, ["status"] = "True", ["lastTransitionTime"] = now, ["reason"] = reason, ["message"] = message,
    };

    /// <summary>Kubernetes version priority: GA over beta over alpha, higher numbers first.</summary>
    public static int Priority(string version)
    {
        var m = KubeVersion().Match(version);
        if (!m.Success) return 0;
        var major = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var stage = m.Groups[2].Value switch { "" => 3, "beta" => 2, _ => 1 };
        var minor = m.Groups[3].Success ? int.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
        return (stage * 1000 + major) * 1000 + minor;
    }
}
