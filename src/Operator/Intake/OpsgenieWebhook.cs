using System.Text.Json.Nodes;
using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Kube.Meta;
using DoraOperator.Operator.Http;
using Microsoft.AspNetCore.Http;

namespace DoraOperator.Operator.Intake;

/// <summary>
/// <c>POST /webhooks/opsgenie</c>: Opsgenie's outgoing Webhook integration, authenticated by a custom
/// header <c>X-Webhook-Token</c> holding the shared secret (Opsgenie lets the integration add headers).
/// <c>Create</c> opens an Incident, <c>Acknowledge</c> records detection, <c>Close</c> resolves it. The
/// alert's teams route to the project listing one of them in <c>spec.sources.opsgenieTeams</c>.
/// </summary>
internal sealed class OpsgenieWebhook(WebhookContext web, TimeProvider time) : SignedWebhook(web, "opsgenie")
{
    public const string TokenHeader = "X-Webhook-Token";

    protected override void Authenticate(HttpContext context, byte[] raw)
    {
        if (!Secrets.TokenMatches("opsgenie", context.Request.Headers[TokenHeader].ToString()))
            throw Unauthenticated($"{TokenHeader} is missing or is not the Opsgenie webhook secret");
    }

    protected override async Task<IResult> HandleAsync(HttpContext context, JsonObject json)
    {
        var body = new Payload(json);
        var action = body.String("action", required: true);
        if (action is not ("Create" or "Acknowledge" or "Close")) return WebhookReplies.Ack($"action {action} is not used");
        var alert = new Payload(body.Body["alert"] as JsonObject ?? throw Payload.Bad("alert", "field \"alert\" is required"));
        var id = alert.String("alertId", required: true)!;
        var teams = (alert.Body["teams"] as JsonArray ?? []).Select(t => (string?)t).OfType<string>().ToList();
        if (Route(s => s.OpsgenieTeams, teams) is not { } project) return Unclaimed("opsgenieTeams", teams.Count == 0 ? "(no team)" : string.Join(", ", teams));
        var at = alert.EpochTime("updatedAt") ?? time.GetUtcNow();
        var incident = IntakeStore.NewIncident(project, ObjectNames.External("opsgenie", id), new IncidentSpec
            {
                Title = alert.String("message", maxLength: 1024), Severity = Severity(alert.String("priority")),
                StartedAt = alert.EpochTime("createdAt") ?? at, DetectedAt = action == "Acknowledge" ? at : null, ResolvedAt = action == "Close" ? at : null,
                Source = "opsgenie", ExternalId = id,
            });
        var (saved, outcome) = await Store.UpsertIncidentAsync(incident, context.RequestAborted);
        return WebhookReplies.Written(saved.Metadata, outcome);
    }

    /// <summary>Opsgenie priorities P1..P5 onto critical, high, medium, low, low.</summary>
    private static string Severity(string? priority) => priority switch
    {
        "P1" => "critical",
        "P2" => "high",
        "P4" or "P5" => "low",
        _ => "medium",
    };
}
