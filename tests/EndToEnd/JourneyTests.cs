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
    public async Task AReleaseAnIncidentAndARestoreShowUpInKubectlAndInPrometheus()
    {
        await using var sandbox = await SandboxProcess.StartAsync("--http-port", "0", "--intake-port", "0", "--rollout-seconds", "0.3");
        using var kubectl = new Kubectl(sandbox.Kubeconfig, "shop");
        // The start-up hint gives one command a line, ready to paste.
        Assert.Contains(sandbox.Output, l => l.Trim() == $"export KUBECONFIG={sandbox.Kubeconfig}");
        await kubectl.OkAsync("create namespace shop");
        await RunJourneyAsync(kubectl, sandbox.OperatorUrl, TimeSpan.FromSeconds(30));

        var stopped = await sandbox.StopAsync();
        Assert.Equal(0, sandbox.ExitCode);
        SandboxProcess.AssertPrompt(stopped);
    }

    [Fact]
    public async Task InATerminalTheDemoShowsALiveTable()
    {
        // util-linux's script gives the sandbox a pseudo-terminal, as a user's shell would.
        var dir = Directory.CreateTempSubdirectory("dora-tty-").FullName;
        var typescript = Path.Combine(dir, "typescript");
        var command = ShippedOperator.CommandLine("sandbox --demo --http-port 0 --intake-port 0 --rollout-seconds 0.3");
        var psi = new System.Diagnostics.ProcessStartInfo("script") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in new[] { "-qfc", command, typescript }) psi.ArgumentList.Add(a);
        psi.Environment["TERM"] = "xterm-256color";
        using var process = System.Diagnostics.Process.Start(psi)!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        try
        {
            static string Text(string raw) => System.Text.RegularExpressions.Regex.Replace(raw, @"\x1b\[[0-9;?]*[A-Za-z]", "");
            var screen = await Eventually.Until(async () => File.Exists(typescript) ? Text(await File.ReadAllTextAsync(typescript)) : "",
                t => System.Text.RegularExpressions.Regex.IsMatch(t, @"│ demo/sto[^│\n]*│[^│\n]*│[^│\n]*│ [\d.]+% \(\d+/\d+\)"),
                "the live table with the demo project's failure rate", TimeSpan.FromSeconds(90));
            Assert.Contains("DORA metrics", screen);
            Assert.Matches(@"│\s*Project\s*│.*│\s*CFR\s*│\s*Recovery\s*│.*│\s*Tier\s*│", screen);
            Assert.Matches(@"│ demo/sto[^│\n]*│[^│\n]*│[^│\n]*│ [\d.]+% \(\d+/\d+\)", screen);
            Assert.DoesNotContain("info: DoraOperator", screen);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// The same journey against a real cluster where the chart is installed: set DORA_E2E_KUBECONFIG
    /// (and DORA_E2E_METRICS_URL, e.g. a port-forward to the operator's Service, for the Prometheus
    /// part). It runs in a fresh namespace, deleted afterwards. Without the variable it is skipped,
    /// and says why.
    /// </summary>
    [ClusterFact]
    public async Task TheSameJourneyOnARealCluster()
    {
        var ns = $"dora-e2e-{Guid.NewGuid().ToString("N")[..8]}";
        using var kubectl = new Kubectl(Environment.GetEnvironmentVariable(ClusterFactAttribute.Variable)!, ns);
        await kubectl.OkAsync($"create namespace {ns}");
        try
        {
            var metrics = Environment.GetEnvironmentVariable("DORA_E2E_METRICS_URL");
            await RunJourneyAsync(kubectl, string.IsNullOrEmpty(metrics) ? null : new Uri(metrics), TimeSpan.FromMinutes(3));
        }
        finally
        {
            await kubectl.RunAsync($"delete namespace {ns} --wait=false");
        }
    }

    /// <summary>
    /// A project, a Deployment, a release with a commit time (exact lead time), an incident linked to
    /// it and restored 30 minutes after it started, then a StatefulSet released the same way: kubectl's
    /// columns, and Prometheus when a metrics URL is given.
    /// Images are real and tiny (pause), so the journey also runs where pods really start.
    /// </summary>
    private static async Task RunJourneyAsync(Kubectl kubectl, Uri? metricsUrl, TimeSpan patience)
    {
        var seconds = (int)patience.TotalSeconds;
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
        await kubectl.OkAsync("create deployment web --image=registry.k8s.io/pause:3.9");
        await kubectl.OkAsync("label deployment web app.kubernetes.io/part-of=shop");
        await kubectl.OkAsync($"rollout status deployment/web --timeout={seconds}s");
        var commit = DateTimeOffset.UtcNow.AddHours(-3).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        // What a CI step does: the new image and the commit it ships, in one change.
        await kubectl.OkAsync("patch deployment web -p '" + """{"spec":{"template":{"metadata":{"annotations":{"dora-operator.io/commit-sha":"4f2a9c1","dora-operator.io/commit-time":"COMMIT"}},"spec":{"containers":[{"name":"pause","image":"registry.k8s.io/pause:3.10"}]}}}}""".Replace("COMMIT", commit, StringComparison.Ordinal) + "'");
        await kubectl.OkAsync($"rollout status deployment/web --timeout={seconds}s");

        var record = await Get(kubectl, "dr web-2", r => (string?)r["status"]?["phase"] == "Succeeded", "web-2 to succeed", seconds);
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
        await Get(kubectl, "inc slow-checkout", i => (string?)i["status"]?["phase"] == "Open", "the incident to open", seconds);
        await Get(kubectl, "dora shop", p => (int?)p["status"]?["changeFailureRate"]?["count"] == 1, "the failure to count", seconds);
        var restored = deployedAt.AddSeconds(1801).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        await kubectl.OkAsync("patch inc slow-checkout --type merge -p '{\"spec\":{\"restoredAt\":\"" + restored + "\"}}'");
        await Get(kubectl, "dora shop", p => (double?)p["status"]?["recoveryTime"]?["medianSeconds"] == 1800, "recovery time to appear", seconds);

        // Two deployments in 30 days (web-1 has no commit time), one failed by the incident, restored in 30 minutes.
        var columns = await kubectl.OkAsync("get dora shop");
        Assert.Matches(@"(?m)^shop\s+0\.07\s+3h\s+50% \(1/2\)\s+30m\s+\w+", columns);

        // A StatefulSet of the same project: its own records (db-sts<revision>), counted with the Deployment's.
        await kubectl.OkAsync("apply -f -", """
            apiVersion: apps/v1
            kind: StatefulSet
            metadata:
              name: db
              labels: {app.kubernetes.io/part-of: shop}
            spec:
              serviceName: db
              selector:
                matchLabels: {app: db}
              template:
                metadata:
                  labels: {app: db}
                spec:
                  containers:
                  - name: pause
                    image: registry.k8s.io/pause:3.9
            """);
        await kubectl.OkAsync($"rollout status statefulset/db --timeout={seconds}s");
        await kubectl.OkAsync("patch statefulset db -p '" + """{"spec":{"template":{"metadata":{"annotations":{"dora-operator.io/commit-sha":"77be0d2","dora-operator.io/commit-time":"COMMIT"}},"spec":{"containers":[{"name":"pause","image":"registry.k8s.io/pause:3.10"}]}}}}""".Replace("COMMIT", commit, StringComparison.Ordinal) + "'");
        await kubectl.OkAsync($"rollout status statefulset/db --timeout={seconds}s");
        var db = await Get(kubectl, "dr db-sts2", r => (string?)r["status"]?["phase"] == "Succeeded", "the StatefulSet's release to succeed", seconds);
        Assert.Equal("StatefulSet", (string?)db["spec"]!["workload"]!["kind"]);
        Assert.Equal((DateTimeOffset.Parse((string)db["status"]!["deployedAt"]!, CultureInfo.InvariantCulture) - DateTimeOffset.Parse(commit, CultureInfo.InvariantCulture)).TotalSeconds,
            (double)db["status"]!["leadTimeSeconds"]!);
        await Get(kubectl, "dora shop", p => (int?)p["status"]?["deploymentFrequency"]?["count"] == 4, "four deployments (two per workload)", seconds);

        if (metricsUrl is null) return;
        await using var prometheus = await Prometheus.StartAsync(metricsUrl);
        var ns = kubectl.Namespace;
        Assert.Equal(4, await prometheus.ScalarAsync($"sum(dora_deployments_total{{outcome=\"succeeded\",namespace=\"{ns}\",project=\"shop\",team=\"payments\"}})"));
        Assert.Equal(1, await prometheus.ScalarAsync($"sum(dora_incidents_restored_total{{namespace=\"{ns}\",project=\"shop\"}})"));
        Assert.Equal(1800, await prometheus.ScalarAsync($"dora_recovery_time_median_seconds{{namespace=\"{ns}\",project=\"shop\"}}"));
    }

    [Fact]
    public async Task DemoPopulatesEveryNumberAndCtrlCLeavesOnlyTheKubeconfig()
    {
        await using var sandbox = await SandboxProcess.StartAsync("--demo", "--http-port", "0", "--intake-port", Ports.Unused().ToString(CultureInfo.InvariantCulture), "--rollout-seconds", "0.3");
        using var kubectl = new Kubectl(sandbox.Kubeconfig, "demo");
        await Eventually.True(() => sandbox.Output.Any(l => l.Contains("demo: history done", StringComparison.Ordinal)), "the demo's six weeks and last hour to play", TimeSpan.FromSeconds(150));
        // Six weeks written as a cluster would have written them: the first records are weeks old.
        var created = (await kubectl.OkAsync("get dr -o jsonpath={.items[*].metadata.creationTimestamp}")).Split(' ').Select(t => DateTimeOffset.Parse(t, CultureInfo.InvariantCulture)).ToList();
        Assert.InRange(DateTimeOffset.UtcNow - created.Min(), TimeSpan.FromDays(40), TimeSpan.FromDays(43));
        Assert.True(created.Count > 60, $"{created.Count} storefront records");
        using (var all = new Kubectl(sandbox.Kubeconfig, "default"))
        {
            var tiers = await Eventually.Until(
                async () => JsonNode.Parse(await all.OkAsync("get dora -A -o json"))!["items"]!.AsArray().ToDictionary(p => $"{p!["metadata"]!["namespace"]}/{p["metadata"]!["name"]}", p => (string?)p!["status"]?["tier"]),
                t => t.Count == 4 && t.Values.All(v => v is not null and not "unknown"), "a tier for each of the four demo projects", TimeSpan.FromSeconds(30));
            Assert.Equal(["data/reports", "data/search", "demo/storefront", "payments/ledger"], tiers.Keys.Order(StringComparer.Ordinal));
            Assert.Equal("elite", tiers["demo/storefront"]);
            Assert.DoesNotContain("unknown", tiers.Values);
        }
        var project = await Get(kubectl, "dora storefront", p => (int?)p["status"]?["recoveryTime"]?["samples"] >= 2 && (int?)p["status"]?["openIncidents"] == 0 && (int?)p["status"]?["changeFailureRate"]?["count"] >= 3,
            "the demo history (about 30 s) to be counted", seconds: 90);
        foreach (var metric in new[] { "deploymentFrequency", "leadTime", "changeFailureRate", "recoveryTime" })
        {
            Assert.NotEqual("unknown", (string?)project["status"]![metric]!["tier"]);
        }
        Assert.NotEqual("unknown", (string?)project["status"]!["tier"]);
        // The restart is the history's last step, a few seconds after the incident's restore.
        string[] expected = ["Succeeded", "Failed", "RolledBack", "Restart"];
        var phases = await Eventually.Until(async () => (await kubectl.OkAsync("get dr -o jsonpath={.items[*].status.phase}")).Split(' '),
            p => expected.All(p.Contains), "a record in each of " + string.Join(", ", expected), TimeSpan.FromSeconds(30));
        foreach (var phase in expected) Assert.Contains(phase, phases);
        Assert.Contains("Restored", await kubectl.OkAsync("get inc checkout-errors"));
        // Through the intake: a mobile release from CI, and an alert that fired and resolved.
        var mobile = await Get(kubectl, "dr api-ios-7.4.0", r => (string?)r["status"]?["phase"] == "Succeeded", "the mobile release from CI");
        Assert.Equal("api", (string?)mobile["spec"]!["source"]);
        var alert = await Eventually.Until(async () => JsonNode.Parse(await kubectl.OkAsync("get inc -o json"))!["items"]!.AsArray().FirstOrDefault(i => (string?)i!["spec"]!["source"] == "alertmanager"),
            i => (string?)i?["status"]?["phase"] == "Restored", "the demo alert to be restored", TimeSpan.FromSeconds(30));
        Assert.Equal("checkout p99 above 2 s", (string?)alert!["spec"]!["title"]);
        using (var admin = new Kubectl(sandbox.Kubeconfig, "default")) Assert.Contains("github", await admin.OkAsync("get secret dora-operator-webhooks -o jsonpath={.data}"));
        Assert.Contains(sandbox.Output, l => l.StartsWith("demo/storefront: deploys/day", StringComparison.Ordinal));

        var stopped = await sandbox.StopAsync();
        Assert.Equal(0, sandbox.ExitCode);
        SandboxProcess.AssertPrompt(stopped);
        Assert.Equal(["sandbox.kubeconfig"], Directory.GetFileSystemEntries(sandbox.WorkDir).Select(Path.GetFileName));
    }
}

/// <summary>A test that runs only against a real cluster: skipped, with the reason shown, when DORA_E2E_KUBECONFIG is not set.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ClusterFactAttribute : FactAttribute
{
    public const string Variable = "DORA_E2E_KUBECONFIG";

    public ClusterFactAttribute()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable)))
        {
            Skip = $"{Variable} is not set: point it at a kubeconfig of a cluster with the chart installed to run this journey there";
        }
    }
}
