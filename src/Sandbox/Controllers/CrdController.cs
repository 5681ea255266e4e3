using DoraOperator.Sandbox.Apply;
using DoraOperator.Sandbox.Resources;
using DoraOperator.Sandbox.Storage;

namespace DoraOperator.Sandbox.Controllers;

/// <summary>
/// The apiextensions controllers' job, as a store subscriber: a stored CustomResourceDefinition
/// is served from that write on (REST and discovery), then gets its NamesAccepted and Established
/// conditions from a write of its own, as on a real server where clients wait for Established.
/// A deleted one stops being served and its objects go with it.
/// </summary>
internal sealed class CrdController
{
    private const string CrdKey = "apiextensions.k8s.io/customresourcedefinitions";
    private readonly ObjectStore _store;
    private readonly ResourceRegistry _registry;

    public CrdController(ObjectStore store, ResourceRegistry registry)
    {
        _store = store;
        _registry = registry;
        store.Subscribe(OnStoreEvent);
    }

    private void OnStoreEvent(StoreEvent e)
    {
        if (e.Type.Key != CrdKey) return;
        var crd = e.Object.ToNode();
        if (e.EventType == WatchEventTypes.Deleted)
        {
            var key = $"{(string?)crd["spec"]?["group"]}/{(string?)crd["spec"]?["names"]?["plural"]}";
            if (_registry.FindByKey(key) is not { } served) return;
            _registry.Remove(key);
            _store.DropType(served);
            return;
        }
        if (e.Object.Deleting) return;
        var type = CrdTypes.ToResourceType(crd);
        _registry.Put(type);
        _store.Retype(type);
        if (crd["status"]?["conditions"] is null)
        {
            var name = e.Object.Name;
            _ = Task.Run(() => Establish(e.Type, name));
        }
    }

    private void Establish(ResourceType crds, string name)
    {
        try
        {
            var now = _store.Now();
            _store.Update(crds, null, name, current =>
            {
                if (current["status"]?["conditions"] is null) current["status"] = CrdTypes.EstablishedStatus(current, now);
                return current;
            }, owner: new FieldOwner("kube-apiserver", "apiextensions.k8s.io/v1", "status"));
        }
        catch (Http.ApiException e) when (e.Code == 404)
        {
            // Deleted before it was established.
        }
    }
}
