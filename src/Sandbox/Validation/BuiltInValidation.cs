using System.Text.Json.Nodes;
using DoraOperator.Sandbox.Http;
using DoraOperator.Sandbox.Resources;
using DoraOperator.Sandbox.Storage;

namespace DoraOperator.Sandbox.Validation;

/// <summary>The validation rules of the built-in kinds that matter to clients of this project.</summary>
internal static class BuiltInValidation
{
    public static void Validate(ResourceType type, JsonObject obj, JsonObject? old, List<FieldCause> causes)
    {
        switch (type.Group, type.Plural)
        {
            case ("apps", "deployments"):
            case ("apps", "replicasets"):
            case ("apps", "statefulsets"):
            case ("apps", "daemonsets"):
                ValidateWorkload(obj, old, causes);
                break;
            case ("apiextensions.k8s.io", "customresourcedefinitions"):
                CrdTypes.Validate(obj, old, causes);
                break;
            case ("coordination.k8s.io", "leases"):
                if (obj["spec"]?["leaseDurationSeconds"] is JsonValue d && J.Long(d)!.Value <= 0)
                    causes.Add(new FieldCause("FieldValueInvalid", $"Invalid value: {J.Long(d)!.Value}: must be greater than 0", "spec.leaseDurationSeconds"));
                break;
        }
    }

    private static void ValidateWorkload(JsonObject obj, JsonObject? old, List<FieldCause> causes)
    {
        var spec = obj["spec"] as JsonObject;
        if (spec is null)
        {
            causes.Add(new FieldCause("FieldValueRequired", "Required value", "spec"));
            return;
        }
        if (spec["replicas"] is JsonValue r && J.Long(r)!.Value < 0)
            causes.Add(new FieldCause("FieldValueInvalid", $"Invalid value: {J.Long(r)!.Value}: must be greater than or equal to 0", "spec.replicas"));
        var selector = spec["selector"] as JsonObject;
        if (selector is null || (selector["matchLabels"] is not JsonObject { Count: > 0 } && selector["matchExpressions"] is not JsonArray { Count: > 0 }))
        {
            causes.Add(new FieldCause("FieldValueRequired", "Required value", "spec.selector"));
        }
        var templateLabels = spec["template"]?["metadata"]?["labels"] as JsonObject;
        if (selector?["matchLabels"] is JsonObject matchLabels)
        {
            var matches = matchLabels.All(kv => templateLabels is not null && templateLabels.TryGetPropertyValue(kv.Key, out var v) && v?.ToString() == kv.Value?.ToString());
            if (!matches)
            {
                causes.Add(new FieldCause("FieldValueInvalid",
                    $"Invalid value: {templateLabels?.ToJsonString() ?? "null"}: `selector` does not match template `labels`", "spec.template.metadata.labels"));
            }
        }
        if (old is not null && old["spec"]?["selector"] is { } oldSelector && !JsonNode.DeepEquals(oldSelector, selector))
        {
            causes.Add(new FieldCause("FieldValueInvalid", $"Invalid value: {selector?.ToJsonString()}: field is immutable", "spec.selector"));
        }
        var containers = spec["template"]?["spec"]?["containers"] as JsonArray;
        if (containers is null || containers.Count == 0)
        {
            causes.Add(new FieldCause("FieldValueRequired", "Required value", "spec.template.spec.containers"));
            return;
        }
        for (var i = 0; i < containers.Count; i++)
        {
            if (string.IsNullOrEmpty((string?)containers[i]?["name"]))
                causes.Add(new FieldCause("FieldValueRequired", "Required value", $"spec.template.spec.containers[{i}].name"));
            if (string.IsNullOrEmpty((string?)containers[i]?["image"]))
                causes.Add(new FieldCause("FieldValueRequired", "Required value", $"spec.template.spec.containers[{i}].image"));
        }
    }
}
