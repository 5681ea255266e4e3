using System.Diagnostics;
using System.Text.Json.Nodes;
using DoraOperator.Entities.BuiltIn;
using DoraOperator.Kube.Config;
using DoraOperator.Kube.Informers;
using DoraOperator.Kube.Rest;
using DoraOperator.Sandbox;

namespace DoraOperator.Bench;

/// <summary>
/// Bytes per cached ControllerRevision: N StatefulSets, each released R times (R ControllerRevisions
/// holding a realistic pod template), cached with and without the lean transform, each variant in a
/// fresh process.
/// </summary>
internal static class RevisionCache
{
    public static async Task RunAsync(int workloads, int revisions)
    {
        Console.WriteLine($"\nControllerRevision cache: {workloads:N0} StatefulSets x {revisions} revisions, each variant in a fresh process\n");
        Stats.Header();
        foreach (var variant in new[] { "none", "lean" })
        {
            var psi = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true };
            if (Environment.ProcessPath!.EndsWith("dotnet", StringComparison.Ordinal)) psi.ArgumentList.Insert(0, typeof(RevisionCache).Assembly.Location);
            foreach (var a in new[] { "revisions-variant", variant, $"{workloads}", $"{revisions}" }) psi.ArgumentList.Add(a);
            using var child = Process.Start(psi)!;
            Console.Write(await child.StandardOutput.ReadToEndAsync());
            await child.WaitForExitAsync();
        }
    }

    public static async Task RunVariantAsync(string variant, int workloads, int revisions)
    {
        await using var server = await SandboxApiServer.StartAsync();
        var kubeconfig = Path.GetTempFileName();
        await server.WriteKubeconfigAsync(kubeconfig);
        using var http = server.CreateHttpClient();
        await Parallel.ForEachAsync(Enumerable.Range(0, workloads), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            for (var r = 1; r <= revisions; r++)
            {
                var body = StatefulSet(i, r).ToJsonString();
                using var request = r == 1
                    ? new HttpRequestMessage(HttpMethod.Post, "/apis/apps/v1/namespaces/default/statefulsets") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") }
                    : new HttpRequestMessage(HttpMethod.Patch, $"/apis/apps/v1/namespaces/default/statefulsets/db-{i}") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/merge-patch+json") };
                if (r > 1) request.Content!.Headers.ContentType = new("application/merge-patch+json");
                using var reply = await http.SendAsync(request, ct);
                reply.EnsureSuccessStatusCode();
                // One release at a time, as a pipeline ships them: wait for the controller's revision.
                while (await RevisionOfAsync(http, i, ct) < r) await Task.Delay(5, ct);
            }
        });
        using var client = new KubeApiClient(KubeConfigLoader.Load(kubeconfig), new KubeClientOptions { Qps = 0 });

        Collect();
        var before = GC.GetTotalMemory(true);
        var informer = new Informer<ControllerRevision>(client, new InformerOptions<ControllerRevision> { Transform = variant == "lean" ? RevisionedWorkloads.Lean : null });
        await informer.StartAsync();
        await informer.WaitForSyncAsync();
        Collect();
        var retained = GC.GetTotalMemory(true) - before;
        Stats.Row($"managed memory per cached ControllerRevision ({(variant == "lean" ? "lean" : "untransformed")})", $"{retained / (double)informer.Count:N0} B x {informer.Count:N0}", "");
        GC.KeepAlive(informer);
        await informer.DisposeAsync();
        File.Delete(kubeconfig);
    }

    private static async Task<int> RevisionOfAsync(HttpClient http, int i, CancellationToken ct)
    {
        var sts = JsonNode.Parse(await http.GetStringAsync($"/apis/apps/v1/namespaces/default/statefulsets/db-{i}", ct))!;
        var name = (string?)sts["status"]?["updateRevision"];
        if (name is null) return 0;
        var revision = JsonNode.Parse(await http.GetStringAsync($"/apis/apps/v1/namespaces/default/controllerrevisions/{name}", ct))!;
        return (int)revision["revision"]!;
    }

    /// <summary>A StatefulSet whose template is about as large as a real one (env, resources, probes).</summary>
    private static JsonObject StatefulSet(int i, int release) => new()
    {
        ["apiVersion"] = "apps/v1",
        ["kind"] = "StatefulSet",
        ["metadata"] = new JsonObject { ["name"] = $"db-{i}", ["labels"] = new JsonObject { ["team"] = $"team-{i % 20}" } },
        ["spec"] = new JsonObject
        {
            ["replicas"] = 3,
            ["serviceName"] = $"db-{i}",
            ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = $"db-{i}" } },
            ["template"] = new JsonObject
            {
                ["metadata"] = new JsonObject
                {
                    ["labels"] = new JsonObject { ["app"] = $"db-{i}", ["team"] = $"team-{i % 20}" },
                    ["annotations"] = new JsonObject { ["dora-operator.io/commit-sha"] = $"{i:x8}{release:x32}", ["dora-operator.io/commit-time"] = "2026-11-20T10:00:00Z" },
                },
                ["spec"] = new JsonObject
                {
                    ["containers"] = new JsonArray(new JsonObject
                    {
                        ["name"] = "db",
                        ["image"] = $"registry.example.com/team-{i % 20}/db:{release}.0.{i}",
                        ["ports"] = new JsonArray(new JsonObject { ["containerPort"] = 5432, ["name"] = "pg" }),
                        ["env"] = new JsonArray([.. Enumerable.Range(0, 8).Select(e => (JsonNode)new JsonObject { ["name"] = $"SETTING_{e}", ["value"] = $"value-{e}-{i}" })]),
                        ["resources"] = new JsonObject
                        {
                            ["requests"] = new JsonObject { ["cpu"] = "250m", ["memory"] = "512Mi" },
                            ["limits"] = new JsonObject { ["cpu"] = "1", ["memory"] = "1Gi" },
                        },
                        ["readinessProbe"] = new JsonObject { ["tcpSocket"] = new JsonObject { ["port"] = 5432 }, ["periodSeconds"] = 10 },
                        ["volumeMounts"] = new JsonArray(new JsonObject { ["name"] = "data", ["mountPath"] = "/var/lib/postgresql" }),
                    }),
                },
            },
        },
    };

    private static void Collect()
    {
        GC.Collect(2, GCCollectionMode.Forced, true, true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, true, true);
    }
}
