using System.Globalization;
using System.Text.Json.Nodes;
using DoraOperator.Operator.Hosting;
using DoraOperator.Sandbox;
using DoraOperator.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace DoraOperator.Operator.Tests.Rollouts;

/// <summary>StatefulSets and DaemonSets tracked by the operator against the Sandbox's simulated controllers, driven with kubectl.</summary>
public sealed class RevisionedWorkloadTests : IAsyncLifetime
{
    private OperatorOnSandbox _env = null!;
    private SandboxApiServer _server = null!;
    private Kubectl _kubectl = null!;
    private OperatorHost _operator = null!;

    public async Task InitializeAsync()
    {
        _env = await OperatorOnSandbox.StartAsync();
        (_server, _kubectl) = (_env.Server, _env.Kubectl);
        await _kubectl.OkAsync("apply -f -", OperatorOnSandbox.ShopProject);
        _operator = await _env.StartOperatorAsync();
    }

    public async Task DisposeAsync()
    {
        await _operator.DisposeAsync();
        await _env.DisposeAsync();
    }

    private static string Manifest(string kind, string name, string image, string extra = "") =>
        $$"""
        apiVersion: apps/v1
        kind: {{kind}}
        metadata:
          name: {{name}}
          labels:
            team: shop
        {{extra}}spec:
          selector:
            matchLabels:
              app: {{name}}
          template:
            metadata:
              labels:
                app: {{name}}
            spec:
              containers:
              - name: {{name}}
                image: "{{image}}"
        """;

    private Task<JsonObject> Record(string name, Func<JsonObject, bool> ready, string what) => Records.WaitAsync(_kubectl, name, ready, what);

    private static string? Phase(JsonObject r) => Records.Phase(r);

    private async Task ReleaseAsync(string shortName, string name, string image, string sha, string commitTime)
    {
        var patch = new JsonObject
        {
            ["spec"] = new JsonObject
            {
                ["template"] = new JsonObject
                {
                    ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { ["dora-operator.io/commit-sha"] = sha, ["dora-operator.io/commit-time"] = commitTime } },
                    ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = name, ["image"] = image }) },
                },
            },
        }.ToJsonString();
        await _kubectl.OkAsync($"patch {shortName} {name} --type strategic -p '{patch}'");
        await _kubectl.OkAsync($"rollout status {shortName}/{name} --timeout=30s");
    }

    private async Task<List<string>> RecordNamesAsync() =>
        (await _kubectl.OkAsync("get dr -o name")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(n => n.Split('/')[1]).Order().ToList();

    [Theory]
    [InlineData("StatefulSet", "sts", "sts")]
    [InlineData("DaemonSet", "ds", "ds")]
    public async Task ReleaseScaleRestartAndRollback_AreRecordedAsForDeployments(string kind, string shortName, string suffix)
    {
        await _kubectl.OkAsync("apply -f -", Manifest(kind, "db", "db:1"));
        var first = await Record($"db-{suffix}1", r => Phase(r) == "Succeeded", "the first revision");
        Assert.Equal(kind, (string?)first["spec"]!["workload"]!["kind"]);
        Assert.Equal("db:1", (string?)first["spec"]!["image"]);

        await ReleaseAsync(shortName, "db", "db:2", "sha2", "2026-11-29T10:00:00Z");
        var second = await Record($"db-{suffix}2", r => Phase(r) == "Succeeded", "the release");
        Assert.Equal("sha2", (string?)second["spec"]!["commitSha"]);
        var deployed = DateTimeOffset.Parse((string)second["status"]!["deployedAt"]!, CultureInfo.InvariantCulture);
        Assert.Equal((deployed - DateTimeOffset.Parse("2026-11-29T10:00:00Z", CultureInfo.InvariantCulture)).TotalSeconds, (double)second["status"]!["leadTimeSeconds"]!, 3);

        if (kind == "StatefulSet")
        {
            await _kubectl.OkAsync("scale sts db --replicas=3");
            await _kubectl.WaitForAsync("sts db", s => (int?)s["status"]?["readyReplicas"] == 3, "three replicas");
        }
        await ReleaseAsync(shortName, "db", "db:3", "sha3", "2026-11-29T11:00:00Z");
        await Record($"db-{suffix}3", r => Phase(r) == "Succeeded", "the bad release");
        await _kubectl.OkAsync($"rollout undo {shortName}/db");
        var rollback = await Record($"db-{suffix}4", r => Phase(r) == "Succeeded", "the rollback");
        Assert.Equal($"db-{suffix}3", (string?)rollback["status"]!["rollbackOf"]);
        Assert.Equal("db:2", (string?)rollback["spec"]!["image"]);
        var rolledBack = await Record($"db-{suffix}3", r => Phase(r) == "RolledBack", "the bad release rolled back");
        Assert.Equal($"db-{suffix}4", (string?)rolledBack["status"]!["rolledBackBy"]);

        await _kubectl.OkAsync($"rollout restart {shortName}/db");
        await Record($"db-{suffix}5", r => Phase(r) == "Restart", "the restart");
        Assert.Equal([$"db-{suffix}1", $"db-{suffix}2", $"db-{suffix}3", $"db-{suffix}4", $"db-{suffix}5"], await RecordNamesAsync());

        var project = await _kubectl.WaitForAsync("dora shop", p => (int?)p["status"]?["changeFailureRate"]?["count"] == 1 && p["status"]?["recoveryTime"]?["medianSeconds"] is not null,
            "the rollback as a failed change with its recovery");
        Assert.Equal(4, (int)project["status"]!["deploymentFrequency"]!["count"]!);
    }

    [Fact]
    public async Task AStatefulSetAndADeploymentWithOneName_KeepSeparateRecords()
    {
        await _kubectl.OkAsync("apply -f -", Manifest("StatefulSet", "web", "web:1"));
        await _kubectl.OkAsync("create deployment web --image=web:1");
        await _kubectl.OkAsync("label deployment web team=shop");
        await Record("web-sts1", r => Phase(r) == "Succeeded", "the StatefulSet's record");
        await Record("web-1", r => Phase(r) == "Succeeded", "the Deployment's record");
        await _kubectl.OkAsync("set image deployment/web web=web:2");
        await Record("web-2", r => Phase(r) == "Succeeded", "the Deployment's release");
        await Task.Delay(300);
        Assert.Equal(["web-1", "web-2", "web-sts1"], await RecordNamesAsync());
    }

    [Fact]
    public async Task AStuckRollout_FailsAtTheProgressDeadline()
    {
        await _kubectl.OkAsync("apply -f -", Manifest("DaemonSet", "agent", "agent:1", "  annotations:\n    dora-operator.io/progress-deadline-seconds: \"2\"\n"));
        await Record("agent-ds1", r => Phase(r) == "Succeeded", "the first revision");
        _server.Revisions!.Stall("DaemonSet", _kubectl.Namespace!, "agent");
        await _kubectl.OkAsync("set image ds/agent agent=agent:2");
        var failed = await Record("agent-ds2", r => Phase(r) == "Failed", "the stuck rollout to fail");
        // The deadline counts from the last progress the operator saw (here: the new revision appearing).
        var started = DateTimeOffset.Parse((string)failed["status"]!["startedAt"]!, CultureInfo.InvariantCulture);
        var failedAt = DateTimeOffset.Parse((string)failed["status"]!["failedAt"]!, CultureInfo.InvariantCulture);
        Assert.InRange(failedAt - started, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4));
        Assert.Equal(0, failedAt.Millisecond);
        Assert.Contains("made no progress for 2 s", (string?)failed["status"]!["reason"]);
    }

    [Fact]
    public async Task APartitionedStatefulSet_StaysProgressing_AndCompletesWhenThePartitionIsLowered()
    {
        await _kubectl.OkAsync("apply -f -", Manifest("StatefulSet", "pg", "pg:1", "  annotations:\n    dora-operator.io/progress-deadline-seconds: \"1\"\n").Replace("spec:\n  selector", "spec:\n  replicas: 3\n  updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 2}}\n  selector", StringComparison.Ordinal));
        await Record("pg-sts1", r => Phase(r) == "Succeeded", "the first revision");
        await _kubectl.OkAsync("set image sts/pg pg=pg:2");
        await _kubectl.WaitForAsync("sts pg", s => (int?)s["status"]?["updatedReplicas"] == 1, "the canary pod");
        await Task.Delay(2500);
        var held = await Record("pg-sts2", _ => true, "the held record");
        Assert.Equal("Progressing", Phase(held) ?? "Progressing");
        await _kubectl.OkAsync("""patch sts pg -p '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}'""");
        await Record("pg-sts2", r => Phase(r) == "Succeeded", "the promoted rollout");
    }

    [Fact]
    public async Task HistoryFromBeforeTheOperator_IsBackfilledFromControllerRevisions()
    {
        await _operator.DisposeAsync();
        await _kubectl.OkAsync("apply -f -", Manifest("StatefulSet", "kv", "kv:0"));
        for (var i = 1; i <= 3; i++) await ReleaseAsync("sts", "kv", $"kv:{i}", $"sha{i}", $"2026-11-{i:00}T10:00:00Z");
        var revisions = JsonNode.Parse(await _kubectl.OkAsync("get controllerrevisions -o json"))!["items"]!.AsArray()
            .ToDictionary(r => (long)r!["revision"]!, r => (string)r!["metadata"]!["creationTimestamp"]!);
        _operator = await OperatorHost.StartAsync(_env.Options, NullLoggerFactory.Instance);
        await Record("kv-sts4", r => Phase(r) == "Succeeded", "the current revision");
        foreach (var revision in new long[] { 1, 2, 3 })
        {
            var record = await Record($"kv-sts{revision}", r => r["status"]?["conditions"] is not null, $"backfilled revision {revision}");
            Assert.Equal(revisions[revision], (string?)record["status"]!["startedAt"]);
            Assert.Contains(record["status"]!["conditions"]!.AsArray(), c => (string?)c!["type"] == "Backfilled" && ((string?)c["message"])!.Contains("StatefulSet's retained ControllerRevisions", StringComparison.Ordinal));
        }
        Assert.Equal("sha2", (string?)(await Record("kv-sts3", _ => true, "kv-sts3"))["spec"]!["commitSha"]);

        // Recorded, the ControllerRevisions older than the previous one leave the cache; a rollback to
        // one of them renumbers it, and its update brings it back.
        List<long> Cached() => [.. _operator.Cache.ControllerRevisions.ByIndex(Caching.CacheIndexes.Owner, _operator.Cache.StatefulSets.Get("shop", "kv")!.Metadata.Uid!).Select(r => r.Revision).Order()];
        await Eventually.True(() => Cached() is [3, 4], "only the current and previous ControllerRevisions to stay cached");
        await _kubectl.OkAsync("rollout undo sts/kv --to-revision=1");
        await _kubectl.OkAsync("rollout status sts/kv --timeout=30s");
        var rollback = await Record("kv-sts5", r => Phase(r) == "Succeeded", "the rollback to a retired revision");
        Assert.Equal("kv-sts4", (string?)rollback["status"]!["rollbackOf"]);
        Assert.Equal("kv:0", (string?)rollback["spec"]!["image"]);
        await Eventually.True(() => Cached() is [4, 5], "the renumbered ControllerRevision and the previous one to be cached");
        Assert.Equal(["kv-sts1", "kv-sts2", "kv-sts3", "kv-sts4", "kv-sts5"], await RecordNamesAsync());
    }
}

/// <summary>Argo Rollouts tracked by the operator, the CRD installed after it started, driven with kubectl as the Argo plugin would.</summary>
public sealed class ArgoRolloutTrackingTests : IAsyncLifetime
{
    private OperatorOnSandbox _env = null!;
    private Kubectl _kubectl = null!;
    private OperatorHost _operator = null!;

    public async Task InitializeAsync()
    {
        _env = await OperatorOnSandbox.StartAsync();
        _kubectl = _env.Kubectl;
        await _kubectl.OkAsync("apply -f -", OperatorOnSandbox.ShopProject);
        _operator = await _env.StartOperatorAsync();
        // Installed after the operator started: discovery finds it without a restart.
        await _kubectl.OkAsync("apply -f -", DoraOperator.Sandbox.Controllers.ArgoRolloutSimulator.CrdManifest);
        await Eventually.True(() => _operator.Cache.ArgoRollouts is not null, "the operator to discover Argo Rollouts");
    }

    public async Task DisposeAsync()
    {
        await _operator.DisposeAsync();
        await _env.DisposeAsync();
    }

    private const string Canary = "    canary:\n      steps:\n      - setWeight: 20\n      - pause: {}\n      - setWeight: 60";
    private const string BlueGreen = "    blueGreen:\n      activeService: web-active\n      autoPromotionEnabled: false";

    private static string Rollout(string name, string image, string strategy) =>
        $"apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: {name}\n  labels:\n    team: shop\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: {name}\n  strategy:\n{strategy}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      containers:\n      - name: {name}\n        image: \"{image}\"\n";

    private Task<JsonObject> Record(string name, Func<JsonObject, bool> ready, string what) => Records.WaitAsync(_kubectl, name, ready, what);

    private static string? Phase(JsonObject r) => Records.Phase(r);

    private Task ReleaseAsync(string name, string image)
    {
        var patch = new JsonObject
        {
            ["spec"] = new JsonObject
            {
                ["template"] = new JsonObject
                {
                    ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { ["dora-operator.io/commit-sha"] = image } },
                    ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = name, ["image"] = image }) },
                },
            },
        };
        return _kubectl.OkAsync($"patch rollout {name} --type merge -p '{patch.ToJsonString()}'");
    }

    private Task PromoteAsync(string name) => _kubectl.OkAsync($"patch rollout {name} --subresource=status --type merge -p '{{\"status\":{{\"pauseConditions\":null}}}}'");

    [Fact]
    public async Task Canary_PromotedIsADeployment_AbortedIsAFailedChangeRestoredByItsStableVersion()
    {
        await _kubectl.OkAsync("apply -f -", Rollout("web", "web:1", Canary));
        var first = await Record("web-ro1", r => Phase(r) == "Succeeded", "the first revision");
        Assert.Equal("Rollout", (string?)first["spec"]!["workload"]!["kind"]);
        Assert.Equal("argoproj.io/v1alpha1", (string?)first["spec"]!["workload"]!["apiVersion"]);

        await ReleaseAsync("web", "web:2");
        await _kubectl.WaitForAsync("rollout web", r => (string?)r["status"]?["phase"] == "Paused", "the canary paused at its step");
        await Task.Delay(300);
        Assert.Equal("Progressing", Phase(await Record("web-ro2", _ => true, "web-ro2")) ?? "Progressing");
        await PromoteAsync("web");
        var promoted = await Record("web-ro2", r => Phase(r) == "Succeeded", "the promoted canary");
        Assert.Equal("web:2", (string?)promoted["spec"]!["commitSha"]);

        await ReleaseAsync("web", "web:3");
        await _kubectl.WaitForAsync("rollout web", r => (string?)r["status"]?["phase"] == "Paused", "the next canary paused");
        await _kubectl.OkAsync("""patch rollout web --subresource=status --type merge -p '{"status":{"abort":true}}'""");
        var aborted = await Record("web-ro3", r => Phase(r) == "Failed", "the aborted canary");
        Assert.Equal((string?)aborted["status"]!["startedAt"], (string?)aborted["status"]!["failedAt"]);
        Assert.NotNull(aborted["status"]!["restoredAt"]);
        Assert.Contains("aborted", (string?)aborted["status"]!["reason"]);
        var project = await _kubectl.WaitForAsync("dora shop", p => (int?)p["status"]?["changeFailureRate"]?["count"] == 1 && p["status"]?["recoveryTime"]?["medianSeconds"] is not null,
            "the abort as a failed change with its recovery time");
        Assert.Equal(2, (int)project["status"]!["deploymentFrequency"]!["count"]!);
    }

    [Fact]
    public async Task BlueGreen_IsDeployedWhenPromoted()
    {
        await _kubectl.OkAsync("apply -f -", Rollout("shop", "shop:1", BlueGreen));
        await Record("shop-ro1", r => Phase(r) == "Succeeded", "the first revision");
        await ReleaseAsync("shop", "shop:2");
        await _kubectl.WaitForAsync("rollout shop", r => (string?)r["status"]?["phase"] == "Paused", "the preview");
        await Task.Delay(300);
        Assert.Equal("Progressing", Phase(await Record("shop-ro2", _ => true, "shop-ro2")) ?? "Progressing");
        await PromoteAsync("shop");
        await Record("shop-ro2", r => Phase(r) == "Succeeded", "the promoted preview");
    }
}
