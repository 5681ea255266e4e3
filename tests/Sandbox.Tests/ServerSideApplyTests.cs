using System.Text.Json.Nodes;
using DoraOperator.Testing;

namespace DoraOperator.Sandbox.Tests;

/// <summary>
/// Server-side apply and managedFields as kube-apiserver documents them
/// (https://kubernetes.io/docs/reference/using-api/server-side-apply/), driven with kubectl.
/// </summary>
public sealed class ServerSideApplyTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    private static string Deployment(string name, int? replicas, string image, string? label = null) =>
        $$"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{name}}
        {{(label is null ? "" : $"  labels:\n    {label}\n")}}spec:
        {{(replicas is null ? "" : $"  replicas: {replicas}\n")}}  selector:
            matchLabels: {app: {{name}}}
          template:
            metadata:
              labels: {app: {{name}}}
            spec:
              containers:
              - name: app
                image: {{image}}
        """;

    private async Task<Kubectl> NewKubectl() => new(fixture.KubeconfigPath, await fixture.Api.NewNamespaceAsync("ssa"));

    private static async Task<JsonObject> GetAsync(Kubectl kubectl, string what) =>
        JsonNode.Parse(await kubectl.OkAsync($"get {what} -o json --show-managed-fields"))!.AsObject();

    private static JsonObject? Entry(JsonObject obj, string manager, string? subresource = null) =>
        obj["metadata"]!["managedFields"]!.AsArray().Select(e => e!.AsObject())
            .SingleOrDefault(e => (string?)e["manager"] == manager && (string?)e["subresource"] == subresource);

    [Fact]
    public async Task SecondManagerChangingAnOwnedField_Gets409NamingManagerAndField_ForceTakesIt()
    {
        using var kubectl = await NewKubectl();
        await kubectl.OkAsync("apply --server-side --field-manager=team-a -f -", Deployment("web", 2, "web:1"));

        var refused = await kubectl.RunAsync("apply --server-side --field-manager=team-b -f -", Deployment("web", 3, "web:1"));
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Apply failed with 1 conflict: conflict with \"team-a\" using apps/v1: .spec.replicas", refused.Stderr);
        Assert.Contains("--force-conflicts", refused.Stderr);
        Assert.Equal("2", await kubectl.OkAsync("get deploy web -o jsonpath={.spec.replicas}"));

        await kubectl.OkAsync("apply --server-side --field-manager=team-b --force-conflicts -f -", Deployment("web", 3, "web:1"));
        var web = await GetAsync(kubectl, "deploy web");
        Assert.Equal(3, (int)web["spec"]!["replicas"]!);
        Assert.NotNull(Entry(web, "team-b")!["fieldsV1"]!["f:spec"]!["f:replicas"]);
        Assert.Null(Entry(web, "team-a")!["fieldsV1"]!["f:spec"]!["f:replicas"]);
        // The image both applied with the same value: co-owned, no conflict.
        Assert.NotNull(Entry(web, "team-a")!["fieldsV1"]!["f:spec"]!["f:template"]!["f:spec"]!["f:containers"]!["k:{\"name\":\"app\"}"]!["f:image"]);
        Assert.NotNull(Entry(web, "team-b")!["fieldsV1"]!["f:spec"]!["f:template"]!["f:spec"]!["f:containers"]!["k:{\"name\":\"app\"}"]!["f:image"]);
    }

    [Fact]
    public async Task ScaledByKubectl_ThenAppliedWithOtherReplicas_ConflictsWithTheScaleSubresource()
    {
        using var kubectl = await NewKubectl();
        await kubectl.OkAsync("apply --server-side -f -", Deployment("api", 1, "api:1"));
        await kubectl.OkAsync("scale deploy api --replicas=4");
        var refused = await kubectl.RunAsync("apply --server-side -f -", Deployment("api", 1, "api:2"));
        Assert.NotEqual(0, refused.ExitCode);
        // kubectl scale sends no fieldManager: the manager is its User-Agent's product name.
        Assert.Contains("Apply failed with 1 conflict: conflict with \"kubectl\" with subresource \"scale\" using apps/v1: .spec.replicas", refused.Stderr);
        // Leaving replicas out of the configuration is the documented way to hand the field over.
        await kubectl.OkAsync("apply --server-side -f -", Deployment("api", null, "api:2"));
        Assert.Equal("4", await kubectl.OkAsync("get deploy api -o jsonpath={.spec.replicas}"));
        Assert.Equal("api:2", await kubectl.OkAsync("get deploy api -o jsonpath={.spec.template.spec.containers[0].image}"));
    }

    [Fact]
    public async Task EveryWriter_IsRecordedInManagedFields_WithOperationAndSubresource()
    {
        using var kubectl = await NewKubectl();
        await kubectl.OkAsync("create -f -", Deployment("shop", 1, "shop:1"));
        await kubectl.WaitForAsync("deploy shop", d => (int?)d["status"]?["availableReplicas"] == 1, "shop available");
        var shop = await GetAsync(kubectl, "deploy shop");
        var created = Entry(shop, "kubectl-create")!;
        Assert.Equal("Update", (string?)created["operation"]);
        Assert.Equal("apps/v1", (string?)created["apiVersion"]);
        Assert.Equal("FieldsV1", (string?)created["fieldsType"]);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", (string)created["time"]!);
        Assert.NotNull(created["fieldsV1"]!["f:spec"]!["f:replicas"]);
        Assert.NotNull(created["fieldsV1"]!["f:metadata"]?["f:labels"] ?? created["fieldsV1"]!["f:spec"]!["f:selector"]);
        Assert.Null(created["fieldsV1"]!["f:status"]);
        var controller = Entry(shop, "kube-controller-manager", "status")!;
        Assert.NotNull(controller["fieldsV1"]!["f:status"]!["f:availableReplicas"]);
        // kubectl hides them unless asked, as against a real server.
        Assert.DoesNotContain("managedFields", await kubectl.OkAsync("get deploy shop -o yaml"));
    }

    [Fact]
    public async Task FieldsDroppedFromTheAppliedConfiguration_AreRemoved_UnlessAnotherManagerOwnsThem()
    {
        using var kubectl = await NewKubectl();
        await kubectl.OkAsync("apply --server-side --field-manager=ci -f -", Deployment("cart", 1, "cart:1", "tier: web"));
        await kubectl.OkAsync("label deploy cart owner=payments");
        await kubectl.OkAsync("apply --server-side --field-manager=ci -f -", Deployment("cart", 1, "cart:1"));
        var labels = (await GetAsync(kubectl, "deploy cart"))["metadata"]!["labels"]!.AsObject();
        Assert.False(labels.ContainsKey("tier"));
        Assert.Equal("payments", (string?)labels["owner"]);
    }

    [Fact]
    public async Task OwnershipDiesWithTheObject_ARecreatedObjectKeepsFieldsTheOldApplierSet()
    {
        using var kubectl = await NewKubectl();
        await kubectl.OkAsync("apply --server-side --field-manager=ci -f -", Deployment("pay", 1, "pay:1", "tier: web"));
        await kubectl.OkAsync("delete deploy pay");
        await kubectl.OkAsync("create -f -", Deployment("pay", 1, "pay:1", "tier: web"));
        await kubectl.OkAsync("apply --server-side --field-manager=ci -f -", Deployment("pay", 1, "pay:1"));
        Assert.Equal("web", await kubectl.OkAsync("get deploy pay -o jsonpath={.metadata.labels.tier}"));
    }

    [Fact]
    public async Task ReapplyingTheSameConfiguration_IsANoOp_WithoutANewResourceVersion()
    {
        using var kubectl = await NewKubectl();
        await kubectl.OkAsync("apply --server-side -f -", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: same}\ndata: {a: \"1\"}\n");
        var before = await kubectl.OkAsync("get cm same -o jsonpath={.metadata.resourceVersion}");
        await kubectl.OkAsync("apply --server-side -f -", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: same}\ndata: {a: \"1\"}\n");
        Assert.Equal(before, await kubectl.OkAsync("get cm same -o jsonpath={.metadata.resourceVersion}"));
    }

    [Fact]
    public async Task ConflictStatus_OverHttp_CarriesOneFieldManagerConflictCausePerField()
    {
        var ns = await fixture.Api.NewNamespaceAsync("ssa-http");
        var path = $"/api/v1/namespaces/{ns}/configmaps/cfg";
        var first = await fixture.Api.PatchAsync(path + "?fieldManager=one", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: \"1\", b: \"2\"}\n", "application/apply-patch+yaml");
        Assert.Equal(201, first.Code);
        Assert.Equal("Apply", (string?)first.Object["metadata"]!["managedFields"]![0]!["operation"]);
        var second = await fixture.Api.PatchAsync(path + "?fieldManager=two", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: \"9\", b: \"8\"}\n", "application/apply-patch+yaml");
        Assert.Equal(409, second.Code);
        Assert.Equal("Conflict", (string?)second.Object["reason"]);
        Assert.Equal("Apply failed with 2 conflicts: conflicts with \"one\" using v1:\n- .data.a\n- .data.b", (string?)second.Object["message"]);
        var causes = second.Object["details"]!["causes"]!.AsArray();
        Assert.Equal([".data.a", ".data.b"], causes.Select(c => (string?)c!["field"]));
        Assert.All(causes, c => Assert.Equal("FieldManagerConflict", (string?)c!["reason"]));
        var forbidden = await fixture.Api.PatchAsync(path + "?force=true", """{"data":{"a":"3"}}""", "application/merge-patch+json");
        Assert.Equal(400, forbidden.Code);
        var noManager = await fixture.Api.PatchAsync(path, "data: {a: \"3\"}\n", "application/apply-patch+yaml");
        Assert.Equal(400, noManager.Code);
        Assert.Contains("fieldManager", (string?)noManager.Object["message"]);
    }
}
