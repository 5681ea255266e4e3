using System.Text.Json.Nodes;
using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Kube.Meta;
using DoraOperator.Operator.Http;
using Microsoft.AspNetCore.Http;

namespace DoraOperator.Operator.Intake;

/// <summary>
/// <c>POST /webhooks/gitlab</c>, authenticated by <c>X-Gitlab-Token</c> (the webhook's secret token).
/// Deployment events become DeploymentRecords (success: deployed; failed or canceled: failed;
/// running: started); Issue events of issue type incident become Incidents (closed: resolved). The
/// project's <c>path_with_namespace</c> routes to the DoraProject listing it in <c>spec.sources.gitlabProjects</c>.
/// </summary>
internal sealed class GitLabWebhook(WebhookContext web) : SignedWebhook(web, "gitlab")
{
    protected override void Authenticate(HttpContext context, byte[] raw)
    {
        if (!Secrets.TokenMatches("gitlab", context.Request.Headers["X-Gitlab-Token"].ToString()))
            throw Unauthenticated("X-Gitlab-Token is missing or is not the GitLab webhook secret");
    }

    protected override async Task<IResult> HandleAsync(HttpContext context, JsonObject body)
    {
        var kind = (string?)body["object_kind"];
        if (kind is not ("deployment" or "issue")) return WebhookReplies.Ack($"object_kind {kind} is not used");
        var path = (string?)body["project"]?["path_with_namespace"] ?? throw Payload.Bad("project.path_with_namespace", "field \"project.path_with_namespace\" is required");
        if (Route(s => s.GitlabProjects, path) is not { } project) return Unclaimed("gitlabProjects", path);
        return kind == "deployment" ? await DeploymentAsync(new Payload(body), path, project, context.RequestAborted) : await IssueAsync(body, path, project, context.RequestAborted);
    }

    private async Task<IResult> DeploymentAsync(Payload body, string path, DoraProject project, CancellationToken cancellationToken)
    {
        var id = $"{path}/{body.String("deployment_id", required: true)}";
        var status = body.String("status", required: true);
        var at = body.Time("status_changed_at", required: true)!.Value;
        if (status is not ("success" or "failed" or "canceled" or "running")) return WebhookReplies.Ack($"deployment status {status} is not used");
        var facts = new DeploymentFacts(ObjectNames.External("gitlab", id), project, Sources.Webhook, path.Split('/')[^1], body.String("environment", maxLength: 63),
            body.String("short_sha", maxLength: 128), null, null, status == "running" ? at : null,
            status == "success" ? at : null, status is "failed" or "canceled" ? at : null, null, id);
        var (record, outcome) = await Store.UpsertRecordAsync(IntakeStore.Desired(facts), cancellationToken);
        return WebhookReplies.Written(record.Metadata, outcome);
    }

    private async Task<IResult> IssueAsync(JsonObject body, string path, DoraProject project, CancellationToken cancellationToken)
    {
        var issue = new Payload(body["object_attributes"] as JsonObject ?? throw Payload.Bad("object_attributes", "field \"object_attributes\" is required"));
        if (!string.Equals(issue.String("issue_type") ?? issue.String("type"), "incident", StringComparison.OrdinalIgnoreCase)) return WebhookReplies.Ack("the issue is not of type incident");
        var id = $"{path}#{issue.String("iid", required: true)}";
        var incident = IntakeStore.NewIncident(project, ObjectNames.External("gitlab", id), new IncidentSpec
            {
                Title = issue.String("title", maxLength: 1024), StartedAt = issue.Time("created_at", required: true),
                ResolvedAt = issue.String("state") == "closed" ? issue.Time("closed_at") ?? issue.Time("updated_at") : null, Source = "gitlab", ExternalId = id,
            });
        var (saved, outcome) = await Store.UpsertIncidentAsync(incident, cancellationToken);
        return WebhookReplies.Written(saved.Metadata, outcome);
    }
}
