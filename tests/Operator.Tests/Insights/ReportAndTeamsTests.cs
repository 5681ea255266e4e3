using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using DoraOperator.Testing;

namespace DoraOperator.Operator.Tests.Insights;

/// <summary>
/// The <c>report</c> command run as a user runs it (a process with the Sandbox's kubeconfig),
/// checked against golden files written with fixed times; and team rollups over HTTP.
/// Set DORA_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change, then read the diff.
/// </summary>
public sealed class ReportAndTeamsTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Origin = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private OperatorOnSandbox _env = null!;

    public async Task InitializeAsync() => _env = await OperatorOnSandbox.StartAsync();

    public async Task DisposeAsync() => await _env.DisposeAsync();

    private async Task<(int Exit, string Stdout, string Stderr)> ReportAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])[Path.Combine(AppContext.BaseDirectory, "DoraOperator.Operator.dll"), "report", "--kubeconfig", _env.KubeconfigPath, .. args]) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (process.ExitCode, await stdout, await stderr);
    }

    private static void Golden(string name, string actual)
    {
        var path = Repo.Path("tests", "Operator.Tests", "Insights", "Golden", name);
        if (Environment.GetEnvironmentVariable("DORA_UPDATE_GOLDEN") == "1") File.WriteAllText(path, actual);
        Assert.True(File.Exists(path), $"golden file {path} is missing (DORA_UPDATE_GOLDEN=1 writes it)");
        Assert.Equal(File.ReadAllText(path).ReplaceLineEndings("\n"), actual.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task Report_WritesMarkdownHtmlAndJson_MatchingTheGoldenFiles()
    {
        await InsightsHistory.WriteAsync(_env.Kubectl, Origin);
        string[] period = ["--window", "30d", "--end", "2026-11-01T00:00:00Z", "--compare", "previous"];

        var md = await ReportAsync(["-n", "shop", "--project", "shop", .. period]);
        Assert.True(md.Exit == 0, md.Stderr);
        Golden("shop.md", md.Stdout);
        // What a reader checks first: three deployments in 30 days, one failed change of four, restored by the next deployment a day later.
        Assert.Contains("| Deployment frequency | 0.1/day | 3 deployments | medium |", md.Stdout, StringComparison.Ordinal);
        Assert.Contains("| Change failure rate | 50% | 2 of 4 changes | low |", md.Stdout, StringComparison.Ordinal);
        Assert.Contains("5xx \\| checkout", md.Stdout, StringComparison.Ordinal);

        var team = await ReportAsync(["--team", "checkout", .. period]);
        Assert.True(team.Exit == 0, team.Stderr);
        Golden("team-checkout.md", team.Stdout);
        Assert.Contains("| Lead time for changes | 2h | 5 samples |", team.Stdout, StringComparison.Ordinal);

        var json = await ReportAsync(["-n", "shop", "--project", "shop", "--format", "json", .. period]);
        Assert.True(json.Exit == 0, json.Stderr);
        Golden("shop.json", json.Stdout);
        var doc = JsonNode.Parse(json.Stdout)!;
        Assert.Equal(2, doc["failedChanges"]!.AsArray().Count);
        Assert.Equal(7200, (double)doc["project"]!["leadTime"]!["medianSeconds"]!);
        Assert.Equal(1, (int)doc["project"]!["previous"]!["deploymentFrequency"]!["count"]!);

        var file = Path.Combine(Path.GetTempPath(), $"dora-report-{Guid.NewGuid():N}.html");
        try
        {
            var html = await ReportAsync(["--team", "checkout", "--format", "html", "--output", file, .. period]);
            Assert.True(html.Exit == 0, html.Stderr);
            Assert.Contains("wrote " + file, html.Stderr, StringComparison.Ordinal);
            var page = await File.ReadAllTextAsync(file);
            Golden("team-checkout.html", page);
            // Self-contained: the stylesheet inline, no link back to an operator.
            Assert.Contains("<style>", page, StringComparison.Ordinal);
            Assert.DoesNotContain("href=\"/", page, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Report_ExplainsWhatIsWrong()
    {
        var missing = await ReportAsync("-n", "shop", "--project", "nope");
        Assert.Equal(1, missing.Exit);
        Assert.Contains("there is no DoraProject \"nope\" in namespace \"shop\"", missing.Stderr, StringComparison.Ordinal);
        var both = await ReportAsync("--project", "a", "--team", "b");
        Assert.NotEqual(0, both.Exit);
        Assert.Contains("exactly one of --project", both.Stderr, StringComparison.Ordinal);
        var window = await ReportAsync("--team", "b", "--window", "a month");
        Assert.NotEqual(0, window.Exit);
        Assert.Contains("is not a duration", window.Stderr, StringComparison.Ordinal);
        var team = await ReportAsync("--team", "nobody");
        Assert.Equal(1, team.Exit);
        Assert.Contains("has spec.team \"nobody\"", team.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TeamsApi_PoolsSamplesAcrossNamespaces_AndExportsTeamGauges()
    {
        var now = DateTimeOffset.UtcNow;
        await InsightsHistory.WriteAsync(_env.Kubectl, new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, now.Second, TimeSpan.Zero));
        await using var host = await _env.StartOperatorAsync();
        using var http = new HttpClient { BaseAddress = host.HttpUrl };
        var teams = await Eventually.Until(async () => JsonNode.Parse(await http.GetStringAsync("/api/v1/teams?compare=previous"))!["items"]!.AsArray(),
            items => items.Count == 1 && (int?)items[0]!["deploymentFrequency"]?["count"] == 5, "the team to pool both projects");
        var team = teams[0]!;
        Assert.Equal("checkout", (string?)team["team"]);
        Assert.Equal(["pay/api", "shop/shop"], team["projects"]!.AsArray().Select(p => $"{p!["namespace"]}/{p["name"]}"));
        Assert.Equal(7200, (double)team["leadTime"]!["medianSeconds"]!);
        Assert.Equal(5, (int)team["leadTime"]!["samples"]!);
        Assert.Equal(Math.Round(5 / 30.0, 3), (double)team["deploymentFrequency"]!["perDay"]!, 3);
        Assert.Equal(0.3333, (double)team["changeFailureRate"]!["ratio"]!, 4);
        Assert.Equal(2, (int)team["previous"]!["deploymentFrequency"]!["count"]!);

        var one = JsonNode.Parse(await http.GetStringAsync("/api/v1/teams/checkout"))!;
        Assert.Equal(7200, (double)one["leadTime"]!["medianSeconds"]!);
        using var unknown = await http.GetAsync("/api/v1/teams/nobody");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("spec.team \"nobody\"", (string?)JsonNode.Parse(await unknown.Content.ReadAsStringAsync())!["detail"], StringComparison.Ordinal);
        using var staging = await http.GetAsync("/api/v1/teams/checkout?environment=staging");
        Assert.Equal(HttpStatusCode.NotFound, staging.StatusCode);

        var metrics = await Eventually.Until(() => http.GetStringAsync("/metrics"), m => m.Contains("dora_team_lead_time_median_seconds", StringComparison.Ordinal), "the team gauges");
        Assert.Contains("dora_team_lead_time_median_seconds{environment=\"production\",team=\"checkout\"} 7200", metrics, StringComparison.Ordinal);
        Assert.Contains("dora_team_tier{environment=\"production\",team=\"checkout\",tier=", metrics, StringComparison.Ordinal);

        // The dashboard's team page shows the same pooled number.
        var page = await http.GetStringAsync("/teams/checkout");
        Assert.Contains("<div class=\"key\" data-metric=\"LeadTime\"><h3>Lead time for changes</h3><p class=\"value\">2h</p>", page, StringComparison.Ordinal);
    }
}
