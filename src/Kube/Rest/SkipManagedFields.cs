using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using DoraOperator.Kube.Meta;

namespace DoraOperator.Kube.Rest;

/// <summary>
/// <typeparamref name="T"/>'s source-generated contract with <see cref="ObjectMeta"/>'s
/// <c>[JsonExtensionData]</c> removed, so the reader skips <c>metadata.managedFields</c> (and any
/// other metadata field the type does not name) instead of parsing it into <see cref="JsonElement"/>s
/// that a lean cache then drops. Everything else is decoded as usual: a pod template keeps its
/// unknown fields, which its fingerprint covers. Only for objects that are never written back whole.
/// </summary>
public static class SkipManagedFields<T>
    where T : KubeObject, IKubeResource<T>
{
    public static JsonTypeInfo<T> JsonType { get; } = Build();

    private static JsonTypeInfo<T> Build()
    {
        var source = T.JsonType.Options;
        var options = new JsonSerializerOptions(source)
        {
            TypeInfoResolver = JsonTypeInfoResolver.WithAddedModifier(source.TypeInfoResolver!, info =>
            {
                if (info.Type != typeof(ObjectMeta)) return;
                for (var i = info.Properties.Count - 1; i >= 0; i--)
                {
                    if (info.Properties[i].IsExtensionData) info.Properties.RemoveAt(i);
                }
            }),
        };
        return (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
    }
}
