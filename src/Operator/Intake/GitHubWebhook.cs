using System.Text.Json.Nodes;
using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Kube.Meta;
using DoraOperator.Operator.Http;
using Microsoft.AspNetCore.Http;

namespace DoraOperator.Operator.Intake;

/// <summary>
/// <c>POST /webhooks/github</c>, signed with <c>X-Hub-Signature-256</c> (HMAC-SHA256 of the body under
/// the shared secret). <c>deployment_status</c> events become DeploymentRecords (success: deployed;
/// failure or error: failed; the others: started), <c>issues</c> labelled <c>incident</c> become
/// Incidents (opened, closed: resolved), the Four Keys convention. The repository routes to the
/// project listing it in <c>spec.sources.githubRepositories</c>.
/// </summary>
internal sealed class GitHubWebhook(WebhookContext web) : SignedWebhook(web, "github")
{
    public const string IncidentLabel = "incident";

    protected override void Authenticate(HttpContext context, byte[] raw)
    {
        var signature = context.Request.Headers["X-Hub-Signature-256"].ToString();
        if (!signature.StartsWith("sha256=", StringComparison.Ordinal) || !Secrets.HmacMatches("github", raw, [signature[7..]]))
            throw Unauthenticated("X-Hub-Signature-256 is missing or does not match the body under the GitHub webhook secret");
    }

    protected override async Task<IResult> HandleAsync(HttpContext context, JsonObject body)
    {
        var kind = context.Request.Headers["X-GitHub-Event"].ToString();
        if (kind == "ping") return WebhookReplies.Ack("pong");
        var repository = (string?)body["repository"]?["full_name"] ?? throw Payload.Bad("repository.full_name", "field \"repository.full_name\" is required");
        if (kind is not ("deployment_status" or "issues")) return WebhookReplies.Ack($"event {kind} is not used");
        if (Route(s => s.GithubRepositories, repository) is not { } project) return Unclaimed("githubRepositories", repository);
        return kind == "deployment_status" ? await DeploymentAsync(body, repository, project, context.RequestAborted) : await IssueAsync(body, repository, project, context.RequestAborted);
    }

    private async Task<IResult> DeploymentAsync(JsonObject body, string repository, DoraProject project, CancellationToken cancellationToken)
    {
        var deployment = new Payload(body["deployment"] as JsonObject ?? throw Payload.Bad("deployment", "field \"deployment\" is required"));
        var status = new Payload(body["deployment_status"] as JsonObject ?? throw Payload.Bad("deployment_status", "field \"deployment_status\" is required"));
        var id = $"{repository}/{deployment.String("id", required: true)}";
        var state = status.String("state", required: true);
        var at = status.Time("created_at", required: true)!.Value;
        // CI may put commit times in the deployment's payload (GitHub carries none of its own).
        var custom = deployment.Body["payload"] is JsonObject p ? new Payload(p) : new Payload([]);
        var facts = new DeploymentFacts(
            ObjectNames.External("github", id), project, Sources.Webhook, repository.Split('/')[^1], deployment.String("environment", maxLength: 63), deployment.String("sha", maxLength: 128),
            custom.Time("commit_time"), custom.Time("first_commit_time"), deployment.Time("created_at"),
            state == "success" ? at : null, state is "failure" or "error" ? at : null, null, id);
        var (record, outcome) = await Store.UpsertRecordAsync(IntakeStore.Desired(facts), cancellationToken);
        return WebhookReplies.Written(record.Metadata, outcome);
    }

    private async Task<IResult> IssueAsync(JsonObject body, string repository, DoraProject project, CancellationToken cancellationToken)
    {
        var issue = new Payload(body["issue"] as JsonObject ?? throw Payload.Bad("issue", "field \"issue\" is required"));
        var labels = issue.Body["labels"] as JsonArray ?? [];
        if (!labels.Any(l => string.Equals((string?)l?["name"], IncidentLabel, StringComparison.OrdinalIgnoreCase))) return WebhookReplies.Ack("the issue is not labelled incident");
        var id = $"{repository}#{issue.String("number", required: true)}";
        var closed = issue.Time("closed_at");
        var incident = IntakeStore.NewIncident(project, ObjectNames.External("github", id), new IncidentSpec
            {
                Title = issue.String("title", maxLength: 1024), StartedAt = issue.Time("created_at", required: true),
                ResolvedAt = (string?)issue.Body["state"] == "closed" ? closed : null, Source = "github", ExternalId = id,
            });
        var (saved, outcome) = await Store.UpsertIncidentAsync(incident, cancellationToken);
        return WebhookReplies.Written(saved.Metadata, outcome);
    }

}
