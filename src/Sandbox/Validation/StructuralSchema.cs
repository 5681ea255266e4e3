using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DoraOperator.Sandbox.Http;
using DoraOperator.Sandbox.Storage;

namespace DoraOperator.Sandbox.Validation;

/// <summary>
/// Applies a CRD's structural openAPIV3Schema to an object the way the apiextensions server does,
/// in its order: drop nulls on non-nullable fields, prune unknown fields (collected for
/// <c>fieldValidation</c>), apply defaults, then validate types, required, enum, formats, bounds and
/// patterns. <c>metadata</c> is left to the generic metadata checks.
/// </summary>
internal static partial class StructuralSchema
{
    public static void Apply(JsonObject obj, JsonObject schema, List<FieldCause> causes, List<string> unknownFields)
    {
        var properties = schema["properties"] as JsonObject;
        foreach (var (key, value) in obj.ToList())
        {
            if (key is "apiVersion" or "kind" or "metadata") continue;
            if (properties?[key] is JsonObject propSchema)
            {
                obj[key] = null;
                var walked = Walk(value, propSchema, key, causes, unknownFields, out var keep);
                if (keep) obj[key] = walked?.DeepClone();
                else obj.Remove(key);
            }
            else if (!PreservesUnknown(schema))
            {
                unknownFields.Add(key);
                obj.Remove(key);
            }
        }
        ApplyDefaults(obj, schema, "", causes, unknownFields);
        CheckRequired(obj, schema, "", causes);
        CheckRules(obj, schema, "", causes);
    }

    /// <summary>x-kubernetes-validations, for the CEL subset <see cref="Cel"/> supports (others are skipped, as docs/sandbox.md says).</summary>
    private static void CheckRules(JsonObject o, JsonObject schema, string path, List<FieldCause> causes)
    {
        if (schema["x-kubernetes-validations"] is not JsonArray rules || causes.Count > 0) return;
        foreach (var rule in rules.OfType<JsonObject>())
        {
            var expression = (string?)rule["rule"];
            if (expression is null || !Cel.IsSupported(expression)) continue;
            bool ok;
            try
            {
                ok = Cel.Evaluate(expression, o);
            }
            catch (CelException e)
            {
                causes.Add(new FieldCause("FieldValueInvalid", $"Invalid value: \"object\": rule could not be evaluated: {e.Message}", path));
                continue;
            }
            if (ok) continue;
            var fieldPath = ((string?)rule["fieldPath"])?.TrimStart('.');
            var field = string.IsNullOrEmpty(fieldPath) ? path : path.Length == 0 ? fieldPath : $"{path}.{fieldPath}";
            var message = (string?)rule["message"] ?? $"failed rule: {expression}";
            causes.Add(new FieldCause("FieldValueInvalid", $"Invalid value: \"object\": {message}", field));
        }
    }

    private static bool PreservesUnknown(JsonObject schema) => schema["x-kubernetes-preserve-unknown-fields"] is JsonValue v && (bool)v;

    private static JsonNode? Walk(JsonNode? node, JsonObject schema, string path, List<FieldCause> causes, List<string> unknown, out bool keep)
    {
        keep = true;
        if (node is null)
        {
            var nullable = schema["nullable"] is JsonValue n && (bool)n;
            keep = nullable;
            return null;
        }
        if (schema["x-kubernetes-int-or-string"] is JsonValue ios && (bool)ios)
        {
            if (node is JsonValue v && (v.GetValueKind() is JsonValueKind.String || IsInteger(v))) return node;
            causes.Add(Invalid(path, node, $"{path} in body must be of type int-or-string: \"{KindName(node)}\""));
            return node;
        }
        var type = (string?)schema["type"];
        switch (type)
        {
            case "object":
                if (node is not JsonObject o)
                {
                    causes.Add(TypeError(path, node, "object"));
                    return node;
                }
                WalkObject(o, schema, path, causes, unknown);
                return o;
            case "array":
                if (node is not JsonArray a)
                {
                    causes.Add(TypeError(path, node, "array"));
                    return node;
                }
                if (schema["items"] is JsonObject itemSchema)
                {
                    for (var i = 0; i < a.Count; i++)
                    {
                        var item = a[i];
                        a[i] = null;
                        a[i] = Walk(item, itemSchema, $"{path}[{i}]", causes, unknown, out _)?.DeepClone();
                    }
                }
                if (schema["minItems"] is JsonValue minItems && a.Count < J.Long(minItems)!.Value)
                    causes.Add(new FieldCause("FieldValueInvalid", $"Invalid value: {a.Count}: {path} in body should have at least {J.Long(minItems)!.Value} items", path));
                if (schema["maxItems"] is JsonValue maxItems && a.Count > J.Long(maxItems)!.Value)
                    causes.Add(new FieldCause("FieldValueTooMany", $"Too many: {a.Count}: must have at most {J.Long(maxItems)!.Value} items", path));
                CheckListMapKeys(a, schema, path, causes);
                return a;
            case "string":
                if (node is not JsonValue sv || sv.GetValueKind() != JsonValueKind.String)
                {
                    causes.Add(TypeError(path, node, "string"));
                    return node;
                }
                CheckString((string)sv!, schema, path, causes);
                CheckEnum(node, schema, path, causes);
                return node;
            case "integer":
                if (node is not JsonValue iv || !IsInteger(iv))
                {
                    causes.Add(TypeError(path, node, "integer"));
                    return node;
                }
                CheckNumber(J.Double(iv)!.Value, schema, path, causes);
                CheckEnum(node, schema, path, causes);
                return node;
            case "number":
                if (node is not JsonValue nv || nv.GetValueKind() != JsonValueKind.Number)
                {
                    causes.Add(TypeError(path, node, "number"));
                    return node;
                }
                CheckNumber(J.Double(nv)!.Value, schema, path, causes);
                CheckEnum(node, schema, path, causes);
                return node;
            case "boolean":
                if (node is not JsonValue bv || bv.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
                    causes.Add(TypeError(path, node, "boolean"));
                return node;
            default:
                if (node is JsonObject any && !PreservesUnknown(schema) && schema["properties"] is JsonObject)
                    WalkObject(any, schema, path, causes, unknown);
                return node;
        }
    }

    private static void WalkObject(JsonObject o, JsonObject schema, string path, List<FieldCause> causes, List<string> unknown)
    {
        var properties = schema["properties"] as JsonObject;
        var additional = schema["additionalProperties"] as JsonObject;
        var embedded = schema["x-kubernetes-embedded-resource"] is JsonValue e && (bool)e;
        foreach (var (key, value) in o.ToList())
        {
            var childPath = $"{path}.{key}";
            if (properties?[key] is JsonObject ps)
            {
                o[key] = null;
                var walked = Walk(value, ps, childPath, causes, unknown, out var keep);
                if (keep) o[key] = walked?.DeepClone();
                else o.Remove(key);
            }
            else if (additional is not null)
            {
                o[key] = null;
                var walked = Walk(value, additional, childPath, causes, unknown, out var keep);
                if (keep) o[key] = walked?.DeepClone();
                else o.Remove(key);
            }
            else if (embedded && key is "apiVersion" or "kind" or "metadata")
            {
                // Embedded resources keep their type and object metadata.
            }
            else if (!PreservesUnknown(schema))
            {
                unknown.Add(childPath);
                o.Remove(key);
            }
        }
        ApplyDefaults(o, schema, path, causes, unknown);
        CheckRequired(o, schema, path, causes);
        CheckRules(o, schema, path, causes);
        if (schema["minProperties"] is JsonValue minP && o.Count < J.Long(minP)!.Value)
            causes.Add(new FieldCause("FieldValueInvalid", $"Invalid value: {o.Count}: {path} in body should have at least {J.Long(minP)!.Value} properties", path));
    }

    private static void ApplyDefaults(JsonObject o, JsonObject schema, string path, List<FieldCause> causes, List<string> unknown)
    {
        if (schema["properties"] is not JsonObject properties) return;
        foreach (var (key, ps) in properties)
        {
            if (o.ContainsKey(key) || ps is not JsonObject propSchema || propSchema["default"] is not { } def) continue;
            var value = def.DeepClone();
            var walked = Walk(value, propSchema, path.Length == 0 ? key : $"{path}.{key}", causes, unknown, out var keep);
            if (keep) o[key] = walked?.DeepClone();
        }
    }

    private static void CheckRequired(JsonObject o, JsonObject schema, string path, List<FieldCause> causes)
    {
        if (schema["required"] is not JsonArray required) return;
        foreach (var r in required)
        {
            var key = (string?)r;
            if (key is not null && !o.ContainsKey(key))
                causes.Add(new FieldCause("FieldValueRequired", "Required value", path.Length == 0 ? key : $"{path}.{key}"));
        }
    }

    private static void CheckListMapKeys(JsonArray a, JsonObject schema, string path, List<FieldCause> causes)
    {
        var listType = (string?)schema["x-kubernetes-list-type"];
        if (listType == "map" && schema["x-kubernetes-list-map-keys"] is JsonArray keys)
        {
            var seen = new HashSet<string>();
            for (var i = 0; i < a.Count; i++)
            {
                var id = string.Join("\u0000", keys.Select(k => a[i]?[(string)k!]?.ToJsonString() ?? ""));
                if (!seen.Add(id))
                    causes.Add(new FieldCause("FieldValueDuplicate", $"Duplicate value: {a[i]?.ToJsonString()}", $"{path}[{i}]"));
            }
        }
        else if (listType == "set")
        {
            var seen = new HashSet<string>();
            for (var i = 0; i < a.Count; i++)
            {
                if (!seen.Add(a[i]?.ToJsonString() ?? "null"))
                    causes.Add(new FieldCause("FieldValueDuplicate", $"Duplicate value: {a[i]?.ToJsonString()}", $"{path}[{i}]"));
            }
        }
    }

    private static void CheckString(string s, JsonObject schema, string path, List<FieldCause> causes)
    {
        var format = (string?)schema["format"];
        if (format == "date-time" && !IsDateTime(s))
            causes.Add(Invalid(path, JsonValue.Create(s), $"{path} in body must be of type date-time: \"{s}\""));
        if (schema["minLength"] is JsonValue minL && s.Length < J.Long(minL)!.Value)
            causes.Add(Invalid(path, JsonValue.Create(s), $"{path} in body should be at least {J.Long(minL)!.Value} chars long"));
        if (schema["maxLength"] is JsonValue maxL && s.Length > J.Long(maxL)!.Value)
            causes.Add(new FieldCause("FieldValueTooLong", $"Too long: may not be more than {J.Long(maxL)!.Value} bytes", path));
        if ((string?)schema["pattern"] is { } pattern && !Regex.IsMatch(s, pattern, RegexOptions.None, TimeSpan.FromMilliseconds(100)))
            causes.Add(Invalid(path, JsonValue.Create(s), $"{path} in body should match '{pattern}'"));
    }

    private static void CheckNumber(double value, JsonObject schema, string path, List<FieldCause> causes)
    {
        if (schema["minimum"] is JsonValue min)
        {
            var exclusive = schema["exclusiveMinimum"] is JsonValue ex && (bool)ex;
            var m = J.Double(min) ?? 0;
            if (exclusive ? value <= m : value < m)
                causes.Add(Invalid(path, JsonValue.Create(value), $"{path} in body should be greater than {(exclusive ? "" : "or equal to ")}{Format(m)}"));
        }
        if (schema["maximum"] is JsonValue max)
        {
            var exclusive = schema["exclusiveMaximum"] is JsonValue ex && (bool)ex;
            var m = J.Double(max) ?? 0;
            if (exclusive ? value >= m : value > m)
                causes.Add(Invalid(path, JsonValue.Create(value), $"{path} in body should be less than {(exclusive ? "" : "or equal to ")}{Format(m)}"));
        }
    }

    private static void CheckEnum(JsonNode node, JsonObject schema, string path, List<FieldCause> causes)
    {
        if (schema["enum"] is not JsonArray values || values.Any(v => JsonNode.DeepEquals(v, node))) return;
        var supported = string.Join(", ", values.Select(v => v?.ToJsonString()));
        causes.Add(new FieldCause("FieldValueNotSupported", $"Unsupported value: {node.ToJsonString()}: supported values: {supported}", path));
    }

    /// <summary>RFC 3339 date-time: seconds required, any number of fraction digits, Z or a numeric offset.</summary>
    public static bool IsDateTime(string s)
    {
        var m = Rfc3339().Match(s);
        if (!m.Success) return false;
        var fraction = m.Groups["fraction"].Value;
        var trimmed = m.Groups["base"].Value + (fraction.Length > 0 ? "." + fraction[..Math.Min(7, fraction.Length)] : "") + m.Groups["zone"].Value.ToUpperInvariant();
        return DateTimeOffset.TryParse(trimmed.Replace('t', 'T'), CultureInfo.InvariantCulture, DateTimeStyles.None, out _);
    }

    [GeneratedRegex(@"^(?<base>\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2})(?:\.(?<fraction>\d+))?(?<zone>[Zz]|[+-]\d{2}:\d{2})$")]
    private static partial Regex Rfc3339();

    private static bool IsInteger(JsonValue v) =>
        J.Double(v) is { } d && Math.Abs(d % 1) < double.Epsilon;

    private static string KindName(JsonNode node) => node switch
    {
        JsonObject => "object",
        JsonArray => "array",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "string",
            JsonValueKind.Number => "number",
            JsonValueKind.True or JsonValueKind.False => "boolean",
            _ => "null",
        },
        _ => "null",
    };

    private static FieldCause TypeError(string path, JsonNode node, string expected) =>
        Invalid(path, node, $"{path} in body must be of type {expected}: \"{KindName(node)}\"");

    private static FieldCause Invalid(string path, JsonNode? value, string detail) =>
        new("FieldValueInvalid", $"Invalid value: {Render(value)}: {detail}", path);

    private static string Render(JsonNode? value) => value switch
    {
        JsonObject => "\"object\"",
        JsonArray => "\"array\"",
        null => "\"null\"",
        _ => value.ToJsonString(),
    };

    private static string Format(double d) => d.ToString(CultureInfo.InvariantCulture);
}
