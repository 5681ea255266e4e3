using System.Globalization;
using System.Text.Json.Nodes;
using DoraOperator.Testing;

namespace DoraOperator.EndToEnd;

/// <summary>
/// The product as a newcomer meets it: the README's <c>sandbox</c> command started as a process, then
/// kubectl only (and a real Prometheus scraping <c>/metrics</c>).
/// </summary>
public sealed class JourneyTests
{
    private static Task<JsonObject> Get(Kubectl kubectl, string what, Func<JsonObject, bool> ready, string description, int seconds = 30) =>
        kubectl.WaitForAsync(what, ready, description, TimeSpan.FromSeconds(seconds));

    [Fact]
    public async Task A_release_an_incident_and_a_restore_show_up_in_kubectl_and_in_Prometheus()
    {
        await using var sandbox = await SandboxProcess.StartAsync("--http-port", "0", "--rollout-seconds", "0.3");
        using var kubectl = new Kubectl(sandbox.Kubeconfig, "shop");
        await kubectl.OkAsync("create namespace shop");
        await kubectl.OkAsync("apply -f -", """
            apiVersion: dora-operator.io/v1alpha1
            kind: DoraProject
            metadata:
              name: shop
            spec:
              team: payments
              selector:
                matchLabels: {app.kubernetes.io/part-of: shop}
            """);
        await kubectl.OkAsync("create deployment web --image=web:1");
        await kubectl.OkAsync("label deployment web app.kubernetes.io/part-of=shop");
        var commit = DateTimeOffset.UtcNow.AddHours(-3).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        // What a CI step does: the new image and the commit it ships, in one change.
        await kubectl.OkAsync("patch deployment web -p '" + """{"spec":{"template":{"metadata":{"annotations":{"dora-operator.io/commit-sha":"4f2a9c1","dora-operator.io/commit-time":"COMMIT"}},"spec":{"containers":[{"name":"web","image":"web:2"}]}}}}""".Replace("COMMIT", commit, StringComparison.Ordinal) + "'");
        await kubectl.OkAsync("rollout status deployment/web --timeout=30s");

        var record = await Get(kubectl, "dr web-2", r => (string?)r["status"]?["phase"] == "Succeeded", "web-2 to succeed");
        var deployedAt = DateTimeOffset.Parse((string)record["status"]!["deployedAt"]!, CultureInfo.InvariantCulture);
        Assert.Equal((deployedAt - DateTimeOffset.Parse(commit, CultureInfo.InvariantCulture)).TotalSeconds, (double)record["status"]!["leadTimeSeconds"]!);
        Assert.Equal("4f2a9c1", (string?)record["spec"]!["commitSha"]);
        Assert.Matches(@"(?m)^web-2\s+shop\s+web\s+2\s+Succeeded\s+3h", await kubectl.OkAsync("get dr"));

        await kubectl.OkAsync("apply -f -", $"""
            apiVersion: dora-operator.io/v1alpha1
            kind: Incident
            metadata:
              name: slow-checkout
            spec:
              project: shop
              deploymentRef: web-2
              startedAt: "{deployedAt.AddSeconds(1):yyyy-MM-ddTHH:mm:ssZ}"
            """);
        await Get(kubectl, "inc slow-checkout", i => (string?)i["status"]?["phase"] == "Open", "the incident to open");
        await Get(kubectl, "dora shop", p => (int?)p["status"]?["changeFailureRate"]?["count"] == 1, "the failure to count");
        var restored = deployedAt.AddSeconds(1801).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        await kubectl.OkAsync("patch inc slow-checkout --type merge -p '{\"spec\":{\"restoredAt\":\"" + restored + "\"}}'");
        await Get(kubectl, "dora shop", p => (double?)p["status"]?["recoveryTime"]?["medianSeconds"] == 1800, "recovery time to appear");

        // Two deployments in 30 days (web-1 has no commit time), one failed by the incident, restored in 30 minutes.
        var columns = await kubectl.OkAsync("get dora shop");
        Assert.Matches(@"(?m)^shop\s+0\.07\s+3h\s+50% \(1/2\)\s+30m\s+\w+", columns);

        await using var prometheus = await Prometheus.StartAsync(sandbox.OperatorUrl);
        Assert.Equal(2, await prometheus.ScalarAsync("sum(dora_deployments_total{outcome=\"succeeded\",project=\"shop\",team=\"payments\"})"));
        Assert.Equal(1, await prometheus.ScalarAsync("sum(dora_incidents_restored_total{project=\"shop\"})"));
        Assert.Equal(1800, await prometheus.ScalarAsync("dora_recovery_time_median_seconds{project=\"shop\"}"));

        var stopped = await sandbox.StopAsync();
        Assert.Equal(0, sandbox.ExitCode);
        Assert.True(stopped < TimeSpan.FromSeconds(5), $"Ctrl+C took {stopped.TotalSeconds:F1} s");
    }

    [Fact]
    public async Task Demo_populates_every_number_and_Ctrl_C_leaves_only_the_kubeconfig()
    {
        await using var sandbox = await SandboxProcess.StartAsync("--demo", "--http-port", "0", "--rollout-seconds", "0.3");
        using var kubectl = new Kubectl(sandbox.Kubeconfig, "demo");
        var project = await Get(kubectl, "dora storefront", p => (int?)p["status"]?["recoveryTime"]?["samples"] >= 2 && (int?)p["status"]?["openIncidents"] == 0 && (int?)p["status"]?["changeFailureRate"]?["count"] >= 3,
            "the demo history (about 30 s) to be counted", seconds: 90);
        foreach (var metric in new[] { "deploymentFrequency", "leadTime", "changeFailureRate", "recoveryTime" })
        {
            Assert.NotEqual("unknown", (string?)project["status"]![metric]!["tier"]);
        }
        Assert.NotEqual("unknown", (string?)project["status"]!["tier"]);
        var phases = (await kubectl.OkAsync("get dr -o jsonpath={.items[*].status.phase}")).Split(' ');
        foreach (var phase in new[] { "Succeeded", "Failed", "RolledBack", "Restart" }) Assert.Contains(phase, phases);
        Assert.Contains("Restored", await kubectl.OkAsync("get inc checkout-errors"));
        Assert.Contains(sandbox.Output, l => l.StartsWith("demo/storefront: deploys/day", StringComparison.Ordinal));

        var stopped = await sandbox.StopAsync();
        Assert.Equal(0, sandbox.ExitCode);
        Assert.True(stopped < TimeSpan.FromSeconds(5), $"Ctrl+C took {stopped.TotalSeconds:F1} s");
        Assert.Equal(["sandbox.kubeconfig"], Directory.GetFileSystemEntries(sandbox.WorkDir).Select(Path.GetFileName));
    }
}
