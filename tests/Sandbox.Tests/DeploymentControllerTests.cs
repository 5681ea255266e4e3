using System.Text.Json.Nodes;
using DoraOperator.Sandbox.Controllers;
using DoraOperator.Testing;

namespace DoraOperator.Sandbox.Tests;

public sealed class DeploymentControllerTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    private ApiClient Api => fixture.Api;
    private DeploymentSimulator Sim => fixture.Server.Deployments!;

    private async Task<JsonObject> Deployment(string ns, string name) => (await Api.GetAsync($"/apis/apps/v1/namespaces/{ns}/deployments/{name}")).Object;

    private async Task<List<JsonObject>> ReplicaSets(string ns) =>
        (await Api.GetAsync($"/apis/apps/v1/namespaces/{ns}/replicasets")).Object["items"]!.AsArray().Select(i => i!.AsObject())
            .OrderBy(rs => Revision(rs)).ToList();

    private static int Revision(JsonObject o) => int.Parse((string?)o["metadata"]!["annotations"]?["deployment.kubernetes.io/revision"] ?? "0");

    private static JsonObject? Condition(JsonObject d, string type) =>
        d["status"]?["conditions"]?.AsArray().Select(c => c!.AsObject()).FirstOrDefault(c => (string?)c["type"] == type);

    private static bool Complete(JsonObject d) =>
        (long?)d["status"]?["observedGeneration"] >= (long)d["metadata"]!["generation"]!
        && (long?)d["status"]?["updatedReplicas"] == (long)d["spec"]!["replicas"]!
        && (long?)d["status"]?["availableReplicas"] == (long)d["spec"]!["replicas"]!
        && (long?)d["status"]?["replicas"] == (long)d["spec"]!["replicas"]!
        && (string?)Condition(d, "Progressing")?["reason"] == "NewReplicaSetAvailable";

    private Task<JsonObject> WaitComplete(string ns, string name) =>
        Eventually.Until(() => Deployment(ns, name), Complete, $"deployment {name} to complete");

    private Task SetImage(string ns, string name, string image) =>
        Api.PatchAsync($"/apis/apps/v1/namespaces/{ns}/deployments/{name}",
            """{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"IMAGE"}]}}}}""".Replace("IMAGE", image, StringComparison.Ordinal), "application/strategic-merge-patch+json");

    [Fact]
    public async Task NewDeployment_GetsReplicaSetRevision1_AndCompletes()
    {
        var ns = await Api.NewNamespaceAsync();
        await Api.PostAsync($"/apis/apps/v1/namespaces/{ns}/deployments", ApiClient.Deployment("web", replicas: 3));
        var d = await WaitComplete(ns, "web");
        Assert.Equal("1", (string?)d["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"]);
        Assert.Equal(1, (long)d["metadata"]!["generation"]!);
        var rs = Assert.Single(await ReplicaSets(ns));
        var hash = (string)rs["metadata"]!["labels"]!["pod-template-hash"]!;
        Assert.Equal($"web-{hash}", (string?)rs["metadata"]!["name"]);
        Assert.Equal(hash, (string?)rs["spec"]!["selector"]!["matchLabels"]!["pod-template-hash"]);
        Assert.Equal(3, (long)rs["status"]!["readyReplicas"]!);
        var owner = rs["metadata"]!["ownerReferences"]![0]!;
        Assert.Equal((string?)d["metadata"]!["uid"], (string?)owner["uid"]);
        Assert.True((bool)owner["controller"]!);
        Assert.Equal("True", (string?)Condition(d, "Available")?["status"]);
    }

    [Fact]
    public async Task NewTemplate_MakesRevision2_ScalingMakesNone_AndRollbackRevivesTheOldReplicaSet()
    {
        var ns = await Api.NewNamespaceAsync();
        await Api.PostAsync($"/apis/apps/v1/namespaces/{ns}/deployments", ApiClient.Deployment("app", "img:1"));
        await WaitComplete(ns, "app");
        await SetImage(ns, "app", "img:2");
        await Eventually.Until(() => ReplicaSets(ns), l => l.Count == 2, "a second ReplicaSet");
        await WaitComplete(ns, "app");
        var sets = await ReplicaSets(ns);
        Assert.Equal([1, 2], sets.Select(Revision));
        Assert.Equal(0, (long)sets[0]["spec"]!["replicas"]!);
        Assert.Equal(1, (long)sets[1]["spec"]!["replicas"]!);

        await Api.PatchAsync($"/apis/apps/v1/namespaces/{ns}/deployments/app", """{"spec":{"replicas":4}}""", "application/merge-patch+json");
        var scaled = await WaitComplete(ns, "app");
        Assert.Equal(4, (long)scaled["status"]!["availableReplicas"]!);
        Assert.Equal(2, (await ReplicaSets(ns)).Count);
        Assert.Equal("2", (string?)scaled["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"]);

        await SetImage(ns, "app", "img:1");
        await Eventually.Until(() => ReplicaSets(ns), l => l.Select(Revision).Max() == 3, "the rollback revision");
        var rolledBack = await WaitComplete(ns, "app");
        sets = await ReplicaSets(ns);
        Assert.Equal(2, sets.Count);
        var revived = sets.Single(s => Revision(s) == 3);
        Assert.Equal("1", (string?)revived["metadata"]!["annotations"]!["deployment.kubernetes.io/revision-history"]);
        Assert.Equal("img:1", (string?)revived["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]);
        Assert.Equal(4, (long)revived["spec"]!["replicas"]!);
        Assert.Equal("3", (string?)rolledBack["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"]);
    }

    [Fact]
    public async Task ManualPace_StepsReplicaByReplica()
    {
        var ns = await Api.NewNamespaceAsync();
        Sim.SetPace(ns, "slow", RolloutPace.Manual);
        await Api.PostAsync($"/apis/apps/v1/namespaces/{ns}/deployments", ApiClient.Deployment("slow", replicas: 2));
        var progressing = await Eventually.Until(() => Deployment(ns, "slow"), d => (string?)Condition(d, "Progressing")?["reason"] == "NewReplicaSetCreated", "the rollout to start");
        Assert.False(Complete(progressing));
        Sim.Advance(ns, "slow");
        var half = await Eventually.Until(() => Deployment(ns, "slow"), d => (long?)d["status"]?["updatedReplicas"] == 1, "one replica updated");
        Assert.Equal("ReplicaSetUpdated", (string?)Condition(half, "Progressing")?["reason"]);
        Sim.Advance(ns, "slow");
        await WaitComplete(ns, "slow");
    }

    [Fact]
    public async Task FailedRollout_ReportsProgressDeadlineExceeded()
    {
        var ns = await Api.NewNamespaceAsync();
        await Api.PostAsync($"/apis/apps/v1/namespaces/{ns}/deployments", ApiClient.Deployment("bad", "img:1"));
        await WaitComplete(ns, "bad");
        Sim.FailNextRollout(ns, "bad");
        await SetImage(ns, "bad", "img:broken");
        var failed = await Eventually.Until(() => Deployment(ns, "bad"), d => (string?)Condition(d, "Progressing")?["reason"] == "ProgressDeadlineExceeded", "the rollout to fail");
        var condition = Condition(failed, "Progressing")!;
        Assert.Equal("False", (string?)condition["status"]);
        Assert.Contains("has timed out progressing", (string?)condition["message"]);
        Assert.Equal("2", (string?)failed["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"]);
    }

    [Fact]
    public async Task PausedDeployment_CreatesNoReplicaSet_UntilResumed()
    {
        var ns = await Api.NewNamespaceAsync();
        await Api.PostAsync($"/apis/apps/v1/namespaces/{ns}/deployments", ApiClient.Deployment("p", "img:1"));
        await WaitComplete(ns, "p");
        await Api.PatchAsync($"/apis/apps/v1/namespaces/{ns}/deployments/p", """{"spec":{"paused":true}}""", "application/merge-patch+json");
        await SetImage(ns, "p", "img:2");
        var paused = await Eventually.Until(() => Deployment(ns, "p"), d => (string?)Condition(d, "Progressing")?["reason"] == "DeploymentPaused", "the pause to be observed");
        Assert.Single(await ReplicaSets(ns));
        Assert.Equal("1", (string?)paused["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"]);
        await Api.PatchAsync($"/apis/apps/v1/namespaces/{ns}/deployments/p", """{"spec":{"paused":false}}""", "application/merge-patch+json");
        var resumed = await WaitComplete(ns, "p");
        Assert.Equal("2", (string?)resumed["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"]);
    }

    [Fact]
    public async Task RestartAnnotation_MakesANewRevision_AndDeletingTheDeploymentCollectsItsReplicaSets()
    {
        var ns = await Api.NewNamespaceAsync();
        await Api.PostAsync($"/apis/apps/v1/namespaces/{ns}/deployments", ApiClient.Deployment("r"));
        await WaitComplete(ns, "r");
        await Api.PatchAsync($"/apis/apps/v1/namespaces/{ns}/deployments/r",
            """{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-11-01T00:00:00Z"}}}}}""", "application/strategic-merge-patch+json");
        await Eventually.Until(() => ReplicaSets(ns), l => l.Count == 2, "the restart's ReplicaSet");
        await Api.DeleteAsync($"/apis/apps/v1/namespaces/{ns}/deployments/r");
        await Eventually.Until(() => ReplicaSets(ns), l => l.Count == 0, "the ReplicaSets to be garbage-collected");
    }

    [Fact]
    public async Task DelayedPace_CompletesWhenTheServerClockPasses()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));
        await using var server = await SandboxApiServer.StartAsync(new SandboxOptions { TimeProvider = clock, RolloutPace = RolloutPace.After(TimeSpan.FromMinutes(2)) });
        using var api = new ApiClient(server);
        var ns = await api.NewNamespaceAsync();
        var created = await api.PostAsync($"/apis/apps/v1/namespaces/{ns}/deployments", ApiClient.Deployment("d", replicas: 2));
        Assert.Equal(201, created.Code);
        await server.Deployments!.WaitIdleAsync();
        var during = (await api.GetAsync($"/apis/apps/v1/namespaces/{ns}/deployments/d")).Object;
        Assert.Equal(1, (long)during["status"]!["updatedReplicas"]!);
        Assert.False(Complete(during));
        clock.Advance(TimeSpan.FromMinutes(2));
        var done = await Eventually.Until(async () => (await api.GetAsync($"/apis/apps/v1/namespaces/{ns}/deployments/d")).Object, Complete, "the delayed rollout");
        var progressing = Condition(done, "Progressing")!;
        Assert.Equal("2026-11-01T12:02:00Z", (string?)progressing["lastUpdateTime"]);
        Assert.Equal("2026-11-01T12:00:00Z", (string?)done["metadata"]!["creationTimestamp"]);
    }
}
