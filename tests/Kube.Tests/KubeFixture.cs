using DoraOperator.Kube.Config;
using DoraOperator.Kube.Meta;
using DoraOperator.Kube.Rest;
using DoraOperator.Sandbox;

namespace DoraOperator.Kube.Tests;

/// <summary>A Sandbox plus a client connected to it through a real kubeconfig file.</summary>
public sealed class KubeFixture : IAsyncLifetime
{
    public SandboxApiServer Server { get; private set; } = null!;
    public string KubeconfigPath { get; } = Path.Combine(Path.GetTempPath(), $"kube-tests-{Guid.NewGuid():N}.kubeconfig");
    public KubeApiClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await SandboxApiServer.StartAsync(new SandboxOptions { KubeconfigPath = KubeconfigPath });
        Client = new KubeApiClient(KubeConfigLoader.Load(KubeconfigPath), new KubeClientOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(10), Qps = 0 });
    }

    public async Task<string> NewNamespaceAsync()
    {
        var name = $"k-{Guid.NewGuid():N}"[..14];
        await Client.CreateAsync(new Namespace { Metadata = new ObjectMeta { Name = name } });
        return name;
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
        File.Delete(KubeconfigPath);
    }

    public static ConfigMap ConfigMap(string ns, string name, string value = "v", Dictionary<string, string>? labels = null) => new()
    {
        Metadata = new ObjectMeta { Name = name, Namespace = ns, Labels = labels },
        Data = new Dictionary<string, string> { ["k"] = value },
    };
}
