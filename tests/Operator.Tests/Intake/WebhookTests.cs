using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using DoraOperator.Operator.Hosting;
using DoraOperator.Sandbox;
using DoraOperator.Testing;

namespace DoraOperator.Operator.Tests.Intake;

/// <summary>
/// Signed webhooks in each vendor's own payload format (hand-written fixtures), with a correct, a
/// wrong and a missing signature, against the operator in-process and the Sandbox.
/// </summary>
public sealed class WebhookTests : IAsyncLifetime
{
    private const string GitHubSecret = "gh-webhook-secret-1";
    private const string PagerDutySecret = "pd-webhook-secret-1";
    private OperatorOnSandbox _env = null!;
    private Kubectl _kubectl = null!;
    private OperatorHost _operator = null!;
    private HttpClient _http = null!;
    private string _secrets = null!;

    public async Task InitializeAsync()
    {
        _env = await OperatorOnSandbox.StartAsync();
        _kubectl = _env.Kubectl;
        await _kubectl.OkAsync("apply -f -", """
            apiVersion: dora-operator.io/v1alpha1
            kind: DoraProject
            metadata: {name: storefront}
            spec:
              selector: {matchLabels: {team: storefront}}
              sources:
                githubRepositories: [acme/storefront]
                pagerdutyServices: [PF9KMXH]
            ---
            apiVersion: dora-operator.io/v1alpha1
            kind: DoraProject
            metadata: {name: ledger}
            spec:
              selector: {matchLabels: {team: ledger}}
              sources:
                gitlabProjects: [payments/ledger]
                opsgenieTeams: [payments-oncall]
                jiraProjects: [PAY]
            """);
        _secrets = Directory.CreateTempSubdirectory("dora-webhooks-").FullName;
        // A rotation in progress: the old secret and the new one are both accepted.
        await File.WriteAllTextAsync(Path.Combine(_secrets, "github"), $"old-secret\n{GitHubSecret}\n");
        await File.WriteAllTextAsync(Path.Combine(_secrets, "pagerduty"), PagerDutySecret);
        await File.WriteAllTextAsync(Path.Combine(_secrets, "gitlab"), "gl-token-1");
        await File.WriteAllTextAsync(Path.Combine(_secrets, "opsgenie"), "og-token-1");
        await File.WriteAllTextAsync(Path.Combine(_secrets, "jira"), "jira-secret-1");
        _operator = await _env.StartOperatorAsync(_env.Options with
        {
            Intake = new() { Port = Ports.Unused(), Address = "127.0.0.1", WebhookSecretsDir = _secrets },
            MinStatusInterval = TimeSpan.FromMilliseconds(100),
        });
        _http = new HttpClient { BaseAddress = _operator.IntakeUrl };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _operator.DisposeAsync();
        await _env.DisposeAsync();
        Directory.Delete(_secrets, recursive: true);
    }

    private static string Fixture(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Intake", "Fixtures", name));

    private static string T(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private static string Hmac(string secret, string body) => Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body)));

    private async Task<(HttpStatusCode Status, JsonNode? Body)> Send(string path, string body, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        using var reply = await _http.SendAsync(request);
        var text = await reply.Content.ReadAsStringAsync();
        return (reply.StatusCode, text.StartsWith('{') ? JsonNode.Parse(text) : null);
    }

    private Task<(HttpStatusCode Status, JsonNode? Body)> GitHub(string kind, string body, string? signature = null) =>
        Send("/webhooks/github", body, ("X-GitHub-Event", kind), ("X-GitHub-Delivery", Guid.NewGuid().ToString()), ("X-Hub-Signature-256", signature ?? "sha256=" + Hmac(GitHubSecret, body)));

    private Task<(HttpStatusCode Status, JsonNode? Body)> PagerDuty(string body, string? signature = null) =>
        Send("/webhooks/pagerduty", body, ("X-PagerDuty-Signature", signature ?? $"v1={Hmac("rotated-away", body)},v1={Hmac(PagerDutySecret, body)}"));

    [Fact]
    public async Task GitHubDeploymentStatuses_BecomeRecords_AndForgedOrUnsignedDeliveriesWriteNothing()
    {
        var now = DateTimeOffset.UtcNow;
        string Body(string state) => Fixture("github-deployment_status.json").Replace("STATE", state, StringComparison.Ordinal)
            .Replace("STARTED_AT", T(now.AddMinutes(-6)), StringComparison.Ordinal).Replace("DEPLOYED_AT", T(now.AddMinutes(-2)), StringComparison.Ordinal)
            .Replace("COMMIT_TIME", T(now.AddHours(-3)), StringComparison.Ordinal);

        var forged = await GitHub("deployment_status", Body("success"), "sha256=" + Hmac("not-the-secret", Body("success")));
        Assert.Equal(HttpStatusCode.Unauthorized, forged.Status);
        Assert.Contains("X-Hub-Signature-256", (string?)forged.Body!["detail"], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send("/webhooks/github", Body("success"), ("X-GitHub-Event", "deployment_status"))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GitHub("deployment_status", Body("success"), "sha256=zz")).Status);
        Assert.Equal("No resources found in shop namespace.", (await _kubectl.RunAsync("get dr")).Stderr.Trim());

        Assert.Equal(HttpStatusCode.Created, (await GitHub("deployment_status", Body("in_progress"))).Status);
        var done = await GitHub("deployment_status", Body("success"));
        Assert.Equal(HttpStatusCode.OK, done.Status);
        Assert.Equal("updated", (string?)done.Body!["outcome"]);
        var record = await _kubectl.WaitForAsync($"dr {(string?)done.Body["name"]}", r => (string?)r["status"]?["phase"] == "Succeeded", "the GitHub deployment to be recorded");
        Assert.Equal("webhook", (string?)record["spec"]!["source"]);
        Assert.Equal("9f1c2e7a4b5d6c8e0f1a2b3c4d5e6f708192a3b4", (string?)record["spec"]!["commitSha"]);
        Assert.Equal(3 * 3600 - 120, (double)record["status"]!["leadTimeSeconds"]!, 3);
        Assert.Equal(240, (double)record["status"]!["durationSeconds"]!, 3);
        // A redelivery changes nothing; a ping is answered.
        Assert.Equal("unchanged", (string?)(await GitHub("deployment_status", Body("success"))).Body!["outcome"]);
        Assert.Equal(HttpStatusCode.OK, (await GitHub("ping", """{"zen":"Keep it logically awesome.","hook_id":1}""")).Status);
    }

    [Fact]
    public async Task GitHubIssuesLabelledIncident_OpenAndResolveIncidents()
    {
        var created = DateTimeOffset.UtcNow.AddHours(-2);
        var closed = created.AddMinutes(45);
        string Body(string action, string state, DateTimeOffset? closedAt) => Fixture("github-issues.json").Replace("ACTION", action, StringComparison.Ordinal)
            .Replace("STATE", state, StringComparison.Ordinal).Replace("CREATED_AT", T(created), StringComparison.Ordinal)
            .Replace("\"CLOSED_AT\"", $"\"{T(closedAt ?? created)}\"", StringComparison.Ordinal).Replace("CLOSED_OR_NULL", closedAt is { } c ? $"\"{T(c)}\"" : "null", StringComparison.Ordinal);
        var opened = await GitHub("issues", Body("opened", "open", null));
        Assert.Equal(HttpStatusCode.Created, opened.Status);
        var name = (string?)opened.Body!["name"];
        await _kubectl.WaitForAsync($"inc {name}", i => (string?)i["status"]?["phase"] == "Open", "the incident to open");
        Assert.Equal(HttpStatusCode.OK, (await GitHub("issues", Body("closed", "closed", closed))).Status);
        var incident = await _kubectl.WaitForAsync($"inc {name}", i => (string?)i["status"]?["phase"] == "Resolved", "the incident to resolve");
        Assert.Equal(45 * 60, (double)incident["status"]!["timeToRestoreSeconds"]!, 3);
        Assert.Equal("Checkout returns 500 for EU customers", (string?)incident["spec"]!["title"]);

        var unlabelled = Body("opened", "open", null).Replace("\"Incident\"", "\"question\"", StringComparison.Ordinal);
        var ignored = await GitHub("issues", unlabelled);
        Assert.Equal(HttpStatusCode.OK, ignored.Status);
        Assert.Contains("not labelled", (string?)ignored.Body!["note"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task PagerDutyIncidents_TriggerAcknowledgeResolve_WithRotatedSignatures()
    {
        var created = DateTimeOffset.UtcNow.AddMinutes(-90);
        string Body(string type, string status, DateTimeOffset occurred) => Fixture("pagerduty-incident.json").Replace("EVENT_ID", Guid.NewGuid().ToString(), StringComparison.Ordinal)
            .Replace("EVENT_TYPE", type, StringComparison.Ordinal).Replace("STATUS", status, StringComparison.Ordinal)
            .Replace("OCCURRED_AT", T(occurred), StringComparison.Ordinal).Replace("CREATED_AT", T(created), StringComparison.Ordinal);
        var triggered = Body("incident.triggered", "triggered", created);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PagerDuty(triggered, $"v1={Hmac("wrong", triggered)}")).Status);
        Assert.Equal(HttpStatusCode.Created, (await PagerDuty(triggered)).Status);
        Assert.Equal(HttpStatusCode.OK, (await PagerDuty(Body("incident.acknowledged", "acknowledged", created.AddMinutes(4)))).Status);
        var resolved = await PagerDuty(Body("incident.resolved", "resolved", created.AddMinutes(30)));
        Assert.Equal(HttpStatusCode.OK, resolved.Status);
        var incident = await _kubectl.WaitForAsync($"inc {(string?)resolved.Body!["name"]}", i => (string?)i["status"]?["phase"] == "Resolved", "the PagerDuty incident to resolve");
        Assert.Equal("high", (string?)incident["spec"]!["severity"]);
        Assert.Equal(T(created.AddMinutes(4)), (string?)incident["spec"]!["detectedAt"]);
        Assert.Equal(1800, (double)incident["status"]!["timeToRestoreSeconds"]!, 3);
        Assert.Equal("unchanged", (string?)(await PagerDuty(Body("incident.resolved", "resolved", created.AddMinutes(31)))).Body!["outcome"]);
    }

    [Fact]
    public async Task GitLabDeploymentsAndIncidents_WithTheSecretToken()
    {
        var at = DateTimeOffset.UtcNow.AddMinutes(-20);
        // GitLab writes "2021-04-28 21:50:00 +0200".
        string Gl(DateTimeOffset t) => t.ToOffset(TimeSpan.FromHours(2)).ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) + " +0200";
        string Deployment(string status, DateTimeOffset t) => Fixture("gitlab-deployment.json").Replace("STATUS", status, StringComparison.Ordinal).Replace("CHANGED_AT", Gl(t), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send("/webhooks/gitlab", Deployment("running", at), ("X-Gitlab-Token", "guess"))).Status);
        Assert.Equal(HttpStatusCode.Created, (await Send("/webhooks/gitlab", Deployment("running", at), ("X-Gitlab-Token", "gl-token-1"))).Status);
        var done = await Send("/webhooks/gitlab", Deployment("success", at.AddMinutes(3)), ("X-Gitlab-Token", "gl-token-1"));
        var record = await _kubectl.WaitForAsync($"dr {(string?)done.Body!["name"]}", r => (string?)r["status"]?["phase"] == "Succeeded", "the GitLab deployment");
        Assert.Equal(180, (double)record["status"]!["durationSeconds"]!, 3);
        Assert.Equal("ledger", (string?)record["spec"]!["project"]);

        string Issue(string state, string action, DateTimeOffset? closed) => Fixture("gitlab-incident.json").Replace("STATE", state, StringComparison.Ordinal).Replace("ACTION", action, StringComparison.Ordinal)
            .Replace("CREATED_AT", T(at), StringComparison.Ordinal).Replace("UPDATED_AT", T(closed ?? at), StringComparison.Ordinal)
            .Replace("CLOSED_AT", closed is { } c ? $"\"{Gl(c)}\"" : "null", StringComparison.Ordinal);
        var opened = await Send("/webhooks/gitlab", Issue("opened", "open", null), ("X-Gitlab-Token", "gl-token-1"));
        Assert.Equal(HttpStatusCode.Created, opened.Status);
        await Send("/webhooks/gitlab", Issue("closed", "close", at.AddMinutes(10)), ("X-Gitlab-Token", "gl-token-1"));
        var incident = await _kubectl.WaitForAsync($"inc {(string?)opened.Body!["name"]}", i => (string?)i["status"]?["phase"] == "Resolved", "the GitLab incident to resolve");
        Assert.Equal(600, (double)incident["status"]!["timeToRestoreSeconds"]!, 3);
    }

    [Fact]
    public async Task OpsgenieAlerts_CreateAcknowledgeClose_WithTheTokenHeader()
    {
        var created = DateTimeOffset.UtcNow.AddMinutes(-40);
        string Alert(string action, DateTimeOffset updated) => Fixture("opsgenie-alert.json").Replace("ACTION", action, StringComparison.Ordinal)
            .Replace("CREATED_MS", created.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("UPDATED_NS", (updated.ToUnixTimeMilliseconds() * 1_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send("/webhooks/opsgenie", Alert("Create", created))).Status);
        var opened = await Send("/webhooks/opsgenie", Alert("Create", created), ("X-Webhook-Token", "og-token-1"));
        Assert.Equal(HttpStatusCode.Created, opened.Status);
        await Send("/webhooks/opsgenie", Alert("Acknowledge", created.AddMinutes(2)), ("X-Webhook-Token", "og-token-1"));
        await Send("/webhooks/opsgenie", Alert("Close", created.AddMinutes(25)), ("X-Webhook-Token", "og-token-1"));
        var incident = await _kubectl.WaitForAsync($"inc {(string?)opened.Body!["name"]}", i => (string?)i["status"]?["phase"] == "Resolved", "the Opsgenie incident to resolve");
        Assert.Equal("high", (string?)incident["spec"]!["severity"]);
        Assert.Equal(25 * 60, (double)incident["status"]!["timeToRestoreSeconds"]!, 0);
    }

    [Fact]
    public async Task JiraIncidentIssues_CreatedAndResolved_WithASignature()
    {
        var created = DateTimeOffset.UtcNow.AddHours(-3);
        // Jira writes "2018-05-07T16:23:57.123+0200".
        string Jira(DateTimeOffset t) => t.ToOffset(TimeSpan.FromHours(2)).ToString("yyyy-MM-dd'T'HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture) + "+0200";
        string Issue(string evt, DateTimeOffset? resolved) => Fixture("jira-issue.json").Replace("EVENT", evt, StringComparison.Ordinal).Replace("STATUS_NAME", resolved is null ? "Open" : "Done", StringComparison.Ordinal)
            .Replace("\"CREATED\"", $"\"{Jira(created)}\"", StringComparison.Ordinal).Replace("RESOLVED", resolved is { } r ? $"\"{Jira(r)}\"" : "null", StringComparison.Ordinal);
        var body = Issue("jira:issue_created", null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send("/webhooks/jira", body, ("X-Hub-Signature", "sha256=" + Hmac("jira-wrong", body)))).Status);
        var opened = await Send("/webhooks/jira", body, ("X-Hub-Signature", "sha256=" + Hmac("jira-secret-1", body)));
        Assert.Equal(HttpStatusCode.Created, opened.Status);
        var done = Issue("jira:issue_updated", created.AddMinutes(70));
        Assert.Equal(HttpStatusCode.OK, (await Send("/webhooks/jira", done, ("X-Hub-Signature", "sha256=" + Hmac("jira-secret-1", done)))).Status);
        var incident = await _kubectl.WaitForAsync($"inc {(string?)opened.Body!["name"]}", i => (string?)i["status"]?["phase"] == "Resolved", "the Jira incident to resolve");
        Assert.Equal("PAY-57", (string?)incident["spec"]!["externalId"]);
        Assert.Equal(70 * 60, (double)incident["status"]!["timeToRestoreSeconds"]!, 0);
    }

    [Fact]
    public async Task ASourceClaimedByTwoProjects_BelongsToTheOlder_AndTheYoungerSaysSo()
    {
        await _kubectl.OkAsync("create namespace marketing");
        using var marketing = new Kubectl(_kubectl.KubeconfigPath, "marketing");
        await marketing.OkAsync("apply -f -", """
            apiVersion: dora-operator.io/v1alpha1
            kind: DoraProject
            metadata: {name: website}
            spec:
              selector: {matchLabels: {team: site}}
              sources: {githubRepositories: [ACME/storefront, acme/site]}
            """);
        // Created within the same second as storefront or later; on a tie the name decides, and "storefront" < "website".
        var site = await marketing.WaitForAsync("dora website", p => p["status"]?["conditions"]?.AsArray().Any(c => (string?)c!["reason"] == "SourceConflict") == true, "the younger project to report the conflict");
        var ready = site["status"]!["conditions"]!.AsArray().Single(c => (string?)c!["type"] == "Ready")!;
        Assert.Equal("False", (string?)ready["status"]);
        Assert.Contains("githubRepositories ACME/storefront is also listed by the older DoraProject shop/storefront", (string?)ready["message"], StringComparison.Ordinal);
        var storefront = await _kubectl.WaitForAsync("dora storefront", p => p["status"]?["conditions"] is not null, "the older project's status");
        Assert.DoesNotContain("SourceConflict", storefront.ToJsonString(), StringComparison.Ordinal);

        var body = Fixture("github-issues.json").Replace("ACTION", "opened", StringComparison.Ordinal).Replace("STATE", "open", StringComparison.Ordinal)
            .Replace("CREATED_AT", T(DateTimeOffset.UtcNow.AddMinutes(-5)), StringComparison.Ordinal).Replace("\"CLOSED_AT\"", "null", StringComparison.Ordinal).Replace("CLOSED_OR_NULL", "null", StringComparison.Ordinal);
        var opened = await GitHub("issues", body);
        Assert.Equal("shop", (string?)opened.Body!["namespace"]);
    }
}
