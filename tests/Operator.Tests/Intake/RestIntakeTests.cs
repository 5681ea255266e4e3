using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using DoraOperator.Operator.Hosting;
using DoraOperator.Sandbox;
using DoraOperator.Sandbox.Security;
using DoraOperator.Testing;

namespace DoraOperator.Operator.Tests.Intake;

/// <summary>
/// The HTTP intake as a CI job uses it: curl-like requests with a ServiceAccount token against the
/// operator in-process, the Sandbox in RBAC mode answering TokenReview and SubjectAccessReview.
/// </summary>
public sealed class RestIntakeTests : IAsyncLifetime
{
    private OperatorOnSandbox _env = null!;
    private SandboxApiServer _server = null!;
    private Kubectl _kubectl = null!;
    private OperatorHost _operator = null!;
    private HttpClient _http = null!;
    private string _ciToken = null!;
    private string _strangerToken = null!;
    private string _credentials = null!;

    public async Task InitializeAsync()
    {
        _env = await OperatorOnSandbox.StartAsync(AuthorizationMode.Rbac);
        (_server, _kubectl) = (_env.Server, _env.Kubectl);
        await _kubectl.OkAsync("apply -f -", """
            apiVersion: dora-operator.io/v1alpha1
            kind: DoraProject
            metadata: {name: shop}
            spec:
              team: checkout
              selector: {matchLabels: {team: shop}}
              sources: {names: [shop-api, checkout-svc]}
            """);
        // The CI pipeline's ServiceAccount may create records and incidents in "shop", as kubectl would need.
        await _kubectl.OkAsync("create role intake --verb=create,list --resource=deploymentrecords.dora-operator.io,incidents.dora-operator.io");
        await _kubectl.OkAsync("create rolebinding ci-intake --role=intake --serviceaccount=shop:ci");
        _ciToken = _server.AddServiceAccountToken("shop", "ci");
        _strangerToken = _server.AddServiceAccountToken("shop", "stranger");
        _credentials = Path.GetTempFileName();
        await File.WriteAllTextAsync(_credentials, "# tools without a Kubernetes token\ntoken jenkins jk-5ecret shop\nbasic deploybot b0t-pass shop,other\ntoken elsewhere el-5ecret other\n");
        _operator = await _env.StartOperatorAsync(_env.Options with
        {
            Intake = new() { Port = Ports.Unused(), Address = "127.0.0.1", StaticCredentialsFile = _credentials },
            MinStatusInterval = TimeSpan.FromMilliseconds(100),
        });
        _http = new HttpClient { BaseAddress = _operator.IntakeUrl };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _operator.DisposeAsync();
        await _env.DisposeAsync();
        File.Delete(_credentials);
    }

    private async Task<(HttpStatusCode Status, JsonNode? Body, HttpResponseMessage Reply)> Post(string path, string json, string? token = "ci", string contentType = "application/json", HttpClient? via = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token == "ci" ? _ciToken : token);
        var reply = await (via ?? _http).SendAsync(request);
        var text = await reply.Content.ReadAsStringAsync();
        return (reply.StatusCode, text.Length > 0 && text[0] is '{' or '[' ? JsonNode.Parse(text) : null, reply);
    }

    private Task<JsonObject> Record(string name, Func<JsonObject, bool> ready, string what) => _kubectl.WaitForAsync($"dr {name}", ready, what);

    private static string T(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private int Patches() => _server.Audit.Where(a => a.Key.Resource == "deploymentrecords" && a.Key.Verb is "update" or "patch").Sum(a => a.Value);

    private int Writes(string resource) => _server.Audit.Where(a => a.Key.Resource == resource && a.Key.Verb is "create" or "update" or "patch").Sum(a => a.Value);

    [Fact]
    public async Task EmMetricsTwoStep_GivesARecordWithLeadTimeAndDuration_AndReplaysChangeNothing()
    {
        var now = DateTimeOffset.UtcNow;
        var (firstCommit, start, deployed) = (now.AddHours(-5), now.AddMinutes(-10), now.AddMinutes(-4));
        var startBody = $$"""{"id":"build-981","project_id":"shop/shop","first_commit_at":"{{T(firstCommit)}}","deploy_start_at":"{{T(start)}}"}""";
        var started = await Post("/deployments", startBody);
        Assert.Equal(HttpStatusCode.Created, started.Status);
        Assert.Equal("Progressing", (string?)started.Body!["phase"]);
        await Record("api-build-981", r => (string?)r["status"]?["startedAt"] == T(start), "the started record");

        var deployedBody = $$"""{"deployed_at":"{{T(deployed)}}"}""";
        var done = await Post("/deployments/build-981/deployed", deployedBody);
        Assert.Equal(HttpStatusCode.OK, done.Status);
        var record = await Record("api-build-981", r => (string?)r["status"]?["phase"] == "Succeeded", "the record to be deployed");
        Assert.Equal("api", (string?)record["spec"]!["source"]);
        Assert.Equal((deployed - firstCommit).TotalSeconds, (double)record["status"]!["leadTimeSeconds"]!, 3);
        Assert.Equal((deployed - start).TotalSeconds, (double)record["status"]!["durationSeconds"]!, 3);

        var patches = Patches();
        var rv = (string?)record["metadata"]!["resourceVersion"];
        Assert.Equal(HttpStatusCode.OK, (await Post("/deployments", startBody)).Status);
        Assert.Equal(HttpStatusCode.OK, (await Post("/deployments/build-981/deployed", deployedBody)).Status);
        Assert.Equal(patches, Patches());
        var after = JsonNode.Parse(await _kubectl.OkAsync("get dr api-build-981 -o json"))!;
        Assert.Equal(rv, (string?)after["metadata"]!["resourceVersion"]);

        // A different outcome for the same id is refused and changes nothing.
        var conflict = await Post("/deployments/build-981/deployed", $$"""{"deployed_at":"{{T(now.AddMinutes(-1))}}"}""");
        Assert.Equal(HttpStatusCode.Conflict, conflict.Status);
        Assert.Contains("already recorded as Succeeded", (string?)conflict.Body!["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmMetricsOneStep_AndTheCiShape_AreRecordedAndCountOnTheProject()
    {
        var now = DateTimeOffset.UtcNow;
        var one = await Post("/deployments/rel-7/deployed", $$"""{"create_if_not_exists":true,"project_id":"shop-api","first_commit_at":"{{T(now.AddHours(-2))}}","deployed_at":"{{T(now.AddMinutes(-1))}}"}""");
        Assert.Equal(HttpStatusCode.Created, one.Status);
        Assert.Equal(7140, (double)one.Body!["lead_time_seconds"]!, 3);

        var ci = await Post("/deployments", $$"""{"service":"checkout-svc","environment":"production","commit_sha":"4f2a9c1","commit_timestamp":"{{T(now.AddHours(-1))}}","deployed_at":"{{T(now.AddMinutes(-2))}}","status":"success"}""");
        Assert.Equal(HttpStatusCode.Created, ci.Status);
        var failed = await Post("/deployments", $$"""{"service":"checkout-svc","commit_sha":"5b3c","deployed_at":"{{T(now.AddMinutes(-1))}}","status":"failure"}""");
        Assert.Equal(HttpStatusCode.Created, failed.Status);
        Assert.Equal("Failed", (string?)failed.Body!["phase"]);

        var project = await _kubectl.WaitForAsync("dora shop", p => (int?)p["status"]?["deploymentFrequency"]?["count"] == 2 && (int?)p["status"]?["changeFailureRate"]?["count"] == 1, "the project to count two deployments and one failed change");
        Assert.Equal(2, (int)project["status"]!["leadTime"]!["samples"]!);
        Assert.Equal((7140 + 3480) / 2.0, (double)project["status"]!["leadTime"]!["medianSeconds"]!, 3);
    }

    [Fact]
    public async Task ABodyRefusedBeforeItIsRead_StillGetsIts413_WhileTheSenderIsWriting()
    {
        // The 413 is answered from the declared length, before the body is read; the sender is still writing
        // when it comes. Each post on a fresh connection, three at a time: every one must read the answer.
        var body = "{\"id\":\"" + new string('x', 1_100_000) + "\"}";
        await Task.WhenAll(Enumerable.Range(0, 3).Select(async _ =>
        {
            for (var i = 0; i < 25; i++)
            {
                using var http = new HttpClient { BaseAddress = _operator.IntakeUrl };
                var (status, problem, _) = await Post("/deployments", body, via: http);
                Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
                Assert.Contains("larger than", (string?)problem!["detail"], StringComparison.Ordinal);
            }
        }));
    }

    [Fact]
    public async Task EveryBadInput_GetsItsStatusAndABodyNamingTheProblem_AndWritesNothing()
    {
        var now = DateTimeOffset.UtcNow;
        var creates = Writes("deploymentrecords");
        async Task Expect(HttpStatusCode status, string path, string json, string mention, string? token = "ci", string contentType = "application/json")
        {
            var (code, body, reply) = await Post(path, json, token, contentType);
            Assert.Equal(status, code);
            Assert.Equal("application/problem+json", reply.Content.Headers.ContentType?.MediaType);
            Assert.Contains(mention, $"{(string?)body!["title"]}: {(string?)body["detail"]}", StringComparison.Ordinal);
        }
        await Expect(HttpStatusCode.RequestEntityTooLarge, "/deployments", "{\"id\":\"" + new string('x', 1_100_000) + "\"}", "larger than");
        await Expect(HttpStatusCode.UnsupportedMediaType, "/deployments", "id=1", "must be JSON", contentType: "application/x-www-form-urlencoded");
        await Expect(HttpStatusCode.UnsupportedMediaType, "/deployments", "{not json", "could not be parsed as JSON");
        await Expect(HttpStatusCode.BadRequest, "/deployments", """{"project_id":"shop/shop"}""", "\"id\" is required");
        await Expect(HttpStatusCode.BadRequest, "/deployments", """{"id":"a","project_id":"shop/shop","deployed":"x"}""", "unknown field");
        await Expect(HttpStatusCode.BadRequest, "/deployments", """{"id":"a","project_id":"shop/shop","deployed_at":"yesterday"}""", "deployed_at");
        await Expect(HttpStatusCode.BadRequest, "/deployments", """{"sha":"abc"}""", "service, environment, commit_sha");
        await Expect((HttpStatusCode)422, "/deployments", $$"""{"id":"a","project_id":"shop/shop","deployed_at":"{{T(now.AddDays(1))}}"}""", "in the future");
        await Expect((HttpStatusCode)422, "/deployments", $$"""{"id":"a","project_id":"shop/shop","first_commit_at":"{{T(now.AddMinutes(-1))}}","deployed_at":"{{T(now.AddMinutes(-30))}}"}""", "before the commit");
        await Expect(HttpStatusCode.NotFound, "/deployments", """{"id":"a","project_id":"nobody"}""", "\"nobody\"");
        await Expect(HttpStatusCode.Unauthorized, "/deployments", """{"id":"a","project_id":"shop/shop"}""", "bearer token", token: null);
        await Expect(HttpStatusCode.Unauthorized, "/deployments", """{"id":"a","project_id":"shop/shop"}""", "not accepted", token: "forged");
        await Expect(HttpStatusCode.Forbidden, "/deployments", """{"id":"a","project_id":"shop/shop"}""", "not allowed", token: _strangerToken);
        Assert.Equal(creates, Writes("deploymentrecords"));
        Assert.Equal("No resources found in shop namespace.", (await _kubectl.RunAsync("get dr")).Stderr.Trim());
    }

    [Fact]
    public async Task Incidents_OpenedLinkedRestoredAndListed_ChangeTheProjectsFailureRateAndRecovery()
    {
        var now = DateTimeOffset.UtcNow;
        await Post("/deployments/rel-1/deployed", $$"""{"create_if_not_exists":true,"project_id":"shop/shop","first_commit_at":"{{T(now.AddHours(-3))}}","deployed_at":"{{T(now.AddHours(-2))}}"}""");
        await Post("/deployments/rel-2/deployed", $$"""{"create_if_not_exists":true,"project_id":"shop/shop","first_commit_at":"{{T(now.AddHours(-2))}}","deployed_at":"{{T(now.AddHours(-1))}}"}""");
        var opened = await Post("/incidents", $$"""{"id":"INC-12","project_id":"shop/shop","deployment_id":"rel-2","started_at":"{{T(now.AddMinutes(-50))}}"}""");
        Assert.Equal(HttpStatusCode.Created, opened.Status);
        var incident = await Eventually.Until(async () => JsonNode.Parse(await _kubectl.OkAsync("get inc -o json"))!["items"]!.AsArray().FirstOrDefault(),
            i => i?["status"]?["linkedDeployment"] is not null, "the incident to link to rel-2");
        Assert.Equal("api-rel-2", (string?)incident!["status"]!["linkedDeployment"]);
        Assert.Equal("INC-12", (string?)incident!["spec"]!["externalId"]);

        using (var request = new HttpRequestMessage(HttpMethod.Get, "/incidents?type=in-progress"))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _ciToken);
            var listed = JsonNode.Parse(await (await _http.SendAsync(request)).Content.ReadAsStringAsync())!.AsArray();
            Assert.Equal(["INC-12"], listed.Select(i => (string?)i!["id"]));
        }
        var restored = await Post("/incidents/INC-12/restored", $$"""{"date":"{{T(now.AddMinutes(-20))}}"}""");
        Assert.Equal(HttpStatusCode.OK, restored.Status);
        Assert.Equal(HttpStatusCode.OK, (await Post("/incidents/INC-12/restored", $$"""{"date":"{{T(now.AddMinutes(-5))}}"}""")).Status);
        var project = await _kubectl.WaitForAsync("dora shop", p => (int?)p["status"]?["changeFailureRate"]?["count"] == 1 && p["status"]?["recoveryTime"]?["medianSeconds"] is not null, "the failure and its recovery on the project");
        Assert.Equal(2, (int)project["status"]!["changeFailureRate"]!["total"]!);
        Assert.Equal(1800, (double)project["status"]!["recoveryTime"]!["medianSeconds"]!, 3); // the first restore time stays
    }

    [Fact]
    public async Task AlertmanagerPayloads_OpenRestoreAndRepeat_AndUnroutedAlertsAreCounted()
    {
        var startsAt = DateTimeOffset.UtcNow.AddMinutes(-30);
        var firing = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Intake", "Fixtures", "alertmanager-firing.json"))
            .Replace("STARTS_AT", startsAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        var first = await Post("/webhooks/alertmanager", firing);
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(1, (int)first.Body!["unrouted"]!);
        Assert.Equal("created", (string?)first.Body["incidents"]![0]!["outcome"]);
        var repeat = await Post("/webhooks/alertmanager", firing);
        Assert.Equal("unchanged", (string?)repeat.Body!["incidents"]![0]!["outcome"]);

        var incident = JsonNode.Parse(await _kubectl.OkAsync("get inc -o json"))!["items"]!.AsArray().Single()!;
        Assert.Equal("medium", (string?)incident["spec"]!["severity"]);
        Assert.Equal("p99 checkout latency above 2 s", (string?)incident["spec"]!["title"]);
        Assert.Equal(T(startsAt).TrimEnd('Z') + ".123456Z", (string?)incident["spec"]!["startedAt"]); // nanoseconds in, microseconds kept

        var endsAt = startsAt.AddMinutes(12);
        var resolved = JsonNode.Parse(firing)!.AsObject();
        resolved["status"] = "resolved";
        foreach (var alert in resolved["alerts"]!.AsArray())
        {
            alert!["status"] = "resolved";
            alert["endsAt"] = T(endsAt);
        }
        var restore = await Post("/webhooks/alertmanager", resolved.ToJsonString());
        Assert.Equal("updated", (string?)restore.Body!["incidents"]![0]!["outcome"]);
        await _kubectl.WaitForAsync($"inc {(string?)incident["metadata"]!["name"]}", i => (string?)i["status"]?["phase"] == "Restored", "the incident to be restored");
        Assert.Equal("unchanged", (string?)(await Post("/webhooks/alertmanager", resolved.ToJsonString())).Body!["incidents"]![0]!["outcome"]);

        using var http = new HttpClient { BaseAddress = _operator.HttpUrl };
        var metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains("dora_operator_intake_unrouted_total{source=\"alertmanager\"} 4", metrics, StringComparison.Ordinal);

        resolved["version"] = "3";
        var old = await Post("/webhooks/alertmanager", resolved.ToJsonString());
        Assert.Equal(HttpStatusCode.BadRequest, old.Status);
        Assert.Contains("version 4", (string?)old.Body!["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task DoraExampleEvents_ARollbackFailsThePreviousDeployment_AndIncidentsUpsert()
    {
        var now = DateTimeOffset.UtcNow;
        var first = await Post("/events/deployment", $$"""{"service":"checkout-svc","environment":"production","commit_sha":"aaa1","commit_timestamp":"{{T(now.AddHours(-4))}}","deployed_at":"{{T(now.AddHours(-3))}}","is_rollback":false,"is_hotfix":false}""");
        Assert.Equal(HttpStatusCode.Created, first.Status);
        var bad = await Post("/events/deployment", $$"""{"service":"checkout-svc","commit_sha":"bbb2","commit_timestamp":"{{T(now.AddHours(-2.5))}}","deployed_at":"{{T(now.AddHours(-2))}}"}""");
        var rollback = await Post("/events/deployment", $$"""{"service":"checkout-svc","commit_sha":"aaa1","deployed_at":"{{T(now.AddHours(-1))}}","is_rollback":true}""");
        Assert.Equal(HttpStatusCode.Created, rollback.Status);
        Assert.Null(rollback.Body!["lead_time_seconds"]);
        var rolledBack = await Record((string)bad.Body!["name"]!, r => (string?)r["status"]?["phase"] == "RolledBack", "the previous deployment to be rolled back");
        Assert.Equal((string?)rollback.Body["name"], (string?)rolledBack["status"]!["rolledBackBy"]);
        var project = await _kubectl.WaitForAsync("dora shop", p => (int?)p["status"]?["changeFailureRate"]?["count"] == 1 && (int?)p["status"]?["deploymentFrequency"]?["count"] == 3, "one failed change in three deployments");
        Assert.Equal(3600, (double)project["status"]!["recoveryTime"]!["medianSeconds"]!, 3);

        var incident = $$"""{"incident_id":"sev-77","service":"shop-api","severity":"SEV2","detected_at":"{{T(now.AddMinutes(-30))}}"}""";
        Assert.Equal(HttpStatusCode.Created, (await Post("/events/incident", incident)).Status);
        Assert.Equal(HttpStatusCode.OK, (await Post("/events/incident", incident)).Status);
        var resolved = await Post("/events/incident", $$"""{"incident_id":"sev-77","service":"shop-api","detected_at":"{{T(now.AddMinutes(-30))}}","resolved_at":"{{T(now.AddMinutes(-10))}}"}""");
        var inc = await _kubectl.WaitForAsync($"inc {(string?)resolved.Body!["name"]}", i => (string?)i["status"]?["phase"] == "Resolved", "the event incident to resolve");
        Assert.Equal("high", (string?)inc["spec"]!["severity"]);
        Assert.Equal(1200, (double)inc["status"]!["timeToRestoreSeconds"]!, 3);
        Assert.Equal(HttpStatusCode.BadRequest, (await Post("/events/incident", """{"incident_id":"x","service":"shop-api","severity":"urgent"}""")).Status);
    }

    [Fact]
    public async Task AClientOverItsRate_Gets429WithRetryAfter()
    {
        // Batches of 10 at once drain the bucket (burst 100, 50 a second) faster than it refills,
        // however slow one request is on a busy machine.
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var batch = 0; batch < 100 && limited is null; batch++)
        {
            var replies = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, "/incidents");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _ciToken);
                return _http.SendAsync(request);
            }));
            foreach (var reply in replies)
            {
                statuses.Add(reply.StatusCode);
                if (reply.StatusCode == HttpStatusCode.TooManyRequests && limited is null) limited = reply;
                else reply.Dispose();
            }
        }
        Assert.NotNull(limited);
        Assert.True(statuses.Count(s => s == HttpStatusCode.OK) >= 100, $"the burst of 100 is served first ({statuses.Count(s => s == HttpStatusCode.OK)} were)");
        Assert.True(limited!.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Contains("requests a second", await limited.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        limited.Dispose();
    }

    [Fact]
    public async Task StaticTokensAndBasicUsers_WriteOnlyInTheirNamespaces()
    {
        var body = """{"create_if_not_exists":true,"project_id":"shop/shop"}""";
        Assert.Equal(HttpStatusCode.Created, (await Post("/deployments/j-1/deployed", body, "jk-5ecret")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Post("/deployments/j-2/deployed", body, "el-5ecret")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Post("/deployments/j-3/deployed", body, "jk-5ecreT")).Status);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/deployments/j-4/deployed") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("deploybot:b0t-pass")));
        using var reply = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, reply.StatusCode);
        Assert.Equal(["api-j-1", "api-j-4"], (await _kubectl.OkAsync("get dr -o name")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(n => n.Split('/')[1]).Order());
    }

    [Fact]
    public async Task IdenticalDeliveriesAtOnce_MakeOneRecord()
    {
        var body = $$"""{"id":"burst-1","project_id":"shop/shop","first_commit_at":"{{T(DateTimeOffset.UtcNow.AddHours(-1))}}","deployed_at":"{{T(DateTimeOffset.UtcNow.AddMinutes(-1))}}"}""";
        var replies = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Post("/deployments", body)));
        Assert.All(replies, r => Assert.True(r.Status is HttpStatusCode.Created or HttpStatusCode.OK, $"{r.Status}: {r.Body?.ToJsonString()}"));
        Assert.Single(replies, r => r.Status == HttpStatusCode.Created);
        var record = await Record("api-burst-1", r => (string?)r["status"]?["phase"] == "Succeeded", "the one record");
        Assert.Equal(3540, (double)record["status"]!["leadTimeSeconds"]!, 3);
        Assert.Single((await _kubectl.OkAsync("get dr -o name")).Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
