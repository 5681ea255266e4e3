using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using DoraOperator.Operator.Hosting;
using DoraOperator.Sandbox;
using DoraOperator.Sandbox.Security;
using Microsoft.Extensions.Logging.Abstractions;

namespace DoraOperator.Bench;

/// <summary>
/// The HTTP intake under load: CI-style <c>POST /deployments/{id}/deployed</c> requests (each a new
/// record: review, create, status patch against the Sandbox in RBAC mode, review caching on) at a
/// sustained rate, then as fast as <c>concurrency</c> clients go. Latency is the client's, request
/// to response.
/// </summary>
internal static class IntakeThroughput
{
    public static async Task RunAsync(int rate, int seconds, int concurrency)
    {
        var kubeconfig = Path.GetTempFileName();
        await using var server = await SandboxApiServer.StartAsync(new SandboxOptions { KubeconfigPath = kubeconfig, Authorization = AuthorizationMode.Rbac });
        using var admin = server.CreateHttpClient();
        foreach (var (path, body) in new[]
        {
            ("/api/v1/namespaces", """{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"bench"}}"""),
            ("/apis/rbac.authorization.k8s.io/v1/namespaces/bench/roles", """{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"ci"},"rules":[{"apiGroups":["dora-operator.io"],"resources":["deploymentrecords"],"verbs":["create"]}]}"""),
            ("/apis/rbac.authorization.k8s.io/v1/namespaces/bench/rolebindings", """{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"ci"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"ci"},"subjects":[{"kind":"ServiceAccount","name":"ci","namespace":"bench"}]}"""),
        })
        {
            using var reply = await admin.PostAsync(new Uri(path, UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));
            reply.EnsureSuccessStatusCode();
        }
        foreach (var (type, resource) in DoraOperator.Entities.Schema.CrdGenerator.Kinds)
        {
            using var reply = await admin.PostAsync(new Uri("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", UriKind.Relative),
                new StringContent(DoraOperator.Entities.Schema.CrdGenerator.Generate(type, resource).ToJsonString(), Encoding.UTF8, "application/json"));
            reply.EnsureSuccessStatusCode();
        }
        await Task.Delay(500);
        using (var reply = await admin.PostAsync(new Uri("/apis/dora-operator.io/v1alpha1/namespaces/bench/doraprojects", UriKind.Relative),
            new StringContent("""{"apiVersion":"dora-operator.io/v1alpha1","kind":"DoraProject","metadata":{"name":"ci"},"spec":{"selector":{"matchLabels":{"none":"none"}}}}""", Encoding.UTF8, "application/json")))
        {
            reply.EnsureSuccessStatusCode();
        }
        var token = server.AddServiceAccountToken("bench", "ci");
        var port = FreePort();
        await using var host = await OperatorHost.StartAsync(new OperatorOptions
        {
            Kubeconfig = kubeconfig, LeaderElect = false, HttpPort = 0, HttpAddress = "127.0.0.1", KubeApiQps = 0,
            Intake = new DoraOperator.Operator.Intake.IntakeOptions { Port = port, Address = "127.0.0.1", RatePerClient = 0 },
        }, NullLoggerFactory.Instance);
        while (!host.Ready || host.Cache.Projects.Get("bench", "ci") is null) await Task.Delay(50);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Math.Max(concurrency, 64) }) { BaseAddress = host.IntakeUrl };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var id = 0;
        var deployed = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        async Task<double> OneAsync()
        {
            var n = Interlocked.Increment(ref id);
            var started = Stopwatch.GetTimestamp();
            using var reply = await http.PostAsync(new Uri($"/deployments/build-{n}/deployed", UriKind.Relative),
                new StringContent($$"""{"create_if_not_exists":true,"project_id":"bench/ci","deployed_at":"{{deployed}}"}""", Encoding.UTF8, "application/json"));
            if ((int)reply.StatusCode != 201) throw new InvalidOperationException($"build-{n}: {(int)reply.StatusCode} {await reply.Content.ReadAsStringAsync()}");
            return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }

        for (var i = 0; i < 50; i++) await OneAsync(); // warm-up: JIT, connections, the review caches
        var reviewsBefore = host.Services.GetService(typeof(DoraOperator.Operator.Intake.IntakeAuthorizer)) is DoraOperator.Operator.Intake.IntakeAuthorizer a ? a.Reviews : 0;

        // Sustained: one request every 1/rate s, each on its own task, so a slow answer does not slow the schedule.
        var total = rate * seconds;
        var latencies = new List<double>(total);
        var tasks = new List<Task<double>>(total);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < total; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / rate);
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.Zero) await Task.Delay(wait);
            tasks.Add(OneAsync());
        }
        latencies.AddRange(await Task.WhenAll(tasks));
        var sustainedSeconds = clock.Elapsed.TotalSeconds;
        latencies.Sort();
        var reviews = (host.Services.GetService(typeof(DoraOperator.Operator.Intake.IntakeAuthorizer)) as DoraOperator.Operator.Intake.IntakeAuthorizer)!.Reviews - reviewsBefore;

        // Flat out: concurrency clients, each sending its next request when the last is answered.
        var burst = new List<double>();
        var burstClock = Stopwatch.StartNew();
        var perClient = Math.Max(1, total / concurrency);
        var results = await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            var mine = new List<double>(perClient);
            for (var i = 0; i < perClient; i++) mine.Add(await OneAsync());
            return mine;
        }));
        var burstSeconds = burstClock.Elapsed.TotalSeconds;
        foreach (var r in results) burst.AddRange(r);
        burst.Sort();

        Stats.Header();
        Stats.Row("machine cores", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture));
        Stats.Row($"sustained {rate}/s for {seconds} s: requests", $"{total:N0} in {sustainedSeconds:F1} s");
        Stats.Row("  achieved rate", $"{total / sustainedSeconds:N0}/s", $">= {rate}/s");
        Stats.Row("  latency p50", $"{Stats.Percentile(latencies, 50):F1} ms");
        Stats.Row("  latency p99", $"{Stats.Percentile(latencies, 99):F1} ms", "< 20 ms");
        Stats.Row("  latency max", $"{latencies[^1]:F1} ms");
        Stats.Row("  token/access reviews sent (cache on)", reviews.ToString(CultureInfo.InvariantCulture));
        Stats.Row($"flat out, {concurrency} clients: requests/s", $"{burst.Count / burstSeconds:N0}/s");
        Stats.Row("  latency p50 / p99", $"{Stats.Percentile(burst, 50):F1} / {Stats.Percentile(burst, 99):F1} ms");
        Stats.Row("records written", host.Cache.Records.Count.ToString("N0", CultureInfo.InvariantCulture));
        File.Delete(kubeconfig);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
