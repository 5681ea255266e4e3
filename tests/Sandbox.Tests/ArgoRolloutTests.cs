using System.Text.Json.Nodes;
using DoraOperator.Sandbox.Controllers;
using DoraOperator.Testing;

namespace DoraOperator.Sandbox.Tests;

/// <summary>The simulated Argo Rollouts controller, driven with kubectl as the Argo plugin's promote and abort would (status patches).</summary>
public sealed class ArgoRolloutTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    internal static string Rollout(string name, string image, string strategy) =>
        $$"""
        apiVersion: argoproj.io/v1alpha1
        kind: Rollout
        metadata:
          name: {{name}}
        spec:
          replicas: 2
          selector:
            matchLabels:
              app: {{name}}
          strategy:
        {{strategy}}
          template:
            metadata:
              labels:
                app: {{name}}
            spec:
              containers:
              - name: {{name}}
                image: "{{image}}"
        """;

    internal const string Canary = "    canary:\n      steps:\n      - setWeight: 20\n      - pause: {}\n      - setWeight: 60\n      - pause: {duration: 10}";
    internal const string BlueGreen = "    blueGreen:\n      activeService: web-active\n      previewService: web-preview\n      autoPromotionEnabled: false";

    private async Task<Kubectl> NewKubectl()
    {
        var kubectl = new Kubectl(fixture.KubeconfigPath, await fixture.Api.NewNamespaceAsync("argo"));
        await kubectl.OkAsync("apply -f -", ArgoRolloutSimulator.CrdManifest);
        await kubectl.OkAsync("wait --for condition=established crd/rollouts.argoproj.io --timeout=10s");
        return kubectl;
    }

    private static string? Phase(JsonObject r) => (string?)r["status"]?["phase"];

    [Fact]
    public async Task Canary_PausesAtItsStep_PromoteCompletes_AbortDegrades()
    {
        using var kubectl = await NewKubectl();
        await kubectl.OkAsync("apply -f -", Rollout("web", "web:1", Canary));
        var first = await kubectl.WaitForAsync("rollout web", r => Phase(r) == "Healthy", "the first revision to be healthy at once");
        Assert.Equal("1", (string?)first["metadata"]!["annotations"]!["rollout.argoproj.io/revision"]);
        var stable = (string?)first["status"]!["stableRS"];
        Assert.Equal(stable, (string?)first["status"]!["currentPodHash"]);

        await kubectl.OkAsync("""patch rollout web --type merge -p '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"web:2"}]}}}}'""");
        var paused = await kubectl.WaitForAsync("rollout web", r => Phase(r) == "Paused", "the canary to pause at its step");
        Assert.Equal(1, (int)paused["status"]!["currentStepIndex"]!);
        Assert.Equal("CanaryPauseStep", (string?)paused["status"]!["pauseConditions"]![0]!["reason"]);
        Assert.Equal(stable, (string?)paused["status"]!["stableRS"]);
        Assert.Equal("2", (string?)paused["metadata"]!["annotations"]!["rollout.argoproj.io/revision"]);

        await kubectl.OkAsync("""patch rollout web --subresource=status --type merge -p '{"status":{"pauseConditions":null}}'""");
        var promoted = await kubectl.WaitForAsync("rollout web", r => Phase(r) == "Healthy", "the promoted canary to be healthy");
        Assert.Equal((string?)promoted["status"]!["currentPodHash"], (string?)promoted["status"]!["stableRS"]);
        Assert.NotEqual(stable, (string?)promoted["status"]!["stableRS"]);

        await kubectl.OkAsync("""patch rollout web --type merge -p '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"web:3"}]}}}}'""");
        await kubectl.WaitForAsync("rollout web", r => Phase(r) == "Paused", "the next canary to pause");
        await kubectl.OkAsync("""patch rollout web --subresource=status --type merge -p '{"status":{"abort":true}}'""");
        var aborted = await kubectl.WaitForAsync("rollout web", r => Phase(r) == "Degraded", "the abort");
        Assert.Contains(aborted["status"]!["conditions"]!.AsArray(), c => (string?)c!["type"] == "Progressing" && (string?)c["reason"] == "RolloutAborted");
        Assert.NotNull(aborted["status"]!["abortedAt"]);
        Assert.Equal((string?)promoted["status"]!["stableRS"], (string?)aborted["status"]!["stableRS"]);
        var sets = JsonNode.Parse(await kubectl.OkAsync("get rs -o json"))!["items"]!.AsArray();
        Assert.Equal(3, sets.Count);
        Assert.All(sets, rs => Assert.Equal("Rollout", (string?)rs!["metadata"]!["ownerReferences"]![0]!["kind"]));
    }

    [Fact]
    public async Task BlueGreen_WaitsOnThePreview_UntilPromoted()
    {
        using var kubectl = await NewKubectl();
        await kubectl.OkAsync("apply -f -", Rollout("shop", "shop:1", BlueGreen));
        var first = await kubectl.WaitForAsync("rollout shop", r => Phase(r) == "Healthy", "the first revision");
        await kubectl.OkAsync("""patch rollout shop --type merge -p '{"spec":{"template":{"spec":{"containers":[{"name":"shop","image":"shop:2"}]}}}}'""");
        var paused = await kubectl.WaitForAsync("rollout shop", r => Phase(r) == "Paused", "the preview");
        Assert.Equal((string?)first["status"]!["stableRS"], (string?)paused["status"]!["blueGreen"]!["activeSelector"]);
        Assert.Equal((string?)paused["status"]!["currentPodHash"], (string?)paused["status"]!["blueGreen"]!["previewSelector"]);
        await kubectl.OkAsync("""patch rollout shop --subresource=status --type merge -p '{"status":{"pauseConditions":null}}'""");
        var promoted = await kubectl.WaitForAsync("rollout shop", r => Phase(r) == "Healthy", "the promotion");
        Assert.Equal((string?)promoted["status"]!["currentPodHash"], (string?)promoted["status"]!["blueGreen"]!["activeSelector"]);
        Assert.Contains("shop", await kubectl.OkAsync("get ro"));
    }
}
