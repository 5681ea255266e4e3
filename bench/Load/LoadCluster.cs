using DoraOperator.Entities.BuiltIn;
using DoraOperator.Entities.Dora;
using DoraOperator.Kube.Config;
using DoraOperator.Kube.Meta;
using DoraOperator.Kube.Rest;
using DoraOperator.Sandbox;

namespace DoraOperator.Bench;

/// <summary>
/// The cluster both load scenarios measure: a Sandbox in this process with the CRDs, namespace
/// <c>load</c>, one DoraProject per <see cref="ProjectSize"/> Deployments (<c>team-000</c>, ...,
/// each selecting its <c>team</c> label), and N such Deployments whose first revision the simulated
/// controller has completed.
/// </summary>
internal sealed class LoadCluster : IAsyncDisposable
{
    private LoadCluster(SandboxApiServer server, KubeApiClient client, string kubeconfigPath) =>
        (Server, Client, KubeconfigPath) = (server, client, kubeconfigPath);

    public SandboxApiServer Server { get; }
    public KubeApiClient Client { get; }
    public string KubeconfigPath { get; }

    /// <param name="revisions">Revisions each Deployment has rolled through before measuring (the
    /// Sandbox's controller keeps <c>revisionHistoryLimit</c>, 10, old ReplicaSets, as a real one does).</param>
    public static async Task<LoadCluster> StartAsync(int deployments, int watchHistory, int revisions = 1)
    {
        var server = await SandboxApiServer.StartAsync(new SandboxOptions { WatchHistory = watchHistory });
        var kubeconfig = Path.GetTempFileName();
        await server.WriteKubeconfigAsync(kubeconfig);
        var client = new KubeApiClient(KubeConfigLoader.Load(kubeconfig), new KubeClientOptions { Qps = 0 });
        foreach (var file in Directory.GetFiles(Path.Combine(RepoRoot(), "config", "crds")))
        {
            using var http = server.CreateHttpClient();
            using var content = new StringContent(await File.ReadAllTextAsync(file));
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/apply-patch+yaml");
            var name = Path.GetFileNameWithoutExtension(file).Split('_')[1] + ".dora-operator.io";
            using var reply = await http.PatchAsync($"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}?fieldManager=bench", content);
            reply.EnsureSuccessStatusCode();
        }
        await client.CreateAsync(new Namespace { Metadata = new() { Name = "load" } });
        for (var team = 0; team * ProjectSize < deployments; team++)
        {
            await client.CreateAsync(new DoraProject
            {
                Metadata = new() { Name = Team(team * ProjectSize), Namespace = "load" },
                // Default retention (1,000 records): a project of 50 Deployments with 11 revisions each and the steady phase's rollouts stays under it.
                Spec = new DoraProjectSpec { Selector = new LabelSelector { MatchLabels = new() { ["team"] = Team(team * ProjectSize) } } },
            });
        }
        await Parallel.ForEachAsync(Enumerable.Range(0, deployments), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
            await client.CreateAsync(Workload(i, "1"), ct));
        // Let the simulated controller finish the first revisions before measuring.
        await server.Deployments!.WaitIdleAsync();
        for (var revision = 2; revision <= revisions; revision++)
        {
            var version = revision.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await Parallel.ForEachAsync(Enumerable.Range(0, deployments), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
                await client.PatchAsync<Deployment>($"svc-{i:D5}", "load", PatchType.Strategic, RevisionPatch(i, version), cancellationToken: ct));
            await server.Deployments.WaitIdleAsync();
        }
        return new LoadCluster(server, client, kubeconfig);
    }

    /// <summary>Deployments per DoraProject: teams own tens of services, not thousands.</summary>
    public const int ProjectSize = 50;

    /// <summary>The project (and its <c>team</c> label value) of Deployment <paramref name="i"/>.</summary>
    public static string Team(int i) => $"team-{i / ProjectSize:D3}";

    public static Deployment Workload(int i, string version) => new()
    {
        Metadata = new() { Name = $"svc-{i:D5}", Namespace = "load", Labels = new() { ["team"] = Team(i) } },
        Spec = new DeploymentSpec
        {
            Replicas = 1,
            Selector = new() { MatchLabels = new() { ["app"] = $"svc-{i:D5}" } },
            Template = new PodTemplateSpec
            {
                Metadata = new() { Labels = new() { ["app"] = $"svc-{i:D5}" }, Annotations = new() { ["dora-operator.io/commit-sha"] = Sha(i, version), ["dora-operator.io/commit-time"] = "2026-11-01T00:00:00Z" } },
                Spec = new PodSpec { Containers = [new Container { Name = "app", Image = Image(i, version) }] },
            },
        },
    };

    /// <summary>Revision <paramref name="version"/> of Deployment <paramref name="i"/>'s commit: a 40-digit hex SHA, as pipelines annotate it.</summary>
    public static string Sha(int i, string version) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"svc-{i:D5}@{version}")))[..40];

    /// <summary>Its image: a registry path with a tag of the commit's short SHA, as CI tags builds.</summary>
    public static string Image(int i, string version) => $"registry.example.com/load/svc-{i:D5}:{Sha(i, version)[..12]}";

    /// <summary>The strategic merge patch that rolls Deployment <paramref name="i"/> to revision <paramref name="version"/>'s commit and image.</summary>
    public static string RevisionPatch(int i, string version) =>
        """{"spec":{"template":{"metadata":{"annotations":{"dora-operator.io/commit-sha":"SHA"}},"spec":{"containers":[{"name":"app","image":"IMAGE"}]}}}}"""
            .Replace("SHA", Sha(i, version), StringComparison.Ordinal).Replace("IMAGE", Image(i, version), StringComparison.Ordinal);

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DoraOperator.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("run from inside the repository");
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
        File.Delete(KubeconfigPath);
    }
}
