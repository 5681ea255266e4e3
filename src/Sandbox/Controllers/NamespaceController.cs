using DoraOperator.Sandbox.Resources;
using DoraOperator.Sandbox.Storage;

namespace DoraOperator.Sandbox.Controllers;

/// <summary>
/// The namespace controller's job: a Terminating Namespace's contents are deleted, then the
/// Namespace. Objects with finalizers keep it Terminating until they are gone; it retries every
/// 100 ms of the server's clock.
/// </summary>
internal sealed class NamespaceController(ObjectStore store, ResourceRegistry registry)
{
    public async Task FinalizeAsync(string name)
    {
        var namespaces = registry.FindByKey("/namespaces")!;
        while (!store.FinalizeNamespace(namespaces, name))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), store.Time);
        }
    }
}
