using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Xml.Linq;
using DoraOperator.Entities.Dora;
using DoraOperator.Kube.Meta;

namespace DoraOperator.Entities.Schema;

/// <summary>
/// Generates CustomResourceDefinitions from the entity types: structural OpenAPI v3 schemas with the
/// types' XML doc summaries as descriptions, and the schema attributes (required, enums, defaults,
/// patterns, ranges, list types, CEL rules), printer columns, short names and categories.
/// <c>config/crds</c> is this output; a test fails when it is stale.
/// </summary>
public static class CrdGenerator
{
    /// <summary>The project's CRDs, in file order.</summary>
    public static IReadOnlyList<(Type Type, ResourceInfo Resource)> Kinds { get; } =
    [
        (typeof(DoraProject), DoraProject.Resource),
        (typeof(DeploymentRecord), DeploymentRecord.Resource),
        (typeof(Incident), Incident.Resource),
    ];

    private static readonly Lazy<Dictionary<string, string>> Docs = new(LoadDocs);

    /// <summary>File name → YAML text for every CRD (<c>dora-operator.io_&lt;plural&gt;.yaml</c>).</summary>
    public static IReadOnlyDictionary<string, string> GenerateAll() =>
        Kinds.ToDictionary(k => $"{k.Resource.Group}_{k.Resource.Plural}.yaml", k => Header + YamlWriter.Write(Generate(k.Type, k.Resource)));

    public const string Header = "# Generated from src/Entities by `dotnet run --project src/Operator -- generate crds`. Do not edit.\n";

    public static JsonObject Generate(Type type, ResourceInfo resource)
    {
        var crd = type.GetCustomAttribute<CustomResourceAttribute>() ?? throw new ArgumentException($"{type.Name} has no [CustomResource]", nameof(type));
        var names = new JsonObject
        {
            ["kind"] = resource.Kind,
            ["listKind"] = resource.Kind + "List",
            ["plural"] = resource.Plural,
            ["singular"] = crd.Singular,
        };
        if (crd.ShortNames.Length > 0) names["shortNames"] = Strings(crd.ShortNames);
        if (crd.Categories.Length > 0) names["categories"] = Strings(crd.Categories);

        var root = new JsonObject { ["type"] = "object" };
        if (Describe(type) is { } description) root["description"] = description;
        var properties = new JsonObject
        {
            ["apiVersion"] = new JsonObject { ["type"] = "string", ["description"] = "APIVersion defines the versioned schema of this representation of an object." },
            ["kind"] = new JsonObject { ["type"] = "string", ["description"] = "Kind is a string value representing the REST resource this object represents." },
            ["metadata"] = new JsonObject { ["type"] = "object" },
        };
        var required = new JsonArray();
        foreach (var p in Properties(type).Where(p => p.Name is "Spec" or "Status"))
        {
            properties[JsonName(p)] = PropertySchema(p);
            if (p.Name == "Spec") required.Add((JsonNode)"spec");
        }
        root["properties"] = properties;
        if (required.Count > 0) root["required"] = required;

        var columns = new JsonArray(type.GetCustomAttributes<PrinterColumnAttribute>().OrderBy(c => c.Order).Select(c =>
        {
            var column = new JsonObject { ["name"] = c.Name, ["type"] = c.Type, ["jsonPath"] = c.JsonPath };
            if (c.Description is not null) column["description"] = c.Description;
            if (c.Priority != 0) column["priority"] = c.Priority;
            return (JsonNode)column;
        }).ToArray());

        return new JsonObject
        {
            ["apiVersion"] = "apiextensions.k8s.io/v1",
            ["kind"] = "CustomResourceDefinition",
            ["metadata"] = new JsonObject { ["name"] = $"{resource.Plural}.{resource.Group}" },
            ["spec"] = new JsonObject
            {
                ["group"] = resource.Group,
                ["names"] = names,
                ["scope"] = resource.Namespaced ? "Namespaced" : "Cluster",
                ["versions"] = new JsonArray(new JsonObject
                {
                    ["name"] = resource.Version,
                    ["served"] = true,
                    ["storage"] = true,
                    ["subresources"] = new JsonObject { ["status"] = new JsonObject() },
                    ["additionalPrinterColumns"] = columns,
                    ["schema"] = new JsonObject { ["openAPIV3Schema"] = root },
                }),
            },
        };
    }

    private static JsonObject PropertySchema(PropertyInfo p)
    {
        var schema = TypeSchema(p.PropertyType);
        var valueType = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
        if ((Describe(p) ?? (valueType.IsClass && valueType != typeof(string) ? Describe(valueType) : null)) is { } description)
            schema = Prepend(schema, "description", description);
        if (p.GetCustomAttribute<AllowedValuesAttribute>() is { } allowed) schema["enum"] = Strings(allowed.Values);
        if (p.GetCustomAttribute<DefaultAttribute>() is { } def) schema["default"] = Scalar(def.Value);
        if (p.GetCustomAttribute<DefaultEmptyObjectAttribute>() is not null) schema["default"] = new JsonObject();
        if (p.GetCustomAttribute<PatternAttribute>() is { } pattern) schema["pattern"] = pattern.Regex;
        if (p.GetCustomAttribute<MaxLengthAttribute>() is { } max) schema["maxLength"] = max.Length;
        if (p.GetCustomAttribute<RangeAttribute>() is { } range)
        {
            schema["minimum"] = JsonValue.Create(range.Minimum % 1 == 0 ? (long)range.Minimum : range.Minimum);
            if (range.Maximum < 1e15) schema["maximum"] = JsonValue.Create(range.Maximum % 1 == 0 ? (long)range.Maximum : range.Maximum);
        }
        if (p.GetCustomAttribute<ListMapAttribute>() is { } map)
        {
            schema["x-kubernetes-list-type"] = "map";
            schema["x-kubernetes-list-map-keys"] = Strings(map.Keys);
        }
        if (p.GetCustomAttribute<ListSetAttribute>() is not null) schema["x-kubernetes-list-type"] = "set";
        AddRules(schema, p.GetCustomAttributes<ValidationRuleAttribute>());
        return schema;
    }

    private static JsonObject TypeSchema(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string)) return new JsonObject { ["type"] = "string" };
        if (type == typeof(int)) return new JsonObject { ["type"] = "integer", ["format"] = "int32" };
        if (type == typeof(long)) return new JsonObject { ["type"] = "integer", ["format"] = "int64" };
        if (type == typeof(double)) return new JsonObject { ["type"] = "number" };
        if (type == typeof(bool)) return new JsonObject { ["type"] = "boolean" };
        if (type == typeof(DateTimeOffset)) return new JsonObject { ["type"] = "string", ["format"] = "date-time" };
        if (type == typeof(Condition)) return ConditionSchema();
        if (type == typeof(LabelSelector)) return LabelSelectorSchema();
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
            return new JsonObject { ["type"] = "array", ["items"] = TypeSchema(type.GetGenericArguments()[0]) };
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>))
            return new JsonObject { ["type"] = "object", ["additionalProperties"] = TypeSchema(type.GetGenericArguments()[1]) };
        if (type.IsClass) return ObjectSchema(type);
        throw new NotSupportedException($"no schema mapping for {type}");
    }

    private static JsonObject ObjectSchema(Type type)
    {
        var schema = new JsonObject { ["type"] = "object" };
        var properties = new JsonObject();
        var required = new JsonArray();
        foreach (var p in Properties(type))
        {
            properties[JsonName(p)] = PropertySchema(p);
            if (p.GetCustomAttribute<RequiredAttribute>() is not null) required.Add((JsonNode)JsonName(p));
        }
        schema["properties"] = properties;
        if (required.Count > 0) schema["required"] = required;
        AddRules(schema, type.GetCustomAttributes<ValidationRuleAttribute>());
        return schema;
    }

    private static void AddRules(JsonObject schema, IEnumerable<ValidationRuleAttribute> rules)
    {
        var list = rules.Select(r =>
        {
            var rule = new JsonObject { ["rule"] = r.Rule, ["message"] = r.Message };
            if (r.FieldPath is not null) rule["fieldPath"] = r.FieldPath;
            return (JsonNode)rule;
        }).ToArray();
        if (list.Length > 0) schema["x-kubernetes-validations"] = new JsonArray(list);
    }

    /// <summary>A default value from an attribute as JSON: the kinds attributes can carry.</summary>
    private static JsonNode? Scalar(object? value) => value switch
    {
        null => null,
        int i => JsonValue.Create(i),
        long l => JsonValue.Create(l),
        double d => JsonValue.Create(d),
        bool b => JsonValue.Create(b),
        string s => JsonValue.Create(s),
        _ => throw new NotSupportedException($"a default of type {value.GetType().Name} has no JSON form here"),
    };

    // The entity types are rooted whole in the published binary (TrimmerRootAssembly in src/Operator),
    // so the public properties walked here, and the types they lead to, are all kept.
    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "The Entities assembly is a trimmer root: every entity type keeps its public properties.")]
    private static IEnumerable<PropertyInfo> Properties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetCustomAttribute<JsonExtensionDataAttribute>() is null && p.GetCustomAttribute<JsonIgnoreAttribute>() is null)
            .Where(p => p.DeclaringType != typeof(KubeObject));

    private static string JsonName(PropertyInfo p) =>
        p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(p.Name);

    private static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode)JsonValue.Create(v)!).ToArray());

    private static JsonObject Prepend(JsonObject schema, string key, string value)
    {
        var result = new JsonObject { [key] = value };
        foreach (var (k, v) in schema.ToList())
        {
            schema.Remove(k);
            result[k] = v;
        }
        return result;
    }

    private static JsonObject ConditionSchema() => new()
    {
        ["type"] = "object",
        ["description"] = "A metav1.Condition: the state of one aspect of the object.",
        ["properties"] = new JsonObject
        {
            ["type"] = new JsonObject { ["type"] = "string", ["maxLength"] = 316 },
            ["status"] = new JsonObject { ["type"] = "string", ["enum"] = Strings(["True", "False", "Unknown"]) },
            ["observedGeneration"] = new JsonObject { ["type"] = "integer", ["format"] = "int64", ["minimum"] = 0 },
            ["lastTransitionTime"] = new JsonObject { ["type"] = "string", ["format"] = "date-time" },
            ["reason"] = new JsonObject { ["type"] = "string", ["maxLength"] = 1024 },
            ["message"] = new JsonObject { ["type"] = "string", ["maxLength"] = 32768 },
        },
        ["required"] = Strings(["type", "status", "lastTransitionTime", "reason", "message"]),
    };

    private static JsonObject LabelSelectorSchema() => new()
    {
        ["type"] = "object",
        ["properties"] = new JsonObject
        {
            ["matchLabels"] = new JsonObject { ["type"] = "object", ["additionalProperties"] = new JsonObject { ["type"] = "string" } },
            ["matchExpressions"] = new JsonObject
            {
                ["type"] = "array",
                ["items"] = new JsonObject
                {
                    ["type"] = "object",
                    ["properties"] = new JsonObject
                    {
                        ["key"] = new JsonObject { ["type"] = "string" },
                        ["operator"] = new JsonObject { ["type"] = "string", ["enum"] = Strings(["In", "NotIn", "Exists", "DoesNotExist"]) },
                        ["values"] = new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "string" } },
                    },
                    ["required"] = Strings(["key", "operator"]),
                },
            },
        },
        ["x-kubernetes-map-type"] = "atomic",
    };

    private static string? Describe(MemberInfo member)
    {
        var id = member switch
        {
            Type t => "T:" + t.FullName,
            PropertyInfo p => $"P:{p.DeclaringType!.FullName}.{p.Name}",
            _ => null,
        };
        return id is not null && Docs.Value.TryGetValue(id, out var text) ? text : null;
    }

    /// <summary>Summaries from the XML documentation file built beside this assembly.</summary>
    private static Dictionary<string, string> LoadDocs()
    {
        var assembly = typeof(CrdGenerator).Assembly;
        var name = assembly.GetName().Name + ".xml";
        // A published binary carries the documentation inside (src/Operator embeds it); a build has it beside the assembly.
        using var embedded = System.Reflection.Assembly.GetEntryAssembly()?.GetManifestResourceStream(name);
        var path = Path.Combine(AppContext.BaseDirectory, name);
        if (embedded is null && !File.Exists(path)) throw new FileNotFoundException($"the XML documentation of {assembly.GetName().Name} is needed for CRD descriptions and was found neither in the program nor beside it", path);
        var document = embedded is not null ? XDocument.Load(embedded) : XDocument.Load(path);
        return document.Descendants("member")
            .Where(m => m.Element("summary") is not null)
            .ToDictionary(
                m => (string)m.Attribute("name")!,
                m => string.Join(' ', string.Concat(m.Element("summary")!.Nodes().Select(n => n switch
                {
                    XElement e => (string?)e.Attribute("cref")?.Value.Split('.')[^1] ?? e.Value,
                    XText t => t.Value,
                    _ => "",
                })).Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries)));
    }
}
