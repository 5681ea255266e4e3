using System.Text.Json.Nodes;
using DoraOperator.Kube.Meta;
using Microsoft.AspNetCore.Http;

namespace DoraOperator.Operator.Intake;

/// <summary>What the webhooks answer: the object written and how, or why nothing was (always 2xx, since the sender cannot fix it).</summary>
internal static class WebhookReplies
{
    public static IResult Ack(string note) => Results.Text(new JsonObject { ["note"] = note }.ToJsonString(), "application/json");

    public static IResult Written(ObjectMeta meta, WriteOutcome outcome) =>
        Results.Text(new JsonObject { ["namespace"] = meta.Namespace, ["name"] = meta.Name, ["outcome"] = outcome.ToString().ToLowerInvariant() }.ToJsonString(), "application/json",
            statusCode: outcome == WriteOutcome.Created ? 201 : 200);
}
