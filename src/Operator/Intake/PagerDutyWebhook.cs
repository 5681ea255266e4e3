using System.Text.Json.Nodes;
using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Kube.Meta;
using DoraOperator.Operator.Http;
using Microsoft.AspNetCore.Http;

namespace DoraOperator.Operator.Intake;

/// <summary>
/// <c>POST /webhooks/pagerduty</c>: PagerDuty's v3 webhooks, signed in <c>X-PagerDuty-Signature</c>
/// (<c>v1=</c> HMAC-SHA256 of the body; several, comma-separated, while a secret rotates).
/// <c>incident.triggered</c> opens an Incident, <c>incident.acknowledged</c> records when it was
/// detected, <c>incident.resolved</c> resolves it (which also restores it). The incident's service id
/// routes to the project listing it in <c>spec.sources.pagerdutyServices</c>.
/// </summary>
internal sealed class PagerDutyWebhook(WebhookContext web) : SignedWebhook(web, "pagerduty")
{
    protected override void Authenticate(HttpContext context, byte[] raw)
    {
        var signatures = context.Request.Headers["X-PagerDuty-Signature"].ToString().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(s => s.StartsWith("v1=", StringComparison.Ordinal)).Select(s => s[3..]).ToList();
        if (!Secrets.HmacMatches("pagerduty", raw, signatures))
            throw Unauthenticated("X-PagerDuty-Signature is missing or no v1 signature matches the body under the PagerDuty webhook secret");
    }

    protected override async Task<IResult> HandleAsync(HttpContext context, JsonObject body)
    {
        var evt = new Payload(body["event"] as JsonObject ?? throw Payload.Bad("event", "field \"event\" is required (PagerDuty v3 webhook)"));
        var type = evt.String("event_type", required: true);
        if (type is not ("incident.triggered" or "incident.acknowledged" or "incident.resolved")) return WebhookReplies.Ack($"event {type} is not used");
        var data = new Payload(evt.Body["data"] as JsonObject ?? throw Payload.Bad("event.data", "field \"event.data\" is required"));
        var id = data.String("id", required: true)!;
        var service = (string?)data.Body["service"]?["id"] ?? throw Payload.Bad("event.data.service.id", "field \"event.data.service.id\" is required");
        if (Route(s => s.PagerdutyServices, service) is not { } project) return Unclaimed("pagerdutyServices", service);
        var occurred = evt.Time("occurred_at", required: true)!.Value;
        var incident = IntakeStore.NewIncident(project, ObjectNames.External("pd", id), new IncidentSpec
            {
                Title = data.String("title", maxLength: 1024),
                Severity = data.String("urgency") == "low" ? "low" : "high",
                StartedAt = data.Time("created_at") ?? occurred,
                DetectedAt = type == "incident.acknowledged" ? occurred : null,
                ResolvedAt = type == "incident.resolved" ? occurred : null,
                Source = "pagerduty",
                ExternalId = id,
            });
        var (saved, outcome) = await Store.UpsertIncidentAsync(incident, context.RequestAborted);
        return WebhookReplies.Written(saved.Metadata, outcome);
    }
}
