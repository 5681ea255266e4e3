using System.Text.Json.Nodes;
using DoraOperator.Operator.Hosting;
using DoraOperator.Sandbox;
using DoraOperator.Testing;

namespace DoraOperator.Operator.Tests.Rollouts;

/// <summary>
/// One owner per status field: the rollout tracker writes a record's outcome, the incident controller
/// its <c>status.incidents</c>, each by a merge patch of its own fields. Racing, neither loses the other's.
/// Also: the metrics ledger forgets what retention (or anyone) deleted.
/// </summary>
public sealed class StatusOwnershipTests : IAsyncLifetime
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
        _operator = await _env.StartOperatorAsync(_env.Options with { MinStatusInterval = TimeSpan.FromMilliseconds(100) });
    }

    public async Task DisposeAsync()
    {
        await _operator.DisposeAsync();
        await _env.DisposeAsync();
    }

    private async Task<JsonObject> Get(string what, string name, Func<JsonObject, bool> ready, string description) =>
        await Eventually.Until(async () =>
        {
            var r = await _kubectl.RunAsync($"get {what} {name} -o json");
            return r.ExitCode == 0 ? JsonNode.Parse(r.Stdout)!.AsObject() : new JsonObject();
        }, ready, description);

    [Fact]
    public async Task ARolloutOutcomeAndIncidentLinksWrittenAtOnce_LoseNeither()
    {
        for (var i = 1; i <= 6; i++)
        {
            var web = $"web{i}";
            _server.Deployments!.SetPace("shop", web, DoraOperator.Sandbox.Controllers.RolloutPace.Manual);
            await _kubectl.OkAsync($"create deployment {web} --image=web:1");
            await _kubectl.OkAsync($"label deployment {web} team=shop");
            await Get("dr", $"{web}-1", r => r["metadata"] is not null, $"{web}-1 to be created while its rollout is in progress");
            // The incidents and the rollout's completion land together: the tracker writes the outcome while
            // the incident controller writes status.incidents of the same record.
            var incidents = Enumerable.Range(1, 3).Select(n => _kubectl.OkAsync("apply -f -", $"""
                apiVersion: dora-operator.io/v1alpha1
                kind: Incident
                metadata: {"{"}name: {web}-inc{n}{"}"}
                spec: {"{"}project: shop, deploymentRef: {web}-1{"}"}
                """)).ToList();
            _server.Deployments.Complete("shop", web);
            await Task.WhenAll(incidents);
            var record = await Get("dr", $"{web}-1",
                r => (string?)r["status"]?["phase"] == "Succeeded" && r["status"]?["incidents"]?.AsArray().Count == 3,
                $"{web}-1 to be Succeeded and to list its three incidents");
            Assert.Equal([$"{web}-inc1", $"{web}-inc2", $"{web}-inc3"], record["status"]!["incidents"]!.AsArray().Select(n => (string?)n));
            Assert.NotNull(record["status"]!["deployedAt"]);
        }
    }

    [Fact]
    public async Task AnIncidentDeleted_IsUnlistedFromItsRecord_AndARelinkMovesIt()
    {
        await _kubectl.OkAsync("create deployment web --image=web:1");
        await _kubectl.OkAsync("label deployment web team=shop");
        await Get("dr", "web-1", r => (string?)r["status"]?["phase"] == "Succeeded", "web-1");
        await _kubectl.OkAsync("set image deployment/web web=web:2");
        await Get("dr", "web-2", r => (string?)r["status"]?["phase"] == "Succeeded", "web-2");
        await _kubectl.OkAsync("apply -f -", "apiVersion: dora-operator.io/v1alpha1\nkind: Incident\nmetadata: {name: outage}\nspec: {project: shop, deploymentRef: web-1}\n");
        await Get("dr", "web-1", r => r["status"]?["incidents"]?.AsArray().Count == 1, "web-1 to list the incident");
        await _kubectl.OkAsync("patch inc outage --type merge -p '{\"spec\":{\"deploymentRef\":\"web-2\"}}'");
        await Get("dr", "web-2", r => r["status"]?["incidents"]?.AsArray().Count == 1, "web-2 to list the incident");
        await Get("dr", "web-1", r => r["status"]?["incidents"] is null && r["status"]?["phase"] is not null, "web-1 to no longer list it");
        await _kubectl.OkAsync("delete inc outage");
        var web2 = await Get("dr", "web-2", r => r["status"]?["incidents"] is null && r["status"]?["phase"] is not null, "web-2 to no longer list it");
        Assert.Equal("Succeeded", (string?)web2["status"]!["phase"]);
    }

    [Fact]
    public async Task TheLedger_ForgetsDeletedRecords_SoItsSizeStaysFlatAcrossCycles()
    {
        var sizes = new List<int>();
        for (var cycle = 0; cycle < 4; cycle++)
        {
            for (var n = 0; n < 3; n++)
            {
                var name = $"ci-{cycle}-{n}";
                await _kubectl.OkAsync("apply -f -", $$$"""
                    apiVersion: dora-operator.io/v1alpha1
                    kind: DeploymentRecord
                    metadata: {name: {{{name}}}, labels: {dora-operator.io/project: shop}}
                    spec: {project: shop, workload: {name: ci}, revision: {{{n + 1}}}, source: api}
                    """);
                await _kubectl.OkAsync($$$"""patch dr {{{name}}} --subresource=status --type merge -p '{"status":{"phase":"Succeeded","startedAt":"2026-11-01T10:00:00Z","deployedAt":"2026-11-01T10:05:00Z"}}'""");
            }
            await Eventually.True(() => _operator.Ledger.Remembered == 3, $"the ledger to count cycle {cycle}'s three deployments");
            await _kubectl.OkAsync("delete dr -l dora-operator.io/project=shop");
            await Eventually.True(() => _operator.Cache.Records.Count == 0, "the cache to see the deletes");
            sizes.Add(_operator.Ledger.Remembered);
        }
        Assert.Equal([0, 0, 0, 0], sizes);
    }
}
