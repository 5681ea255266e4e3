using System.Text.Json.Nodes;
using DoraOperator.Sandbox.Http;
using DoraOperator.Sandbox.Resources;
using DoraOperator.Sandbox.Storage;

namespace DoraOperator.Sandbox.Validation;

/// <summary>How unknown fields in a request body are treated (the <c>fieldValidation</c> parameter).</summary>
internal enum FieldValidation { Ignore, Warn, Strict }

/// <summary>
/// What the real server does between decoding a body and storing it: system-field rules, status
/// and generation handling per kind, built-in defaults, and validation (CRD schemas, built-in
/// rules, names). Pure over its inputs; the store applies the result.
/// </summary>
internal static class Admission
{
    private static readonly string[] ServerOwnedMeta = ["uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "selfLink", "managedFields"];

    public static void PrepareCreate(ResourceType type, string version, JsonObject obj, FieldValidation mode, List<string> warnings)
    {
        var meta = obj["metadata"]!.AsObject();
        foreach (var f in ServerOwnedMeta) meta.Remove(f);
        if (type.HasStatusSubresource && !(type.Group == "" && type.Plural == "namespaces")) obj.Remove("status");
        if (type.HasGeneration) meta["generation"] = 1;
        BuiltInDefaults.Apply(type, obj);
        Validate(type, version, obj, null, mode, warnings);
    }

    /// <summary>Merges an update into the stored object per subresource rules, then validates it.</summary>
    public static JsonObject PrepareUpdate(ResourceType type, string version, JsonObject old, JsonObject updated, string? subresource, FieldValidation mode, List<string> warnings)
    {
        JsonObject result;
        if (subresource == "status")
        {
            // A status write changes status only.
            result = (JsonObject)old.DeepClone();
            if (updated["status"] is { } status) result["status"] = status.DeepClone();
            else result.Remove("status");
            var requested = (string?)updated["metadata"]?["resourceVersion"];
            result["metadata"]!["resourceVersion"] = requested;
            BuiltInDefaults.Apply(type, result);
            if (type.GenerationTracksAnnotations)
            {
                // apps/v1 Deployment status writes may change annotations (that is how the controller
                // records the revision without bumping generation); labels and spec stay.
                if (updated["metadata"]?["annotations"] is { } annotations) result["metadata"]!["annotations"] = annotations.DeepClone();
                else result["metadata"]!.AsObject().Remove("annotations");
            }
        }
        else
        {
            result = (JsonObject)updated.DeepClone();
            var meta = result["metadata"] as JsonObject ?? [];
            result["metadata"] = meta;
            meta.Remove("managedFields");
            meta.Remove("selfLink");
            meta["generation"] = old["metadata"]?["generation"]?.DeepClone();
            if (meta["generation"] is null) meta.Remove("generation");
            if (type.HasStatusSubresource)
            {
                if (old["status"] is { } oldStatus) result["status"] = oldStatus.DeepClone();
                else result.Remove("status");
            }
            BuiltInDefaults.Apply(type, result);
            if (type.HasGeneration && SpecChanged(type, old, result))
            {
                var generation = J.Long(old["metadata"]?["generation"]) ?? 0;
                meta["generation"] = generation + 1;
            }
        }
        result["apiVersion"] = type.ApiVersion(version);
        result["kind"] = type.Kind;
        Validate(type, version, result, old, mode, warnings);
        return result;
    }

    private static bool SpecChanged(ResourceType type, JsonObject old, JsonObject updated)
    {
        static JsonObject Strip(JsonObject o, bool keepAnnotations)
        {
            var copy = (JsonObject)o.DeepClone();
            copy.Remove("status");
            copy.Remove("apiVersion");
            copy.Remove("kind");
            var meta = copy["metadata"] as JsonObject;
            copy.Remove("metadata");
            if (keepAnnotations && meta?["annotations"] is { } a) copy["__annotations"] = a.DeepClone();
            return copy;
        }
        return !JsonNode.DeepEquals(Strip(old, type.GenerationTracksAnnotations), Strip(updated, type.GenerationTracksAnnotations));
    }

    private static void Validate(ResourceType type, string version, JsonObject obj, JsonObject? old, FieldValidation mode, List<string> warnings)
    {
        var meta = obj["metadata"]!.AsObject();
        var name = (string?)meta["name"] ?? "";
        var causes = new List<FieldCause>();
        var nameError = type.Group == "" && type.Plural == "namespaces" ? Names.LabelError(name) : Names.SubdomainError(name);
        if (nameError is not null) causes.Add(new FieldCause("FieldValueInvalid", $"Invalid value: \"{name}\": {nameError}", "metadata.name"));
        ValidateLabels(meta, causes);
        var unknown = new List<string>();
        if (type.IsCustom && type.Schemas.TryGetValue(version, out var schema))
        {
            StructuralSchema.Apply(obj, schema, causes, unknown);
        }
        BuiltInValidation.Validate(type, obj, old, causes);
        if (unknown.Count > 0)
        {
            switch (mode)
            {
                case FieldValidation.Strict:
                    throw ApiException.BadRequest($"{type.Kind} in version \"{version}\" cannot be handled as a {type.Kind}: strict decoding error: "
                        + string.Join(", ", unknown.Select(u => $"unknown field \"{u}\"")));
                case FieldValidation.Warn:
                    warnings.AddRange(unknown.Select(u => $"unknown field \"{u}\""));
                    break;
            }
        }
        if (causes.Count > 0) throw ApiException.Invalid(type, name, causes);
    }

    private static void ValidateLabels(JsonObject meta, List<FieldCause> causes)
    {
        if (meta["labels"] is not JsonObject labels) return;
        foreach (var (key, value) in labels)
        {
            var v = value?.ToString() ?? "";
            if (v.Length > 63 || v.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
                || (v.Length > 0 && (!char.IsAsciiLetterOrDigit(v[0]) || !char.IsAsciiLetterOrDigit(v[^1]))))
            {
                causes.Add(new FieldCause("FieldValueInvalid",
                    $"Invalid value: \"{v}\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
                    $"metadata.labels"));
            }
            var namePart = key.Contains('/') ? key[(key.IndexOf('/') + 1)..] : key;
            if (namePart.Length is 0 or > 63 || !char.IsAsciiLetterOrDigit(namePart[0]) || !char.IsAsciiLetterOrDigit(namePart[^1]))
            {
                causes.Add(new FieldCause("FieldValueInvalid", $"Invalid value: \"{key}\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", "metadata.labels"));
            }
        }
    }
}
