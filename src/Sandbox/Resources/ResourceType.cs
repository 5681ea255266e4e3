using System.Text.Json.Nodes;

namespace DoraOperator.Sandbox.Resources;

/// <summary>A printer column as a CRD declares it (additionalPrinterColumns).</summary>
internal sealed record PrinterColumn(string Name, string Type, string JsonPath, string? Format = null, string? Description = null, int Priority = 0);

/// <summary>
/// One servable resource: what discovery advertises and what the store and handlers need to know.
/// Built-in kinds are declared in <see cref="BuiltInResources"/>; CRDs produce these at runtime.
/// </summary>
internal sealed class ResourceType
{
    public required string Group { get; init; }
    public required IReadOnlyList<string> Versions { get; init; }
    public required string Plural { get; init; }
    public required string Singular { get; init; }
    public required string Kind { get; init; }
    public required bool Namespaced { get; init; }
    public IReadOnlyList<string> ShortNames { get; init; } = [];
    public IReadOnlyList<string> Categories { get; init; } = [];
    public bool HasStatusSubresource { get; init; }
    public bool HasScaleSubresource { get; init; }
    /// <summary>Whether metadata.generation is maintained (objects with a spec).</summary>
    public bool HasGeneration { get; init; }
    /// <summary>Deployments bump generation on annotation changes too, as the real registry does.</summary>
    public bool GenerationTracksAnnotations { get; init; }
    public bool IsCustom { get; init; }
    /// <summary>Per version: the openAPIV3Schema of a CRD version, when it has one.</summary>
    public IReadOnlyDictionary<string, JsonObject> Schemas { get; init; } = new Dictionary<string, JsonObject>();
    public IReadOnlyDictionary<string, IReadOnlyList<PrinterColumn>> PrinterColumns { get; init; } = new Dictionary<string, IReadOnlyList<PrinterColumn>>();
    /// <summary>Field selector labels this kind supports beyond metadata.name and metadata.namespace.</summary>
    public IReadOnlyList<string> ExtraFieldLabels { get; init; } = [];
    /// <summary>Strategic merge keys for list fields, by field name (built-ins only).</summary>
    public bool SupportsStrategicMerge { get; init; }
    public IReadOnlyList<string> Verbs { get; init; } = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

    public string Key => $"{Group}/{Plural}";
    public string GroupResource => Group.Length == 0 ? Plural : $"{Plural}.{Group}";
    public string GroupKind => Group.Length == 0 ? Kind : $"{Kind}.{Group}";
    public string ListKind => Kind + "List";
    public string PreferredVersion => Versions[0];
    public string ApiVersion(string version) => Group.Length == 0 ? version : $"{Group}/{version}";
}
