using System.Text.Json;
using System.Text.Json.Nodes;

namespace DoraOperator.Sandbox.Storage;

/// <summary>
/// An immutable stored object: its serialized bytes plus the few fields the store filters on.
/// Stored bytes are never mutated; a write produces a new instance. Reads and watch fan-out share the bytes.
/// </summary>
internal sealed class StoredObject
{
    private static readonly IReadOnlyDictionary<string, string> NoLabels = new Dictionary<string, string>();

    private StoredObject(byte[] json, JsonObject node)
    {
        Json = json;
        var meta = node["metadata"] as JsonObject ?? [];
        Name = (string?)meta["name"] ?? "";
        Namespace = (string?)meta["namespace"] ?? "";
        Uid = (string?)meta["uid"] ?? "";
        ResourceVersion = long.TryParse((string?)meta["resourceVersion"], out var rv) ? rv : 0;
        Labels = meta["labels"] is JsonObject labels
            ? labels.ToDictionary(kv => kv.Key, kv => kv.Value?.ToString() ?? "")
            : NoLabels;
        Finalizers = meta["finalizers"] is JsonArray f ? f.Select(x => x?.ToString() ?? "").ToList() : [];
        Deleting = meta["deletionTimestamp"] is not null;
        CreationTimestamp = (string?)meta["creationTimestamp"];
        DeletionTimestamp = (string?)meta["deletionTimestamp"];
        OwnerUids = meta["ownerReferences"] is JsonArray owners
            ? owners.Select(o => (string?)o?["uid"] ?? "").Where(u => u.Length > 0).ToList()
            : [];
    }

    public byte[] Json { get; }
    public string Name { get; }
    public string Namespace { get; }
    public string Uid { get; }
    public long ResourceVersion { get; }
    public IReadOnlyDictionary<string, string> Labels { get; }
    public IReadOnlyList<string> Finalizers { get; }
    public bool Deleting { get; }
    public string? CreationTimestamp { get; }
    public string? DeletionTimestamp { get; }
    public IReadOnlyList<string> OwnerUids { get; }
    public string Key => KeyOf(Namespace, Name);

    public static string KeyOf(string? ns, string name) => string.IsNullOrEmpty(ns) ? name : ns + "/" + name;

    public static StoredObject From(JsonObject node) => new(SandboxJson.Serialize(node), node);

    public static StoredObject From(JsonObject node, byte[] json) => new(json, node);

    /// <summary>A fresh, mutable copy of the object.</summary>
    public JsonObject ToNode() => JsonNode.Parse(Json)!.AsObject();
}

/// <summary>The Sandbox's JSON: only what JSON requires escaped, as kube-apiserver writes it. Source-generated, so trimming and AOT keep it.</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(JsonNode))]
internal sealed partial class SandboxJson : System.Text.Json.Serialization.JsonSerializerContext
{
    public static SandboxJson Relaxed { get; } = new(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    public static byte[] Serialize(JsonNode node) => JsonSerializer.SerializeToUtf8Bytes(node, Relaxed.JsonNode);
}
