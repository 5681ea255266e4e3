using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using DoraOperator.Sandbox;

namespace DoraOperator.Bench;

/// <summary>
/// Writes (creates, then updates) ConfigMaps over HTTPS from concurrent writers while N watchers
/// stream the namespace. Each object carries the Stopwatch timestamp of its write's start; a watcher
/// computes delivery latency as arrival minus that stamp.
/// </summary>
internal static class SandboxThroughput
{
    public static async Task RunAsync(int writes, int watchers, int writers, bool https, bool managedFields)
    {
        await using var server = await SandboxApiServer.StartAsync(new SandboxOptions { DeploymentController = false, WatchHistory = writes * 2, Https = https, ManagedFields = managedFields });
        using var http = server.CreateHttpClient();
        http.DefaultRequestVersion = new Version(1, 1);
        const string ns = "bench";
        await Post(http, "/api/v1/namespaces", """{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"bench"}}""");

        var latencies = new List<double>[watchers];
        var received = new int[watchers];
        using var stop = new CancellationTokenSource();
        var rv = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/namespaces/{ns}/configmaps")).RootElement.GetProperty("metadata").GetProperty("resourceVersion").GetString();
        var watchTasks = Enumerable.Range(0, watchers).Select(w => Task.Run(async () =>
        {
            latencies[w] = new List<double>(writes);
            using var client = server.CreateHttpClient();
            using var response = await client.GetAsync($"/api/v1/namespaces/{ns}/configmaps?watch=1&resourceVersion={rv}", HttpCompletionOption.ResponseHeadersRead, stop.Token);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(stop.Token));
            try
            {
                while (await reader.ReadLineAsync(stop.Token) is { } line)
                {
                    var now = Stopwatch.GetTimestamp();
                    var start = line.IndexOf("\"t\":\"", StringComparison.Ordinal);
                    if (start < 0) continue;
                    var end = line.IndexOf('"', start + 5);
                    var stamp = long.Parse(line.AsSpan(start + 5, end - start - 5), CultureInfo.InvariantCulture);
                    latencies[w].Add(Stopwatch.GetElapsedTime(stamp, now).TotalMilliseconds);
                    if (++received[w] == writes) break;
                }
            }
            catch (OperationCanceledException)
            {
            }
        })).ToList();
        while (server.OpenWatches < watchers) await Task.Delay(10);

        var clients = Enumerable.Range(0, writers).Select(_ => server.CreateHttpClient()).ToList();
        var next = -1;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(clients.Select(c => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < writes)
            {
                var name = $"cm-{i % (writes / 2)}";
                var stamp = Stopwatch.GetTimestamp().ToString(CultureInfo.InvariantCulture);
                if (i < writes / 2)
                {
                    await Post(c, $"/api/v1/namespaces/{ns}/configmaps", $$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"{{{name}}}"},"data":{"t":"{{{stamp}}}","payload":"{{{new string('x', 200)}}}"}}""");
                }
                else
                {
                    using var patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/namespaces/{ns}/configmaps/{name}")
                    {
                        Content = new StringContent($$$"""{"data":{"t":"{{{stamp}}}"}}""", Encoding.UTF8),
                    };
                    patch.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/merge-patch+json");
                    using var r = await c.SendAsync(patch);
                    r.EnsureSuccessStatusCode();
                }
            }
        })));
        var elapsed = sw.Elapsed;
        var deadline = Stopwatch.StartNew();
        while (received.Any(r => r < writes) && deadline.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(20);
        await stop.CancelAsync();
        await Task.WhenAll(watchTasks);
        foreach (var c in clients) c.Dispose();

        var all = latencies.SelectMany(l => l).Order().ToList();
        Console.WriteLine($"\nSandbox: {writes:N0} writes (half creates, half merge patches) from {writers} {(https ? "HTTPS" : "plain HTTP")} clients in the same process, {watchers} watches open, managedFields {(managedFields ? "tracked" : "off")}\n");
        Stats.Header();
        Stats.Row("writes per second", $"{writes / elapsed.TotalSeconds:N0}", ">= 5,000");
        Stats.Row("events delivered (all watchers)", $"{all.Count:N0} / {writes * watchers:N0}", "all");
        Stats.Row("delivery latency p50 (write start -> watcher)", $"{Stats.Percentile(all, 50):N2} ms", "");
        Stats.Row("delivery latency p99", $"{Stats.Percentile(all, 99):N2} ms", "< 10 ms");
        Stats.Row("delivery latency max", $"{(all.Count > 0 ? all[^1] : double.NaN):N2} ms", "");
    }

    private static async Task Post(HttpClient http, string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(path, content);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}
