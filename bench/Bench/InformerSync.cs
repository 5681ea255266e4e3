using k8s;
using System.Diagnostics;
using DoraOperator.Entities.BuiltIn;
using DoraOperator.Kube.Config;
using DoraOperator.Kube.Informers;
using DoraOperator.Kube.Rest;
using DoraOperator.Sandbox;

namespace DoraOperator.Bench;

/// <summary>
/// Initial list+watch of N realistic Deployments into an informer, with and without the lean
/// transform, and lean again from objects without managedFields (what they cost).
/// </summary>
internal static class InformerSync
{
    /// <summary>Runs each variant in its own process so one cannot skew the other's heap figures.</summary>
    public static async Task RunAsync(int objects)
    {
        Console.WriteLine($"\nInformer: initial list+watch of {objects:N0} Deployments (about 2.5 KB of JSON each), each variant in a fresh process\n");
        Stats.Header();
        foreach (var variant in new[] { "none", "lean", "lean-bare", "official" })
        {
            var psi = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true };
            if (Environment.ProcessPath!.EndsWith("dotnet", StringComparison.Ordinal)) psi.ArgumentList.Insert(0, typeof(InformerSync).Assembly.Location);
            psi.ArgumentList.Add("informer-variant");
            psi.ArgumentList.Add(variant);
            psi.ArgumentList.Add(objects.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using var child = Process.Start(psi)!;
            Console.Write(await child.StandardOutput.ReadToEndAsync());
            await child.WaitForExitAsync();
        }
    }

    /// <summary>One variant: seed the Sandbox, then sync an informer and measure it while it is alive.</summary>
    public static async Task RunVariantAsync(string variant, int objects)
    {
        // "bare": objects without managedFields, as from a server that did not track them; every other
        // variant gets them, as real API servers send them.
        await using var server = await SandboxApiServer.StartAsync(new SandboxOptions { DeploymentController = false, ManagedFields = variant != "lean-bare" });
        var kubeconfig = Path.GetTempFileName();
        await server.WriteKubeconfigAsync(kubeconfig);
        // Time to the first answer from a cold client (config, client, one list), before anything else touches a client.
        var cold = Stopwatch.StartNew();
        if (variant == "official")
        {
            using var official = new k8s.Kubernetes(k8s.KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig));
            await official.AppsV1.ListDeploymentForAllNamespacesAsync(limit: 1);
        }
        else
        {
            using var first = new KubeApiClient(KubeConfigLoader.Load(kubeconfig), new KubeClientOptions { Qps = 0 });
            await first.ListAsync<Deployment>(null, new ListOptions(null, null, 1));
        }
        var coldTime = cold.Elapsed;
        using var client = new KubeApiClient(KubeConfigLoader.Load(kubeconfig), new KubeClientOptions { Qps = 0 });
        const int namespaces = 20;
        for (var n = 0; n < namespaces; n++)
        {
            await client.CreateAsync(new DoraOperator.Kube.Meta.Namespace { Metadata = new() { Name = $"team-{n}" } });
        }
        await Parallel.ForEachAsync(Enumerable.Range(0, objects), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
            await client.CreateAsync(Realistic(i, $"team-{i % namespaces}"), ct));
        if (variant == "official")
        {
            await OfficialAsync(kubeconfig, coldTime);
            File.Delete(kubeconfig);
            return;
        }
        var lean = variant != "none";
        var label = variant switch { "none" => "without transform", "lean" => "with lean transform", _ => "lean, objects without managedFields" };
        Stats.Row($"cold client to first answer (src/Kube)", $"{coldTime.TotalMilliseconds:N0} ms", "");
        Collect();
        var heapBefore = GC.GetTotalMemory(true);
        var allocBefore = GC.GetTotalAllocatedBytes(true);
        var sw = Stopwatch.StartNew();
        var informer = new Informer<Deployment>(client, new InformerOptions<Deployment> { Transform = lean ? Workloads.Lean : null });
        await informer.StartAsync();
        await informer.WaitForSyncAsync();
        var sync = sw.Elapsed;
        var allocated = GC.GetTotalAllocatedBytes(true) - allocBefore;
        Collect();
        var retained = GC.GetTotalMemory(true) - heapBefore;
        Stats.Row($"sync time ({label})", $"{sync.TotalMilliseconds:N0} ms", "< 3 s");
        Stats.Row($"allocated incl. in-process server ({label})", $"{allocated / 1024.0 / 1024:N1} MB", "");
        Stats.Row($"managed memory per cached object ({label})", $"{retained / (double)informer.Count:N0} B", lean ? "< 2,048 B" : "");
        GC.KeepAlive(informer);
        await informer.DisposeAsync();
        File.Delete(kubeconfig);
    }

    /// <summary>
    /// The official KubernetesClient (21.0.8) holding the same Deployments as its typed models, listed
    /// page by page as an informer's initial list would (it has no informer of its own).
    /// </summary>
    private static async Task OfficialAsync(string kubeconfig, TimeSpan coldTime)
    {
        Stats.Row("cold client to first answer (KubernetesClient)", $"{coldTime.TotalMilliseconds:N0} ms", "");
        using var official = new k8s.Kubernetes(k8s.KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig));
        Collect();
        var heapBefore = GC.GetTotalMemory(true);
        var sw = Stopwatch.StartNew();
        var cache = new List<k8s.Models.V1Deployment>();
        string? next = null;
        do
        {
            var page = await official.AppsV1.ListDeploymentForAllNamespacesAsync(limit: 500, continueParameter: next);
            cache.AddRange(page.Items);
            next = page.Metadata.ContinueProperty;
        }
        while (!string.IsNullOrEmpty(next));
        var sync = sw.Elapsed;
        Collect();
        var retained = GC.GetTotalMemory(true) - heapBefore;
        Stats.Row("list time (KubernetesClient typed models)", $"{sync.TotalMilliseconds:N0} ms", "");
        Stats.Row("managed memory per cached object (KubernetesClient)", $"{retained / (double)cache.Count:N0} B", "");
        GC.KeepAlive(cache);
    }

    private static void Collect()
    {
        GC.Collect(2, GCCollectionMode.Forced, true, true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, true, true);
    }

    private static Deployment Realistic(int i, string ns) => new()
    {
        Metadata = new()
        {
            Name = $"service-{i:D5}",
            Namespace = ns,
            Labels = new() { ["app"] = $"service-{i:D5}", ["team"] = ns, ["tier"] = "backend", ["app.kubernetes.io/managed-by"] = "argocd" },
            Annotations = new()
            {
                ["dora-operator.io/project"] = ns,
                ["kubectl.kubernetes.io/last-applied-configuration"] = new string('{', 1) + new string('x', 900) + "}",
            },
        },
        Spec = new DeploymentSpec
        {
            Replicas = 3,
            Selector = new() { MatchLabels = new() { ["app"] = $"service-{i:D5}" } },
            Template = new PodTemplateSpec
            {
                Metadata = new()
                {
                    Labels = new() { ["app"] = $"service-{i:D5}", ["team"] = ns },
                    Annotations = new() { ["dora-operator.io/commit-sha"] = "0123456789abcdef0123456789abcdef01234567", ["dora-operator.io/commit-time"] = "2026-11-01T09:00:00Z" },
                },
                Spec = new PodSpec { Containers = [new Container { Name = "app", Image = $"registry.example.com/{ns}/service-{i:D5}:1.2.{i % 100}" }] },
            },
        },
    };
}
