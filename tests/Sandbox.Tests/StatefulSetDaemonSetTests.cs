using System.Text.Json.Nodes;
using DoraOperator.Testing;

namespace DoraOperator.Sandbox.Tests;

/// <summary>
/// StatefulSets and DaemonSets with their ControllerRevisions, driven with kubectl's rollout
/// commands as on a cluster (status, history, undo, restart).
/// </summary>
public sealed class StatefulSetDaemonSetTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    private async Task<Kubectl> NewKubectl() => new(fixture.KubeconfigPath, await fixture.Api.NewNamespaceAsync("revs"));

    private static string Workload(string kind, string name, string image, string extraSpec = "") =>
        $$"""
        apiVersion: apps/v1
        kind: {{kind}}
        metadata:
          name: {{name}}
        spec:
          selector:
            matchLabels:
              app: {{name}}
        {{extraSpec}}  template:
            metadata:
              labels:
                app: {{name}}
            spec:
              containers:
              - name: {{name}}
                image: "{{image}}"
        """;

    private static async Task<List<JsonObject>> RevisionsAsync(Kubectl kubectl) =>
        JsonNode.Parse(await kubectl.OkAsync("get controllerrevisions -o json"))!["items"]!.AsArray().Select(r => r!.AsObject()).ToList();

    private static async Task<JsonObject> GetAsync(Kubectl kubectl, string what) => JsonNode.Parse(await kubectl.OkAsync($"get {what} -o json"))!.AsObject();

    [Theory]
    [InlineData("StatefulSet", "sts", "  replicas: 2\n")]
    [InlineData("DaemonSet", "ds", "")]
    public async Task ReleaseRollbackRestartAndScale_MakeTheControllerRevisionsKubectlReads(string kind, string shortName, string replicas)
    {
        using var kubectl = await NewKubectl();
        await kubectl.OkAsync("apply -f -", Workload(kind, "db", "db:1", replicas));
        await kubectl.OkAsync($"rollout status {shortName}/db --timeout=30s");
        await kubectl.OkAsync($"set image {shortName}/db db=db:2");
        Assert.Contains(kind == "StatefulSet" ? "partitioned roll out complete: 2 new pods have been updated" : "daemon set \"db\" successfully rolled out",
            await kubectl.OkAsync($"rollout status {shortName}/db --timeout=30s"));

        var revisions = await RevisionsAsync(kubectl);
        Assert.Equal([1L, 2L], revisions.Select(r => (long)r["revision"]!).Order());
        var owner = revisions[0]["metadata"]!["ownerReferences"]![0]!;
        Assert.Equal(kind, (string?)owner["kind"]);
        Assert.True((bool)owner["controller"]!);
        Assert.Matches(@"(?m)^1\s+<none>\s*$", await kubectl.OkAsync($"rollout history {shortName}/db"));
        Assert.Matches(@"(?m)^2\s+<none>\s*$", await kubectl.OkAsync($"rollout history {shortName}/db"));

        // undo: the old template comes back, its revision is renumbered, no new ControllerRevision.
        await kubectl.OkAsync($"rollout undo {shortName}/db");
        await kubectl.OkAsync($"rollout status {shortName}/db --timeout=30s");
        Assert.Equal("db:1", await kubectl.OkAsync($"get {shortName} db -o jsonpath={{.spec.template.spec.containers[0].image}}"));
        revisions = await Eventually.Until(() => RevisionsAsync(kubectl), rs => rs.Any(r => (long)r["revision"]! == 3), "the old revision renumbered 3");
        Assert.Equal(2, revisions.Count);
        Assert.Equal("db:1", (string?)revisions.Single(r => (long)r["revision"]! == 3)["data"]!["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]);

        await kubectl.OkAsync($"rollout restart {shortName}/db");
        await kubectl.OkAsync($"rollout status {shortName}/db --timeout=30s");
        revisions = await Eventually.Until(() => RevisionsAsync(kubectl), rs => rs.Count == 3, "a revision for the restart");
        Assert.NotNull(revisions.Single(r => (long)r["revision"]! == 4)["data"]!["spec"]!["template"]!["metadata"]!["annotations"]!["kubectl.kubernetes.io/restartedAt"]);

        if (kind == "StatefulSet")
        {
            await kubectl.OkAsync("scale sts/db --replicas=3");
            await kubectl.WaitForAsync("sts db", s => (int?)s["status"]?["readyReplicas"] == 3, "three ready replicas");
            Assert.Equal(3, (await RevisionsAsync(kubectl)).Count);
        }
        var listed = await kubectl.OkAsync("get controllerrevisions");
        Assert.Matches(@$"(?m)^db-\S+\s+apps/{kind.ToLowerInvariant()}/db\s+4\s", listed);
    }

    [Fact]
    public async Task Partition_HoldsAStatefulSetOnTheOldRevision_AsKubectlReportsIt()
    {
        using var kubectl = await NewKubectl();
        await kubectl.OkAsync("apply -f -", Workload("StatefulSet", "pg", "pg:1", "  replicas: 3\n  updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 2}}\n"));
        await kubectl.OkAsync("rollout status sts/pg --timeout=30s");
        await kubectl.OkAsync("set image sts/pg pg=pg:2");
        var output = await kubectl.OkAsync("rollout status sts/pg --timeout=30s");
        Assert.Contains("partitioned roll out complete: 1 new pods have been updated", output);
        var sts = await kubectl.WaitForAsync("sts pg", s => (int?)s["status"]?["updatedReplicas"] == 1, "one updated replica");
        Assert.NotEqual((string?)sts["status"]!["currentRevision"], (string?)sts["status"]!["updateRevision"]);
        await kubectl.OkAsync("""patch sts pg -p '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}'""");
        // kubectl reports any StatefulSet with a partition field (the API defaults it to 0) as partitioned.
        Assert.Contains("partitioned roll out complete: 3 new pods have been updated", await kubectl.OkAsync("rollout status sts/pg --timeout=30s"));
        sts = await GetAsync(kubectl, "sts pg");
        Assert.Equal((string?)sts["status"]!["currentRevision"], (string?)sts["status"]!["updateRevision"]);
    }

    [Fact]
    public async Task OnDelete_WaitsForThePodsToBeRecreated()
    {
        using var kubectl = await NewKubectl();
        await kubectl.OkAsync("apply -f -", Workload("StatefulSet", "kv", "kv:1", "  updateStrategy: {type: OnDelete}\n"));
        await kubectl.WaitForAsync("sts kv", s => s["status"]?["updateRevision"] is not null, "the first revision");
        await kubectl.OkAsync("set image sts/kv kv=kv:2");
        var held = await kubectl.WaitForAsync("sts kv", s => (string?)s["status"]?["updateRevision"] != (string?)s["status"]?["currentRevision"], "an update revision");
        Assert.Equal(0, (int)held["status"]!["updatedReplicas"]!);
        var status = await kubectl.RunAsync("rollout status sts/kv --timeout=5s");
        Assert.Contains("rollout status is only available for RollingUpdate strategy type", status.Stderr);
        fixture.Server.Revisions!.RecreatePods("StatefulSet", kubectl.Namespace!, "kv");
        await kubectl.WaitForAsync("sts kv", s => (string?)s["status"]?["updateRevision"] == (string?)s["status"]?["currentRevision"] && (int?)s["status"]?["updatedReplicas"] == 1, "the recreated pod on the new revision");
    }

    [Fact]
    public async Task RevisionHistoryLimit_KeepsThatManyOldRevisions()
    {
        using var kubectl = await NewKubectl();
        await kubectl.OkAsync("apply -f -", Workload("DaemonSet", "agent", "agent:1", "  revisionHistoryLimit: 2\n"));
        for (var i = 2; i <= 5; i++)
        {
            await kubectl.OkAsync($"set image ds/agent agent=agent:{i}");
            await kubectl.OkAsync("rollout status ds/agent --timeout=30s");
        }
        var revisions = await Eventually.Until(() => RevisionsAsync(kubectl), rs => rs.Count == 3 && rs.Max(r => (long)r["revision"]!) == 5, "two old revisions and the current");
        Assert.Equal([3L, 4L, 5L], revisions.Select(r => (long)r["revision"]!).Order());
        Assert.Equal(DoraOperator.Sandbox.Controllers.RevisionSimulator.Nodes, (int)(await GetAsync(kubectl, "ds agent"))["status"]!["numberAvailable"]!);
    }

    [Fact]
    public async Task APacedSandbox_ShowsTheRolloutInProgress_UntilItsTimeHasPassed()
    {
        var kubeconfig = Path.GetTempFileName();
        await using var server = await SandboxApiServer.StartAsync(new SandboxOptions
        {
            KubeconfigPath = kubeconfig, RolloutPace = DoraOperator.Sandbox.Controllers.RolloutPace.After(TimeSpan.FromSeconds(1)),
        });
        using var kubectl = new Kubectl(kubeconfig, "default");
        await kubectl.OkAsync("apply -f -", Workload("StatefulSet", "paced", "paced:1", "  replicas: 2\n"));
        await kubectl.OkAsync("rollout status sts/paced --timeout=30s");
        await kubectl.OkAsync("set image sts/paced paced=paced:2");
        var rolling = await kubectl.WaitForAsync("sts paced", s => s["status"]?["updateRevision"] is not null && (string?)s["status"]?["updateRevision"] != (string?)s["status"]?["currentRevision"],
            "the rollout in progress");
        Assert.Equal(0, (int)rolling["status"]!["updatedReplicas"]!);
        var started = DateTimeOffset.UtcNow;
        await kubectl.OkAsync("rollout status sts/paced --timeout=30s");
        var done = await GetAsync(kubectl, "sts paced");
        Assert.Equal((string?)done["status"]!["currentRevision"], (string?)done["status"]!["updateRevision"]);
        Assert.True(DateTimeOffset.UtcNow - started < TimeSpan.FromSeconds(10));
        File.Delete(kubeconfig);
    }
}
