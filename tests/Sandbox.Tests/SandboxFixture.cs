using DoraOperator.Testing;

namespace DoraOperator.Sandbox.Tests;

/// <summary>One Sandbox shared by a test class; each test works in its own namespace.</summary>
public sealed class SandboxFixture : IAsyncLifetime
{
    public SandboxApiServer Server { get; private set; } = null!;
    public ApiClient Api { get; private set; } = null!;
    public string KubeconfigPath { get; } = Path.Combine(Path.GetTempPath(), $"sandbox-{Guid.NewGuid():N}.kubeconfig");

    public async Task InitializeAsync()
    {
        Server = await SandboxApiServer.StartAsync(new SandboxOptions { KubeconfigPath = KubeconfigPath });
        Api = new ApiClient(Server);
    }

    public async Task DisposeAsync()
    {
        Api.Dispose();
        await Server.DisposeAsync();
        File.Delete(KubeconfigPath);
    }
}
