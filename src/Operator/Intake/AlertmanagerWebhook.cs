using System.Text.Json.Nodes;
using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Kube.Meta;
using DoraOperator.Operator.Http;
using Microsoft.AspNetCore.Http;

namespace DoraOperator.Operator.Intake;

/// <summary>
/// <c>POST /webhooks/alertmanager</c>: Alertmanager's webhook payload (version 4). A firing alert
/// opens an Incident (one per alert fingerprint and start, so repeat notifications change nothing);
/// a resolved one restores it at its <c>endsAt</c>. Alerts route by their labels
/// (<see cref="IntakeRouter.ForAlert"/>); an alert no project claims is acknowledged and counted in
/// <c>dora_operator_intake_unrouted_total{source="alertmanager"}</c>, since Alertmanager cannot fix it.
/// </summary>
internal sealed class AlertmanagerWebhook(IntakeRouter router, IntakeStore store, IntakeAuthorizer auth, IntakeOptions options, Action<string> unrouted)
{
    public async Task<IResult> PostAsync(HttpContext context)
    {
        var user = await auth.AuthenticateAsync(context);
        var body = await Payload.ReadAsync(context, options.MaxBodyBytes);
        if (body.Body["alerts"] is not JsonArray alerts) throw Payload.Bad("alerts", "field \"alerts\" is required and must be an array (Alertmanager webhook payload, version 4)");
        if (body.String("version") is { } version && version != "4") throw Payload.Bad("version", $"webhook payload version \"{version}\" is not supported; Alertmanager sends version 4");
        var planned = new List<Incident>();
        var skipped = 0;
        for (var n = 0; n < alerts.Count; n++)
        {
            if (alerts[n] is not JsonObject alert) throw Payload.Bad($"alerts[{n}]", $"alerts[{n}] must be an object");
            var labels = Strings(alert["labels"], $"alerts[{n}].labels");
            var annotations = Strings(alert["annotations"], $"alerts[{n}].annotations");
            var item = new Payload(alert);
            var status = item.String("status", required: true);
            if (status is not ("firing" or "resolved")) throw Payload.Bad($"alerts[{n}].status", $"alerts[{n}].status must be firing or resolved, not \"{status}\"");
            var startsAt = item.Time("startsAt", required: true)!.Value;
            var endsAt = status == "resolved" ? item.Time("endsAt", required: true) : null;
            var fingerprint = item.String("fingerprint") ?? ObjectNames.Hash(string.Join(",", labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")));
            var project = router.ForAlert(labels);
            if (project is null)
            {
                skipped++;
                unrouted("alertmanager");
                continue;
            }
            var id = $"{fingerprint}-{startsAt.ToUnixTimeSeconds()}";
            var incident = IntakeStore.NewIncident(project, ObjectNames.External("alert", id), new IncidentSpec
                {
                    Title = Truncate(annotations.GetValueOrDefault("summary") ?? labels.GetValueOrDefault("alertname") ?? "alert", 1024),
                    Severity = Severity(labels.GetValueOrDefault("severity")),
                    StartedAt = startsAt,
                    RestoredAt = endsAt,
                    Source = "alertmanager",
                    ExternalId = id,
                });
            planned.Add(incident);
        }
        // All or nothing: every target namespace must allow the caller before anything is written.
        foreach (var ns in planned.Select(p => p.Metadata.Namespace!).Distinct(StringComparer.Ordinal))
        {
            await auth.RequireAsync(user, "create", Incident.Resource.Plural, ns, context.RequestAborted);
        }
        var results = new JsonArray();
        foreach (var incident in planned)
        {
            var (saved, outcome) = await store.UpsertIncidentAsync(incident, context.RequestAborted);
            results.Add((JsonNode)new JsonObject { ["namespace"] = saved.Metadata.Namespace, ["name"] = saved.Metadata.Name, ["outcome"] = outcome.ToString().ToLowerInvariant() });
        }
        return Results.Text(new JsonObject { ["incidents"] = results, ["unrouted"] = skipped }.ToJsonString(), "application/json");
    }

    private static Dictionary<string, string> Strings(JsonNode? node, string field)
    {
        if (node is null) return [];
        if (node is not JsonObject o) throw Payload.Bad(field, $"{field} must be an object of strings");
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in o)
        {
            if (v is JsonValue value && value.TryGetValue<string>(out var s)) map[k] = s;
            else throw Payload.Bad(field, $"{field}.{k} must be a string");
        }
        return map;
    }

    /// <summary>Alert severities onto the Incident's four: critical, high (error, major), medium (warning, the default), low (info).</summary>
    private static string Severity(string? label) => label?.ToLowerInvariant() switch
    {
        "critical" or "page" or "p1" => "critical",
        "high" or "error" or "major" or "p2" => "high",
        "low" or "info" or "minor" or "p4" or "p5" => "low",
        _ => "medium",
    };

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];
}
