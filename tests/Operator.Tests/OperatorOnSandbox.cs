using DoraOperator.Operator.Hosting;
using DoraOperator.Sandbox;
using DoraOperator.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace DoraOperator.Operator.Tests;

/// <summary>
/// The environment the operator's in-process tests share: a Sandbox with the CRDs from config/crds,
/// a namespace "shop", kubectl pointed at it, and the operator started on demand with test defaults
/// (no leader election, any free HTTP port, no client-side rate limit).
/// </summary>
internal sealed class OperatorOnSandbox : IAsyncDisposable
{
    private OperatorOnSandbox(string kubeconfig, SandboxApiServer server, Kubectl kubectl)
    {
        KubeconfigPath = kubeconfig;
        Server = server;
        Kubectl = kubectl;
    }

    public string KubeconfigPath { get; }
    public SandboxApiServer Server { get; }
    public Kubectl Kubectl { get; }

    public static async Task<OperatorOnSandbox> StartAsync(DoraOperator.Sandbox.Security.AuthorizationMode authorization = DoraOperator.Sandbox.Security.AuthorizationMode.AlwaysAllow)
    {
        var kubeconfig = Path.GetTempFileName();
        var server = await SandboxApiServer.StartAsync(new SandboxOptions { KubeconfigPath = kubeconfig, Authorization = authorization });
        var kubectl = new Kubectl(kubeconfig, "shop");
        await kubectl.OkAsync($"apply -f {Repo.Path("config", "crds")}");
        await kubectl.OkAsync("create namespace shop -n default");
        return new OperatorOnSandbox(kubeconfig, server, kubectl);
    }

    /// <summary>The test defaults for this Sandbox; adjust with <c>with</c>.</summary>
    /// <summary>DoraProject "shop", selecting the workloads labelled <c>team: shop</c>: what the rollout tests track.</summary>
    public const string ShopProject = "apiVersion: dora-operator.io/v1alpha1\nkind: DoraProject\nmetadata:\n  name: shop\nspec:\n  selector:\n    matchLabels:\n      team: shop\n";

    /// <summary>Deployment "web" of team shop, at commit <paramref name="sha"/> running <paramref name="image"/>.</summary>
    public static string WebDeployment(string sha, string image) => $$$"""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, labels: {team: shop}}
        spec:
          selector: {matchLabels: {app: web}}
          template:
            metadata:
              labels: {app: web}
              annotations: {dora-operator.io/commit-sha: "{{{sha}}}"}
            spec:
              containers: [{name: web, image: "{{{image}}}"}]
        """;

    public OperatorOptions Options => new()
    {
        Kubeconfig = KubeconfigPath, LeaderElect = false, HttpPort = 0, HttpAddress = "127.0.0.1", KubeApiQps = 0, Intake = new() { Port = 0 },
        DiscoveryInterval = TimeSpan.FromMilliseconds(500),
        // Hosts of test classes running side by side would otherwise export each other's series.
        MeterName = $"{DoraOperator.Operator.Metrics.OperatorMetrics.MeterName}.{Guid.NewGuid():N}",
    };

    /// <summary>Starts the operator and waits until its caches have synced.</summary>
    public async Task<OperatorHost> StartOperatorAsync(OperatorOptions? options = null)
    {
        var host = await OperatorHost.StartAsync(options ?? Options, NullLoggerFactory.Instance);
        await Eventually.True(() => host.Ready, "the operator's caches to sync");
        return host;
    }

    public async ValueTask DisposeAsync()
    {
        Kubectl.Dispose();
        await Server.DisposeAsync();
        File.Delete(KubeconfigPath);
    }
}
