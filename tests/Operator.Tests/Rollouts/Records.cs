using System.Text.Json.Nodes;
using DoraOperator.Testing;

namespace DoraOperator.Operator.Tests.Rollouts;

/// <summary>Reading DeploymentRecords with kubectl, as the rollout tests do.</summary>
internal static class Records
{
    /// <summary>Waits until record <paramref name="name"/> exists and satisfies <paramref name="ready"/>.</summary>
    public static Task<JsonObject> WaitAsync(Kubectl kubectl, string name, Func<JsonObject, bool> ready, string what) =>
        Eventually.Until(async () =>
        {
            var r = await kubectl.RunAsync($"get dr {name} -o json");
            return r.ExitCode == 0 ? JsonNode.Parse(r.Stdout)!.AsObject() : new JsonObject();
        }, ready, what);

    public static string? Phase(JsonObject record) => (string?)record["status"]?["phase"];
}
