using System.Globalization;
using System.Text.Json.Nodes;
using DoraOperator.Testing;

namespace DoraOperator.EndToEnd;

/// <summary>
/// A real Alertmanager notifying the intake of the <c>sandbox</c> command (started as a process) with
/// the kubeconfig's bearer token: an alert opens an Incident linked to the last deployment, resolving
/// it restores the service, and repeat notifications create nothing new.
/// </summary>
public sealed class AlertmanagerTests
{
    private static string T(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    [Fact]
    public async Task AlertsFromARealAlertmanagerOpenAndRestoreAnIncidentThatMovesTheProjectsNumbers()
    {
        await using var sandbox = await SandboxProcess.StartAsync("--http-port", "0", "--intake-port", Ports.Unused().ToString(CultureInfo.InvariantCulture), "--rollout-seconds", "0.3");
        Assert.NotNull(sandbox.IntakeUrl);
        Assert.NotNull(sandbox.Token);
        using var kubectl = new Kubectl(sandbox.Kubeconfig, "shop");
        await kubectl.OkAsync("create namespace shop");
        await kubectl.OkAsync("apply -f -", """
            apiVersion: dora-operator.io/v1alpha1
            kind: DoraProject
            metadata: {name: shop}
            spec:
              selector: {matchLabels: {team: shop}}
              incidentAttribution: {mode: lastDeployment, maxAge: 1h}
            """);
        await kubectl.OkAsync("create deployment web --image=web:1");
        await kubectl.OkAsync("label deployment web team=shop");
        await kubectl.WaitForAsync("dr web-1", r => (string?)r["status"]?["phase"] == "Succeeded", "web-1");
        await kubectl.OkAsync("set image deployment/web web=web:2");
        var web2 = await kubectl.WaitForAsync("dr web-2", r => (string?)r["status"]?["phase"] == "Succeeded", "web-2");
        var deployedAt = DateTimeOffset.Parse((string)web2["status"]!["deployedAt"]!, CultureInfo.InvariantCulture);

        await using var alertmanager = await Alertmanager.StartAsync(new Uri(sandbox.IntakeUrl!, "webhooks/alertmanager"), sandbox.Token!, repeatInterval: TimeSpan.FromSeconds(2));
        var startsAt = deployedAt.AddSeconds(1);
        while (DateTimeOffset.UtcNow < startsAt) await Task.Delay(100);
        JsonObject Alert(DateTimeOffset? endsAt) => new()
        {
            ["labels"] = new JsonObject { ["alertname"] = "HighErrorRate", ["namespace"] = "shop", ["deployment"] = "web", ["severity"] = "critical" },
            ["annotations"] = new JsonObject { ["summary"] = "5xx above 5% on web" },
            ["startsAt"] = T(startsAt),
            ["endsAt"] = endsAt is { } e ? T(e) : null,
        };
        await alertmanager.PostAsync(Alert(null));
        var incident = await Eventually.Until(async () => JsonNode.Parse(await kubectl.OkAsync("get inc -o json"))!["items"]!.AsArray(),
            items => items.Count == 1 && items[0]!["status"]?["linkedDeployment"] is not null, "the alert to open an incident linked to web-2", TimeSpan.FromSeconds(30));
        Assert.Equal("web-2", (string?)incident[0]!["status"]!["linkedDeployment"]);
        Assert.Equal("critical", (string?)incident[0]!["spec"]!["severity"]);
        Assert.Equal("alertmanager", (string?)incident[0]!["spec"]!["source"]);
        Assert.Equal("5xx above 5% on web", (string?)incident[0]!["spec"]!["title"]);

        // Alertmanager repeats the firing notification every 2 s: wait for two more, then check nothing new appeared.
        await Eventually.True(() => Count(alertmanager.Log, "Notify success") >= 3, "two repeat notifications", TimeSpan.FromSeconds(30));
        Assert.Single(JsonNode.Parse(await kubectl.OkAsync("get inc -o json"))!["items"]!.AsArray());

        var endsAt = startsAt.AddSeconds(8);
        while (DateTimeOffset.UtcNow < endsAt) await Task.Delay(100);
        await alertmanager.PostAsync(Alert(endsAt));
        var project = await kubectl.WaitForAsync("dora shop", p => p["status"]?["recoveryTime"]?["medianSeconds"] is not null && (int?)p["status"]?["changeFailureRate"]?["count"] == 1,
            "the project to show the failed change and its recovery", TimeSpan.FromSeconds(30));
        Assert.Equal(2, (int)project["status"]!["changeFailureRate"]!["total"]!);
        Assert.Equal(0.5, (double)project["status"]!["changeFailureRate"]!["ratio"]!, 6);
        Assert.Equal(8, (double)project["status"]!["recoveryTime"]!["medianSeconds"]!, 6);
        var restored = JsonNode.Parse(await kubectl.OkAsync("get inc -o json"))!["items"]!.AsArray();
        Assert.Single(restored);
        Assert.Equal(T(endsAt), (string?)restored[0]!["spec"]!["restoredAt"]);
        var table = await kubectl.OkAsync("get dora");
        Assert.Matches(@"50%\s+\(1/2\)", table);
    }

    private static int Count(string text, string what)
    {
        var n = 0;
        for (var i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal)) n++;
        return n;
    }
}
