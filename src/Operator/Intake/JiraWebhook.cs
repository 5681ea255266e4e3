using System.Text.Json.Nodes;
using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Kube.Meta;
using DoraOperator.Operator.Http;
using Microsoft.AspNetCore.Http;

namespace DoraOperator.Operator.Intake;

/// <summary>
/// <c>POST /webhooks/jira</c>: Jira's issue webhooks (<c>jira:issue_created</c>, <c>jira:issue_updated</c>),
/// signed with the webhook secret in <c>X-Hub-Signature</c> (<c>sha256=</c> HMAC of the body). Issues
/// of type Incident, or labelled <c>incident</c>, become Incidents: created starts one, a resolution
/// date resolves it. The issue's project key routes to the project listing it in <c>spec.sources.jiraProjects</c>.
/// </summary>
internal sealed class JiraWebhook(WebhookContext web) : SignedWebhook(web, "jira")
{
    protected override void Authenticate(HttpContext context, byte[] raw)
    {
        var signature = context.Request.Headers["X-Hub-Signature"].ToString();
        if (!signature.StartsWith("sha256=", StringComparison.Ordinal) || !Secrets.HmacMatches("jira", raw, [signature[7..]]))
            throw Unauthenticated("X-Hub-Signature is missing or does not match the body under the Jira webhook secret");
    }

    protected override async Task<IResult> HandleAsync(HttpContext context, JsonObject json)
    {
        var body = new Payload(json);
        var kind = body.String("webhookEvent", required: true);
        if (kind is not ("jira:issue_created" or "jira:issue_updated")) return WebhookReplies.Ack($"event {kind} is not used");
        var issue = new Payload(body.Body["issue"] as JsonObject ?? throw Payload.Bad("issue", "field \"issue\" is required"));
        var fields = new Payload(issue.Body["fields"] as JsonObject ?? throw Payload.Bad("issue.fields", "field \"issue.fields\" is required"));
        var type = (string?)fields.Body["issuetype"]?["name"];
        var labels = (fields.Body["labels"] as JsonArray ?? []).Select(l => (string?)l).ToList();
        if (!string.Equals(type, "Incident", StringComparison.OrdinalIgnoreCase) && !labels.Contains("incident", StringComparer.OrdinalIgnoreCase)) return WebhookReplies.Ack("the issue is neither of type Incident nor labelled incident");
        var key = issue.String("key", required: true)!;
        var projectKey = (string?)fields.Body["project"]?["key"] ?? key.Split('-')[0];
        if (Route(s => s.JiraProjects, projectKey) is not { } project) return Unclaimed("jiraProjects", projectKey);
        var incident = IntakeStore.NewIncident(project, ObjectNames.External("jira", key), new IncidentSpec
            {
                Title = fields.String("summary", maxLength: 1024), StartedAt = fields.Time("created", required: true),
                ResolvedAt = fields.Time("resolutiondate"), Source = "jira", ExternalId = key,
            });
        var (saved, outcome) = await Store.UpsertIncidentAsync(incident, context.RequestAborted);
        return WebhookReplies.Written(saved.Metadata, outcome);
    }
}
