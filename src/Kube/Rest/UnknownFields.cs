using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using DoraOperator.Kube.Meta;

namespace DoraOperator.Kube.Rest;

/// <summary>
/// What a read does with the fields the types do not name, which the <c>[JsonExtensionData]</c>
/// bags would keep as parsed <see cref="JsonElement"/>s (one small JSON document per field). Both
/// skipping modes also cut <c>metadata.managedFields</c> out of the text before decoding
/// (<see cref="ManagedFieldsCut"/>), so the reader never tokenizes them.
/// </summary>
public enum UnknownFields
{
    /// <summary>Kept: an object read this way can be written back whole and loses nothing.</summary>
    Keep,

    /// <summary>
    /// Skipped in every <see cref="ObjectMeta"/> (<c>metadata.managedFields</c> above all), kept
    /// elsewhere: for caches that digest a pod template, whose unknown fields the digest covers.
    /// </summary>
    SkipInMetadata,

    /// <summary>Skipped everywhere: for caches that read only named fields.</summary>
    Skip,
}

/// <summary>
/// <typeparamref name="T"/>'s source-generated contract with the extension-data properties
/// removed as <see cref="UnknownFields"/> says, so the reader skips those fields instead of parsing
/// them, and with the kind's own changes (<see cref="IKubeResource{TSelf}.ModifySkippingContract"/>).
/// Only for objects that are never written back whole (a write would lose the skipped fields).
/// </summary>
public static class UnknownFieldsContract<T>
    where T : KubeObject, IKubeResource<T>
{
    private static readonly Lazy<JsonTypeInfo<T>> InMetadata = new(() => Without(info => info.Type == typeof(ObjectMeta)));
    private static readonly Lazy<JsonTypeInfo<T>> Everywhere = new(() => Without(_ => true));

    public static JsonTypeInfo<T> For(UnknownFields fields) => fields switch
    {
        UnknownFields.SkipInMetadata => InMetadata.Value,
        UnknownFields.Skip => Everywhere.Value,
        _ => T.JsonType,
    };

    private static JsonTypeInfo<T> Without(Func<JsonTypeInfo, bool> where)
    {
        var source = T.JsonType.Options;
        var options = new JsonSerializerOptions(source)
        {
            TypeInfoResolver = JsonTypeInfoResolver.WithAddedModifier(source.TypeInfoResolver!, info =>
            {
                T.ModifySkippingContract(info);
                if (!where(info)) return;
                for (var i = info.Properties.Count - 1; i >= 0; i--)
                {
                    if (info.Properties[i].IsExtensionData) info.Properties.RemoveAt(i);
                }
            }),
        };
        return (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
    }
}
