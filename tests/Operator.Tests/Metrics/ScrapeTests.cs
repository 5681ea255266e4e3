using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using DoraOperator.Operator.Hosting;
using DoraOperator.Operator.Metrics;
using DoraOperator.Sandbox;
using DoraOperator.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DoraOperator.Operator.Tests.Metrics;

/// <summary>
/// The operator's metrics as their consumers see them: promtool, a real Prometheus scraping and
/// answering PromQL, an OTLP receiver decoding the pushed protobuf, and a restart.
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed class ScrapeTests : IAsyncLifetime
{
    private readonly HttpClient _http = new();
    private OperatorOnSandbox _env = null!;
    private SandboxApiServer _server = null!;
    private Kubectl _kubectl = null!;
    private OperatorHost? _operator;

    public async Task InitializeAsync()
    {
        _env = await OperatorOnSandbox.StartAsync();
        (_server, _kubectl) = (_env.Server, _env.Kubectl);
    }

    public async Task DisposeAsync()
    {
        if (_operator is not null) await _operator.DisposeAsync();
        _http.Dispose();
        await _env.DisposeAsync();
    }

    private async Task StartOperatorAsync(MetricsExportOptions? export = null) =>
        _operator = await _env.StartOperatorAsync(_env.Options with
        {
            MinStatusInterval = TimeSpan.FromMilliseconds(200), MetricsExport = export ?? new MetricsExportOptions(),
        });

    private Task<JsonObject> Get(string kind, string name, Func<JsonObject, bool> ready, string what) => _kubectl.WaitForAsync($"{kind} {name}", ready, what);

    private async Task Release(int revision, string image, TimeSpan commitAge)
    {
        var commit = DateTimeOffset.UtcNow - commitAge;
        var patch = "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"dora-operator.io/commit-sha\":\"sha" + revision.ToString(CultureInfo.InvariantCulture) +
            "\",\"dora-operator.io/commit-time\":\"" + commit.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) + "\"}},\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"" + image + "\"}]}}}}";
        await _kubectl.OkAsync($"patch deployment web --type strategic -p '{patch}'");
    }

    private static string? Phase(JsonObject r) => (string?)r["status"]?["phase"];

    /// <summary>
    /// web-1 (created, no commit time), web-2 (lead ~50m), web-3 (~3h, later failed by an incident restored
    /// after 10 minutes), web-4 Failed, web-5 (~90m) rolled back by web-6. Outcomes: 5 succeeded, 1 failed,
    /// 1 rolled back; changes 6, failed 3 (web-3, web-4, web-5): change failure ratio 0.5.
    /// </summary>
    private async Task ScriptAsync()
    {
        await _kubectl.OkAsync("apply -f -", """
            apiVersion: dora-operator.io/v1alpha1
            kind: DoraProject
            metadata: {name: shop}
            spec:
              team: checkout
              selector:
                matchLabels: {team: shop}
            """);
        await _kubectl.OkAsync("create deployment web --image=web:0");
        await _kubectl.OkAsync("label deployment web team=shop");
        await Release(1, "web:1", TimeSpan.FromMinutes(50));
        await Get("dr", "web-2", r => Phase(r) == "Succeeded", "web-2 (first annotated release)");
        await Release(2, "web:2", TimeSpan.FromHours(3));
        await Get("dr", "web-3", r => Phase(r) == "Succeeded", "web-3");
        _server.Deployments!.FailNextRollout("shop", "web");
        await Release(3, "web:broken", TimeSpan.FromMinutes(5));
        await Get("dr", "web-4", r => Phase(r) == "Failed", "web-4 to fail");
        await Release(4, "web:4", TimeSpan.FromMinutes(90));
        await Get("dr", "web-5", r => Phase(r) == "Succeeded", "web-5");
        await _kubectl.OkAsync("rollout undo deployment/web --to-revision=3");
        await Get("dr", "web-6", r => Phase(r) == "Succeeded", "the rollback web-6");
        await Get("dr", "web-5", r => Phase(r) == "RolledBack", "web-5 rolled back");
        // The incident starts after web-3 was deployed (so it has a time to detect) and is restored 10 minutes later.
        var now = DateTimeOffset.UtcNow;
        await _kubectl.OkAsync("apply -f -", $"""
            apiVersion: dora-operator.io/v1alpha1
            kind: Incident
            metadata:
              name: outage
            spec:
              project: shop
              severity: critical
              deploymentRef: web-3
              startedAt: "{now.AddSeconds(1):yyyy-MM-ddTHH:mm:ssZ}"
              restoredAt: "{now.AddSeconds(601):yyyy-MM-ddTHH:mm:ssZ}"
              resolvedAt: "{now.AddSeconds(901):yyyy-MM-ddTHH:mm:ssZ}"
            """);
        await Get("inc", "outage", i => (string?)i["status"]?["phase"] == "Resolved", "the incident to be processed");
        await Get("dora", "shop", p => (int?)p["status"]?["changeFailureRate"]?["count"] == 3, "the project to count 3 failed changes");
    }

    private async Task<string> ScrapeAsync() => await _http.GetStringAsync(new Uri(_operator!.HttpUrl!, "/metrics"));

    /// <summary>The value of the one sample named <paramref name="series"/> (with its labels, if any) in an exposition.</summary>
    private static double Sample(string text, string series)
    {
        var line = text.Split('\n').Single(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return double.Parse(line[(series.Length + 1)..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string[] DoraLines(string text) =>
        text.Split('\n').Where(l => l.StartsWith("dora_", StringComparison.Ordinal) && !l.StartsWith("dora_operator_", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task PromtoolAcceptsTheBodyAndARealPrometheusAnswersTheFourKeysAndARestartKeepsTheSeries()
    {
        await StartOperatorAsync();
        await ScriptAsync();
        var body = await Eventually.Until(ScrapeAsync, t => t.Contains("dora_time_to_detect_seconds_count", StringComparison.Ordinal) && t.Contains("dora_change_failure_ratio{", StringComparison.Ordinal), "every family populated");
        foreach (var family in new[]
        {
            "dora_deployments_total", "dora_deployment_lead_time_seconds_bucket", "dora_deployment_duration_seconds_bucket", "dora_incidents_total", "dora_incidents_open",
            "dora_incidents_restored_total", "dora_incidents_resolved_total", "dora_time_to_restore_seconds_bucket", "dora_time_to_detect_seconds_bucket",
            "dora_deployment_frequency_per_day", "dora_lead_time_median_seconds", "dora_change_failure_ratio", "dora_recovery_time_median_seconds", "dora_rework_ratio",
            "dora_tier", "dora_project_info", "dora_operator_reconcile_total", "dora_operator_reconcile_duration_seconds_bucket", "dora_operator_workqueue_depth",
            "dora_operator_watch_restarts_total", "dora_operator_api_requests_total", "dora_operator_leader",
            "dora_operator_managed_heap_bytes", "dora_operator_working_set_bytes", "dora_operator_cpu_seconds_total", "dora_operator_gc_pause_seconds_total",
        })
        {
            Assert.Matches($"(?m)^{family}[{{ ]", body);
        }
        // The script's rollouts reached the caches through the Deployment watch.
        Assert.Matches("(?m)^dora_operator_watch_events_total\\{resource=\"deployments\"\\} [1-9]", body);
        // The process's own footprint (the operator runs in this test's process): CPU used so far, no
        // more than the process has used by now; collections by generation, each at least the count of
        // the one above it; pauses no longer than the process has run.
        var cpu = Sample(body, "dora_operator_cpu_seconds_total");
        Assert.InRange(cpu, 0.01, Environment.CpuUsage.TotalTime.TotalSeconds);
        var collections = Enumerable.Range(0, 3).Select(g => Sample(body, $"dora_operator_gc_collections_total{{generation=\"{g}\"}}")).ToArray();
        Assert.True(collections[0] >= collections[1] && collections[1] >= collections[2] && collections[0] > 0, string.Join(", ", collections));
        Assert.InRange(Sample(body, "dora_operator_gc_pause_seconds_total"), 0, (DateTime.Now - System.Diagnostics.Process.GetCurrentProcess().StartTime).TotalSeconds);
        Assert.DoesNotContain("sha1", body);
        Assert.DoesNotContain("web-3", body);
        Assert.DoesNotContain("outage", body);

        var promtool = await RunAsync("promtool", "check metrics", body);
        Assert.True(promtool.ExitCode == 0, $"promtool check metrics failed:\n{promtool.Output}");

        await using (var prometheus = await Prometheus.StartAsync(_operator!.HttpUrl!))
        {
            Assert.Equal(5, await prometheus.ScalarAsync("sum(dora_deployments_total{outcome=\"succeeded\",project=\"shop\"})"));
            Assert.Equal(1, await prometheus.ScalarAsync("sum(dora_deployments_total{outcome=\"failed\"})"));
            Assert.Equal(1, await prometheus.ScalarAsync("sum(dora_deployments_total{outcome=\"rolled_back\"})"));
            Assert.Equal(0.5, await prometheus.ScalarAsync("dora_change_failure_ratio{project=\"shop\",team=\"checkout\"}"));
            var median = await prometheus.ScalarAsync("histogram_quantile(0.5, sum by (le) (dora_deployment_lead_time_seconds_bucket{project=\"shop\"}))");
            Assert.InRange(median, 3600, 7200); // samples ~50m, ~90m, ~3h (none on a bucket bound): the true median, ~90m, is in the (3600, 7200] bucket
            // Recoveries: the incident's 600 s, and two that took seconds (web-4 by web-5, web-5 by its rollback).
            Assert.InRange(await prometheus.ScalarAsync("dora_recovery_time_median_seconds{project=\"shop\"}"), 0, 599);
            Assert.Equal(1, await prometheus.ScalarAsync("sum(dora_incidents_total{severity=\"critical\"})"));
            Assert.Equal(1, await prometheus.ScalarAsync("dora_tier{project=\"shop\",metric=\"overall\"}"));
        }

        var before = DoraLines(await ScrapeAsync());
        await _operator!.DisposeAsync();
        _operator = null;
        await StartOperatorAsync();
        var after = await Eventually.Until(async () => DoraLines(await ScrapeAsync()), lines => lines.Length >= before.Length, "the restarted operator's series");
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task OtlpPushDeliversEveryDORAMetricWithItsAttributes()
    {
        var payloads = new ConcurrentQueue<byte[]>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var receiver = builder.Build();
        receiver.MapPost("/v1/metrics", async (HttpContext context) =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            payloads.Enqueue(buffer.ToArray());
            return Results.Ok();
        });
        await receiver.StartAsync();

        await StartOperatorAsync(new MetricsExportOptions { OtlpEndpoint = receiver.Urls.First(), OtlpInterval = TimeSpan.FromSeconds(1), ServiceName = "dora-test", ClusterName = "sandbox" });
        await ScriptAsync();
        await Eventually.True(() => _operator!.Aggregator.LastReports.Any(r => r.Report.ChangeFailureRate.Count == 3), "the aggregator's report");
        Assert.True(_operator!.MetricsPipeline!.Flush());

        var request = OtlpDecoder.Decode(payloads.Last());
        Assert.Equal("dora-test", request.Resource["service.name"]);
        Assert.Equal("sandbox", request.Resource["k8s.cluster.name"]);
        foreach (var name in new[]
        {
            "dora_deployments", "dora_deployment_lead_time_seconds", "dora_deployment_duration_seconds", "dora_incidents", "dora_incidents_restored", "dora_incidents_resolved",
            "dora_time_to_restore_seconds", "dora_time_to_detect_seconds", "dora_deployment_frequency_per_day", "dora_lead_time_median_seconds", "dora_change_failure_ratio",
            "dora_recovery_time_median_seconds", "dora_rework_ratio", "dora_incidents_open", "dora_tier", "dora_project_info",
        })
        {
            Assert.True(request.Metrics.TryGetValue(name, out var points), $"{name} missing from the OTLP payload; got {string.Join(", ", request.Metrics.Keys)}");
            var attributes = points[0];
            Assert.Equal("shop", attributes["namespace"]);
            Assert.Equal("shop", attributes["project"]);
            Assert.Equal("checkout", attributes["team"]);
            Assert.Equal("production", attributes["deployment.environment.name"]);
        }
        Assert.Contains(request.Metrics["dora_deployments"], a => a.GetValueOrDefault("outcome") == "rolled_back");
        Assert.Contains(request.Metrics["dora_incidents"], a => a.GetValueOrDefault("severity") == "critical");
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, string args, string stdin)
    {
        var info = new ProcessStartInfo(file, args) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }
}
