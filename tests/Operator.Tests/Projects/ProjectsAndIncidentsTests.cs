using System.Net;
using System.Text.Json.Nodes;
using DoraOperator.Operator.Hosting;
using DoraOperator.Sandbox;
using DoraOperator.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace DoraOperator.Operator.Tests.Projects;

/// <summary>Incidents and project numbers end to end: the operator in-process against the Sandbox, driven with kubectl.</summary>
public sealed class ProjectsAndIncidentsTests : IAsyncLifetime
{
    private readonly HttpClient _http = new();
    private OperatorOnSandbox _env = null!;
    private SandboxApiServer _server = null!;
    private Kubectl _kubectl = null!;
    private OperatorHost _operator = null!;

    public async Task InitializeAsync()
    {
        _env = await OperatorOnSandbox.StartAsync();
        (_server, _kubectl) = (_env.Server, _env.Kubectl);
        _operator = await _env.StartOperatorAsync(_env.Options with { MinStatusInterval = TimeSpan.FromMilliseconds(300) });
    }

    public async Task DisposeAsync()
    {
        await _operator.DisposeAsync();
        _http.Dispose();
        await _env.DisposeAsync();
    }

    private Task ApplyProjectAsync(string attribution = "explicit") => _kubectl.OkAsync("apply -f -", $$"""
        apiVersion: dora-operator.io/v1alpha1
        kind: DoraProject
        metadata: {name: shop}
        spec:
          team: checkout
          selector:
            matchLabels: {team: shop}
          incidentAttribution:
            mode: {{attribution}}
        """);

    /// <summary>Deployment "web" selected by the project, released once with a commit made an hour before now.</summary>
    private async Task<DateTimeOffset> ReleaseWebAsync()
    {
        var commit = DateTimeOffset.UtcNow.AddHours(-1);
        await _kubectl.OkAsync("apply -f -", $$"""
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
              labels: {team: shop}
            spec:
              selector:
                matchLabels: {app: web}
              template:
                metadata:
                  labels: {app: web}
                  annotations:
                    dora-operator.io/commit-sha: abc123
                    dora-operator.io/commit-time: "{{commit.ToUnixTimeSeconds()}}"
                spec:
                  containers: [{name: web, image: "web:1"}]
            """);
        await Get("dr", "web-1", r => (string?)r["status"]?["phase"] == "Succeeded", "web-1 to succeed");
        return commit;
    }

    private Task<JsonObject> Get(string kind, string name, Func<JsonObject, bool> ready, string what) => _kubectl.WaitForAsync($"{kind} {name}", ready, what);

    private static JsonNode? Status(JsonObject o, string path)
    {
        JsonNode? node = o["status"];
        foreach (var part in path.Split('.')) node = node?[part];
        return node;
    }

    private int ProjectStatusWrites() => _server.Audit.Where(a => a.Key.Resource == "doraprojects" && a.Key.Subresource == "status" && a.Key.Verb == "update").Sum(a => a.Value);

    [Fact]
    public async Task IncidentAppliedWithKubectl_FailsItsDeployment_AndRestoringItGivesRecoveryTime()
    {
        await ApplyProjectAsync();
        await ReleaseWebAsync();
        var project = await Get("dora", "shop", p => (int?)Status(p, "deploymentFrequency.count") == 1, "the project to count web-1");
        Assert.Equal(0, (int?)Status(project, "changeFailureRate.count"));
        Assert.Equal("True", (string?)Status(project, "conditions")![0]!["status"]);
        Assert.NotNull(Status(project, "leadTime.medianSeconds"));

        var now = DateTimeOffset.UtcNow;
        var started = now.AddMinutes(-30).ToString("yyyy-MM-ddTHH:mm:ssZ");
        await _kubectl.OkAsync("apply -f -", $"""
            apiVersion: dora-operator.io/v1alpha1
            kind: Incident
            metadata: {"{"}name: checkout-down{"}"}
            spec:
              project: shop
              severity: high
              startedAt: "{started}"
              deploymentRef: web-1
            """);
        var incident = await Get("inc", "checkout-down", i => (string?)Status(i, "phase") == "Open", "the incident to open");
        Assert.Equal("web-1", (string?)Status(incident, "linkedDeployment"));
        var record = await Get("dr", "web-1", r => Status(r, "incidents")?.AsArray().Count == 1, "web-1 to list the incident");
        Assert.Equal("checkout-down", (string?)Status(record, "incidents")![0]);
        project = await Get("dora", "shop", p => (int?)Status(p, "changeFailureRate.count") == 1, "the failure rate to count web-1");
        Assert.Equal(1, (int?)Status(project, "openIncidents"));
        Assert.Equal("100% (1/1)", (string?)Status(project, "display.changeFailureRate"));
        Assert.Equal("-", (string?)Status(project, "display.recoveryTime"));
        var columns = await _kubectl.OkAsync("get dora shop");
        Assert.Matches(@"(?m)^NAME\s+DEPLOYS/DAY\s+LEAD TIME\s+CFR\s+RECOVERY\s+TIER", columns);
        Assert.Matches(@"(?m)^shop\s+0\.03\s+\S+\s+100% \(1/1\)\s+-\s+\w+", columns);

        var restored = now.AddMinutes(-5).ToString("yyyy-MM-ddTHH:mm:ssZ");
        await _kubectl.OkAsync("patch inc checkout-down --type merge -p '{\"spec\":{\"restoredAt\":\"" + restored + "\"}}'");
        incident = await Get("inc", "checkout-down", i => (string?)Status(i, "phase") == "Restored", "the incident to be restored");
        Assert.Equal(1500, (double?)Status(incident, "timeToRestoreSeconds"));
        Assert.Equal("25m", (string?)Status(incident, "display.restoredIn"));
        project = await Get("dora", "shop", p => (int?)Status(p, "recoveryTime.samples") == 1, "recovery time to appear");
        Assert.Equal(1500, (double?)Status(project, "recoveryTime.medianSeconds"));
        Assert.Equal("25m", (string?)Status(project, "display.recoveryTime"));
        Assert.Equal(0, (int?)Status(project, "openIncidents"));

        var events = await Eventually.Until(() => _kubectl.OkAsync("get events.events.k8s.io -o json"),
            e => e.Contains("\"Restored\"", StringComparison.Ordinal) && e.Contains("\"Opened\"", StringComparison.Ordinal), "Opened and Restored events");
        Assert.Contains("checkout-down", events);
        Assert.Contains("Restored", await _kubectl.OkAsync("describe inc checkout-down"));
    }

    [Fact]
    public async Task IncidentDefaults_AreFilled_AndRulesTheServerCannotCheck_MakeItInvalid()
    {
        await ApplyProjectAsync();
        await _kubectl.OkAsync("apply -f -", """
            apiVersion: dora-operator.io/v1alpha1
            kind: Incident
            metadata: {name: plain}
            spec: {project: shop, resolvedAt: "2099-01-01T00:00:00Z"}
            """);
        // resolvedAt in the far future with startedAt defaulted to now: valid, restoredAt filled from resolvedAt.
        var plain = await Get("inc", "plain", i => (string?)i["spec"]?["restoredAt"] is not null && (string?)Status(i, "phase") is not null, "defaults to be filled");
        Assert.Equal((string?)plain["metadata"]!["creationTimestamp"], (string?)plain["spec"]!["startedAt"]);
        Assert.Equal("2099-01-01T00:00:00Z", (string?)plain["spec"]!["restoredAt"]);
        Assert.Equal("Resolved", (string?)Status(plain, "phase"));

        await _kubectl.OkAsync("apply -f -", """
            apiVersion: dora-operator.io/v1alpha1
            kind: Incident
            metadata: {name: backwards}
            spec: {project: shop, restoredAt: "2020-01-01T00:00:00Z"}
            """);
        var invalid = await Get("inc", "backwards", i => Status(i, "conditions")?.AsArray().Any(c => (string?)c!["type"] == "Invalid") == true, "an Invalid condition");
        var condition = Status(invalid, "conditions")!.AsArray().Single(c => (string?)c!["type"] == "Invalid")!;
        Assert.Equal("RestoredBeforeStarted", (string?)condition["reason"]);
        Assert.Contains("creation time", (string?)condition["message"]);
        Assert.Null(invalid["spec"]!["startedAt"]);
        Assert.Null(Status(invalid, "phase"));
    }

    [Fact]
    public async Task LastDeploymentAttribution_LinksAnIncidentWithoutARef()
    {
        await ApplyProjectAsync("lastDeployment");
        await ReleaseWebAsync();
        await _kubectl.OkAsync("apply -f -", """
            apiVersion: dora-operator.io/v1alpha1
            kind: Incident
            metadata: {name: slow}
            spec: {project: shop}
            """);
        var incident = await Get("inc", "slow", i => (string?)Status(i, "linkedDeployment") == "web-1", "the incident to be attributed to web-1");
        Assert.True((double?)Status(incident, "timeToDetectSeconds") >= 0);
        Assert.Equal("LastDeployment", (string?)Status(incident, "conditions")!.AsArray().Single(c => (string?)c!["type"] == "Linked")!["reason"]);

        await _kubectl.OkAsync("delete inc slow");
        await Get("dr", "web-1", r => Status(r, "incidents") is null, "web-1 to forget the deleted incident");
        await Get("dora", "shop", p => (int?)Status(p, "changeFailureRate.count") == 0, "the failure rate to drop back");
    }

    [Fact]
    public async Task ProjectStatus_IsNotRewritten_WhenNothingChanged()
    {
        await ApplyProjectAsync();
        await ReleaseWebAsync();
        await Get("dora", "shop", p => (int?)Status(p, "deploymentFrequency.count") == 1, "the project to count web-1");
        // The aggregator's own cache must show its write, or a reconcile would compare against the old status.
        await Eventually.True(() => _operator.Cache.Projects.Get("shop", "shop")?.Status?.DeploymentFrequency?.Count == 1, "the aggregator's cache to show its write");
        var writes = ProjectStatusWrites();
        // Reconciles inside the least compute interval are deferred (RequeueAfter); two that compute must write nothing.
        for (var i = 0; i < 2; i++)
        {
            await Eventually.Until(() => _operator.Aggregator.ReconcileAsync(new("shop", "shop"), CancellationToken.None), r => r == DoraOperator.Kube.Queue.ReconcileResult.Done, "a reconcile that computes");
        }
        Assert.Equal(writes, ProjectStatusWrites());

        // The cache skips managedFields and the status write omits them: the API server keeps every manager's entry.
        var managers = JsonNode.Parse(await _kubectl.OkAsync("get dora shop -o json --show-managed-fields"))!["metadata"]!["managedFields"]!.AsArray()
            .Select(e => ((string?)e!["manager"], (string?)e["subresource"])).ToList();
        Assert.Contains(managers, m => m.Item1!.StartsWith("kubectl", StringComparison.Ordinal) && m.Item2 is null);
        Assert.Contains(managers, m => m.Item2 == "status");
    }

    [Fact]
    public async Task NoDeployments_IsNotReady_AndAnInvalidSelectorSaysWhy()
    {
        await ApplyProjectAsync();
        var project = await Get("dora", "shop", p => Status(p, "conditions") is not null, "a Ready condition");
        var ready = Status(project, "conditions")![0]!;
        Assert.Equal(("False", "NoDeployments"), ((string?)ready["status"], (string?)ready["reason"]));
        Assert.Equal("unknown", (string?)Status(project, "tier"));
        Assert.Null(Status(project, "deploymentFrequency.perDay"));

        await _kubectl.OkAsync("""patch dora shop --type merge -p '{"spec":{"selector":{"matchLabels":null,"matchExpressions":[{"key":"team","operator":"In"}]}}}'""");
        project = await Get("dora", "shop", p => (string?)Status(p, "conditions")?[0]?["reason"] == "SelectorInvalid", "SelectorInvalid");
        Assert.Contains("operator In needs at least one value", (string?)Status(project, "conditions")![0]!["message"]);
    }

    [Fact]
    public async Task DeploymentsComingMovingAndGoing_ReachEveryProjectOfTheirNamespace()
    {
        // Deployments matter to a project's readiness when an older project also selects them.
        string Reason(JsonObject p) => (string?)Status(p, "conditions")?[0]?["reason"] ?? "";
        foreach (var (name, selector) in new[] { ("old", "matchLabels: {team: shop}"), ("other", "matchLabels: {team: ads}"), ("wide", "matchExpressions: [{key: team, operator: In, values: [shop, pay]}]") })
        {
            await _kubectl.OkAsync("apply -f -", $$"""
                apiVersion: dora-operator.io/v1alpha1
                kind: DoraProject
                metadata: {name: {{name}}}
                spec:
                  selector:
                    {{selector}}
                """);
            await Get("dora", name, p => Reason(p) == "NoDeployments", $"{name} to be computed");
        }

        await _kubectl.OkAsync("create deployment a --image=nginx:1");
        await _kubectl.OkAsync("label deployment a team=pay");
        await _kubectl.OkAsync("create deployment b --image=nginx:1");
        await _kubectl.OkAsync("label deployment b team=ads");
        await _kubectl.OkAsync("label deployment a team=shop --overwrite");
        var wide = await Get("dora", "wide", p => Reason(p) == "SelectorOverlap", "wide to find Deployment a contested");
        Assert.Contains("1 of this project's Deployments", (string?)Status(wide, "conditions")![0]!["message"]);
        await _kubectl.OkAsync("label deployment b team=shop --overwrite");
        wide = await Get("dora", "wide", p => ((string?)Status(p, "conditions")?[0]?["message"])?.Contains("2 of this project's", StringComparison.Ordinal) == true, "wide to find Deployment b contested too");
        await _kubectl.OkAsync("delete deployment a b");
        // Deployment a was recorded for wide while it was team=pay: wide is Ready with that record.
        await Get("dora", "wide", p => Reason(p) == "Calculated", "wide to lose both contested Deployments");
    }

    [Fact]
    public async Task JsonApi_ServesTheNumbers_AnotherWindow_AndProblemDetails()
    {
        await ApplyProjectAsync();
        await ReleaseWebAsync();
        await Get("dora", "shop", p => (int?)Status(p, "deploymentFrequency.count") == 1, "the project to count web-1");
        var api = _operator.HttpUrl!;

        var list = JsonNode.Parse(await _http.GetStringAsync(new Uri(api, "/api/v1/projects")))!;
        var item = list["items"]!.AsArray().Single()!;
        Assert.Equal("shop", (string?)item["namespace"]);
        Assert.Equal("checkout", (string?)item["team"]);
        Assert.Equal("30d", (string?)item["window"]);
        Assert.Equal(1, (int?)item["deploymentFrequency"]!["count"]);
        Assert.Equal(1, (int?)item["leadTime"]!["samples"]);
        Assert.Equal(0, (int?)item["changeFailureRate"]!["total"] - 1);

        var week = JsonNode.Parse(await _http.GetStringAsync(new Uri(api, "/api/v1/namespaces/shop/projects/shop/metrics?window=7d")))!;
        Assert.Equal("7d", (string?)week["window"]);
        Assert.Equal(Math.Round(1 / 7.0, 3), (double?)week["deploymentFrequency"]!["perDay"]);

        using var bad = await _http.GetAsync(new Uri(api, "/api/v1/projects?window=7x"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        Assert.Contains("7d, 12h, 2w", await bad.Content.ReadAsStringAsync());

        using var missing = await _http.GetAsync(new Uri(api, "/api/v1/namespaces/shop/projects/nope/metrics"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(404, (int?)JsonNode.Parse(await missing.Content.ReadAsStringAsync())!["status"]);
    }

    [Fact]
    public async Task JsonApi_ComparePrevious_GivesTheWindowBefore_AndTheDeltas()
    {
        await ApplyProjectAsync();
        await ReleaseWebAsync();
        await Get("dora", "shop", p => (int?)Status(p, "deploymentFrequency.count") == 1, "the project to count web-1");
        // Two deployments recorded from outside the cluster 10 and 12 days ago: in the 7-day window before this one.
        foreach (var (name, daysAgo) in new[] { ("ci-old-1", 10), ("ci-old-2", 12) })
        {
            var at = DateTimeOffset.UtcNow.AddDays(-daysAgo).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
            await _kubectl.OkAsync("apply -f -", $"apiVersion: dora-operator.io/v1alpha1\nkind: DeploymentRecord\nmetadata: {{name: {name}}}\nspec: {{project: shop, workload: {{name: ci-app}}, revision: 1, source: api}}\n");
            var status = new JsonObject { ["status"] = new JsonObject { ["phase"] = "Succeeded", ["startedAt"] = at, ["deployedAt"] = at } };
            await _kubectl.OkAsync($"patch dr {name} --subresource=status --type merge -p '{status.ToJsonString()}'");
        }
        var api = _operator.HttpUrl!;
        var compared = await Eventually.Until(
            async () => JsonNode.Parse(await _http.GetStringAsync(new Uri(api, "/api/v1/namespaces/shop/projects/shop/metrics?window=7d&compare=previous")))!,
            m => (int?)m["previous"]?["deploymentFrequency"]?["count"] == 2, "the previous window to hold the two old deployments");
        Assert.Equal(1, (int?)compared["deploymentFrequency"]!["count"]);
        var end = DateTimeOffset.Parse((string)compared["windowStart"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(end, DateTimeOffset.Parse((string)compared["previous"]!["windowEnd"]!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(end.AddDays(-7), DateTimeOffset.Parse((string)compared["previous"]!["windowStart"]!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(Math.Round(1 / 7.0, 3) - Math.Round(2 / 7.0, 3), (double)compared["deltas"]!["deploymentsPerDay"]!, 6);
        var list = JsonNode.Parse(await _http.GetStringAsync(new Uri(api, "/api/v1/projects?window=7d&compare=previous")))!;
        Assert.NotNull(list["items"]![0]!["deltas"]);
        Assert.Null(JsonNode.Parse(await _http.GetStringAsync(new Uri(api, "/api/v1/projects")))!["items"]![0]!["previous"]);

        using var bad = await _http.GetAsync(new Uri(api, "/api/v1/projects?compare=lastyear"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("compare=previous", await bad.Content.ReadAsStringAsync());
    }
}
