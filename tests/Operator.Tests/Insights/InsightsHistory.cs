using System.Globalization;
using System.Text.Json.Nodes;
using DoraOperator.Testing;

namespace DoraOperator.Operator.Tests.Insights;

/// <summary>
/// Two projects of team "checkout" in two namespaces (shop/shop and pay/api), with records and an
/// incident at fixed offsets before <c>origin</c>, written through kubectl as a pipeline would.
/// In the 30 days before origin: shop deployed three times (lead times 2h, 6h, 1h) and failed once,
/// api twice (3d, 30m); so the team's pooled median lead time is 2h, where the mean of the two
/// projects' medians would be about 19h.
/// </summary>
internal static class InsightsHistory
{
    public static async Task WriteAsync(Kubectl kubectl, DateTimeOffset origin)
    {
        await kubectl.OkAsync("create namespace pay -n default");
        foreach (var (ns, name, label) in new[] { ("shop", "shop", "shop"), ("pay", "api", "api") })
        {
            await kubectl.OkAsync($"apply -n {ns} -f -", $"apiVersion: dora-operator.io/v1alpha1\nkind: DoraProject\nmetadata: {{name: {name}}}\nspec:\n  team: checkout\n  selector:\n    matchLabels: {{team: {label}}}\n");
        }
        var day = TimeSpan.FromDays(1);
        var hour = TimeSpan.FromHours(1);
        (string Ns, string Project, string Name, string Workload, string Phase, TimeSpan Ago, TimeSpan? Lead, string Sha)[] records =
        [
            ("shop", "shop", "shop-old", "web", "Succeeded", 40 * day, 30 * hour, "0a1b2c3d4e5f60718293"),
            ("shop", "shop", "shop-1", "web", "Succeeded", 20 * day, 2 * hour, "1b2c3d4e5f6071829304"),
            ("shop", "shop", "shop-2", "web", "Succeeded", 12 * day, 6 * hour, "2c3d4e5f607182930415"),
            ("shop", "shop", "shop-3", "web", "Failed", 5 * day, null, "3d4e5f60718293041526"),
            ("shop", "shop", "shop-4", "web", "Succeeded", 4 * day, hour, "4e5f6071829304152637"),
            ("pay", "api", "api-old", "api", "Succeeded", 35 * day, 4 * hour, "5f607182930415263748"),
            ("pay", "api", "api-1", "api", "Succeeded", 15 * day, 72 * hour, "6071829304152637485a"),
            ("pay", "api", "api-2", "api", "Succeeded", 2 * day, TimeSpan.FromMinutes(30), "71829304152637485a6b"),
        ];
        var revision = 0;
        foreach (var r in records)
        {
            var at = origin - r.Ago;
            var commit = r.Lead is { } lead ? $", commitTime: {Time(at - lead)}" : "";
            await kubectl.OkAsync($"apply -n {r.Ns} -f -",
                $"apiVersion: dora-operator.io/v1alpha1\nkind: DeploymentRecord\nmetadata: {{name: {r.Name}}}\nspec: {{project: {r.Project}, workload: {{kind: Deployment, name: {r.Workload}}}, revision: {++revision}, commitSha: {r.Sha}{commit}, changeType: feature}}\n");
            var status = new JsonObject { ["phase"] = r.Phase, ["startedAt"] = Time(at - TimeSpan.FromMinutes(10)) };
            if (r.Phase == "Failed") status["failedAt"] = Time(at);
            else
            {
                status["deployedAt"] = Time(at);
                status["durationSeconds"] = 600;
                if (r.Lead is { } l) status["leadTimeSeconds"] = l.TotalSeconds;
            }
            await kubectl.OkAsync($"patch dr {r.Name} -n {r.Ns} --subresource=status --type merge -p '{new JsonObject { ["status"] = status }.ToJsonString()}'");
        }
        await kubectl.OkAsync("apply -n shop -f -",
            $"apiVersion: dora-operator.io/v1alpha1\nkind: Incident\nmetadata: {{name: checkout-5xx}}\nspec: {{project: shop, title: \"5xx | checkout\", severity: high, deploymentRef: shop-2, startedAt: {Time(origin - (12 * day) + hour)}, restoredAt: {Time(origin - (12 * day) + (3 * hour))}}}\n");
    }

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
