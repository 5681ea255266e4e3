using DoraOperator.Kube.Meta;

namespace DoraOperator.Kube.Queue;

/// <summary>
/// What a work queue holds and a reconciler receives: an object's namespace and name
/// (controller-runtime's <c>reconcile.Request</c>). Cluster-scoped objects have an empty namespace.
/// Written <c>namespace/name</c>, as kubectl and the logs show it.
/// </summary>
public readonly record struct ObjectKey(string Namespace, string Name)
{
    public static ObjectKey Of(ObjectMeta meta) => new(meta.Namespace ?? "", meta.Name ?? "");

    public static ObjectKey Of(string? ns, string name) => new(ns ?? "", name);

    /// <summary>Reads <c>namespace/name</c> (or a bare name for a cluster-scoped object).</summary>
    public static ObjectKey Parse(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? new ObjectKey("", text) : new ObjectKey(text[..slash], text[(slash + 1)..]);
    }

    public override string ToString() => Namespace.Length == 0 ? Name : Namespace + "/" + Name;
}
