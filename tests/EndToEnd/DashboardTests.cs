using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using DoraOperator.Testing;
using Microsoft.Playwright;

namespace DoraOperator.EndToEnd;

/// <summary>
/// The dashboard as a person sees it: pages from the <c>sandbox --demo</c> state in headless
/// Chromium (Debian's, through Playwright), screenshots saved under <c>artifacts/dashboard/</c>.
/// </summary>
public sealed class DashboardTests(DashboardTests.DemoBrowser demo) : IClassFixture<DashboardTests.DemoBrowser>
{
    /// <summary>One demo sandbox and one browser for the class: the demo history takes about 30 s to play.</summary>
    public sealed class DemoBrowser : IAsyncLifetime
    {
        public const string Chromium = "/usr/bin/chromium";
        private IPlaywright? _playwright;

        internal SandboxProcess Sandbox { get; private set; } = null!;
        public IBrowser Browser { get; private set; } = null!;
        public string Screenshots { get; } = Repo.Path("artifacts", "dashboard");

        public async Task InitializeAsync()
        {
            if (!File.Exists(Chromium)) throw new InvalidOperationException($"{Chromium} is missing: the dashboard tests need Debian's chromium ('apt-get install -y chromium'; .ci/run installs it).");
            Sandbox = await SandboxProcess.StartAsync("--demo", "--http-port", "0", "--intake-port", Ports.Unused().ToString(CultureInfo.InvariantCulture), "--rollout-seconds", "0.3");
            using var http = new HttpClient { BaseAddress = Sandbox.OperatorUrl };
            await Eventually.True(() => Sandbox.Output.Any(l => l.Contains("demo: history done", StringComparison.Ordinal)), "the demo's six weeks and last hour to play", TimeSpan.FromSeconds(150));
            await Eventually.Until(async () => JsonNode.Parse(await http.GetStringAsync("api/v1/namespaces/demo/projects/storefront/metrics"))!,
                p => (int?)p["openIncidents"] == 0, "the demo's last incident to be restored", TimeSpan.FromSeconds(30));
            _playwright = await Playwright.CreateAsync();
            Browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
            Directory.CreateDirectory(Screenshots);
        }

        public async Task<IPage> PageAsync(bool javaScript = true)
        {
            var context = await Browser.NewContextAsync(new() { JavaScriptEnabled = javaScript, ViewportSize = new() { Width = 1280, Height = 900 } });
            return await context.NewPageAsync();
        }

        public async Task DisposeAsync()
        {
            if (Browser is not null) await Browser.DisposeAsync();
            _playwright?.Dispose();
            if (Sandbox is not null) await Sandbox.DisposeAsync();
        }
    }

    private Uri Url(string path) => new(demo.Sandbox.OperatorUrl, path);

    [Fact]
    public async Task ProjectsListShowsTheFourKeysAndLeadsToTheProject()
    {
        var page = await demo.PageAsync();
        var reply = await page.GotoAsync(Url("/").ToString());
        Assert.Equal(200, reply!.Status);
        var row = page.Locator("tr[data-project='demo/storefront']");
        Assert.Equal(4, await row.Locator("td.metric").CountAsync());
        Assert.Matches(@"^\d+(\.\d+)?/day$", await row.Locator("td[data-metric=DeploymentFrequency] .value").InnerTextAsync());
        Assert.Matches("^(elite|high|medium|low)$", await row.Locator(".tier").InnerTextAsync());
        // The history starts six weeks back: the window before has a few deployments to compare against.
        Assert.Matches(@"^(▲ \+|▼ −)\d+(\.\d+)?/day$", await row.Locator("td[data-metric=DeploymentFrequency] .delta").InnerTextAsync());
        Assert.Equal(["data", "payments", "web"], await page.Locator("tr[data-team]").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.team)"));
        // Four projects whose habits differ: at least three tiers among them.
        var tiers = await page.Locator("table.projects tbody tr td:nth-child(3) .tier").AllInnerTextsAsync();
        Assert.Equal(4, tiers.Count);
        Assert.True(tiers.Distinct().Count() >= 3, string.Join(", ", tiers));
        await page.ScreenshotAsync(new() { Path = Path.Combine(demo.Screenshots, "projects.png"), FullPage = true });

        await row.Locator("a", new() { HasText = "storefront" }).ClickAsync();
        // Polled assertions: the navigation may finish before or after the click returns.
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/projects/demo/storefront$"), new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("storefront", new() { Timeout = 60_000 });
    }

    [Fact]
    public async Task ProjectPageChartsHaveAPointPerWeekAndMatchTheCounts()
    {
        var page = await demo.PageAsync();
        await page.GotoAsync(Url("/projects/demo/storefront").ToString());
        await page.ScreenshotAsync(new() { Path = Path.Combine(demo.Screenshots, "project.png"), FullPage = true });
        await page.ScreenshotAsync(new() { Path = Path.Combine(demo.Screenshots, "project-top.png") });
        // A 30-day window: four whole weeks and a two-day bucket.
        Assert.Equal(5, await page.Locator("#chart-deployments .point").CountAsync());
        var bars = await page.Locator("#chart-deployments .point").EvaluateAllAsync<double[]>("els => els.map(e => Number(e.dataset.value))");
        var card = await page.Locator(".key[data-metric=DeploymentFrequency] .sub").InnerTextAsync();
        Assert.Equal(int.Parse(card.Split(' ')[0], CultureInfo.InvariantCulture), (int)bars.Sum());
        // Lead time and failure rate have a point for each bucket with deployments (the oldest, two days long, may be a weekend).
        var weeksWithDeployments = bars.Count(v => v > 0);
        Assert.InRange(weeksWithDeployments, 4, 5);
        Assert.Equal(weeksWithDeployments, await page.Locator("#chart-lead-time circle.point").CountAsync());
        Assert.Equal(weeksWithDeployments, await page.Locator("#chart-change-failure-rate circle.point").CountAsync());
        Assert.InRange(await page.Locator("#chart-recovery-time circle.point").CountAsync(), 1, 5);
        Assert.Equal(4, await page.Locator("#tiers tbody tr").CountAsync());
        Assert.Contains("dora-2023 bands", await page.Locator("#tiers thead").InnerTextAsync(), StringComparison.Ordinal);
        var phases = await page.Locator("#records .phase").AllInnerTextsAsync();
        foreach (var phase in new[] { "Succeeded", "Failed", "RolledBack", "Restart" }) Assert.Contains(phase, phases);
    }

    [Fact]
    public async Task ARecordLinksToItsIncidentAndBack()
    {
        var page = await demo.PageAsync();
        await page.GotoAsync(Url("/projects/demo/storefront").ToString());
        await page.Locator("#records a.incident-link[href='#incident-checkout-errors']").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("#incident-checkout-errors$"));
        Assert.Equal("incident-checkout-errors", await page.EvaluateAsync<string>("document.querySelector(':target').id"));
        var incident = page.Locator("#incident-checkout-errors");
        await Assertions.Expect(incident).ToBeInViewportAsync();
        Assert.Contains("5xx on checkout", await incident.InnerTextAsync(), StringComparison.Ordinal);
        var cause = await incident.Locator("a[href^='#record-checkout-']").InnerTextAsync();
        await incident.Locator("a[href^='#record-checkout-']").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"#record-{cause}$"));
        Assert.Equal($"record-{cause}", await page.EvaluateAsync<string>("document.querySelector(':target').id"));
        // The timeline's bar for the incident links to the same entry.
        Assert.Equal(1, await page.Locator("#incident-timeline a[href='#incident-checkout-errors'] rect.incident").CountAsync());
    }

    [Fact]
    public async Task NumbersAreReadableWithJavaScriptOff()
    {
        using var http = new HttpClient { BaseAddress = demo.Sandbox.OperatorUrl };
        var page = await demo.PageAsync(javaScript: false);
        await page.GotoAsync(Url("/projects/demo/storefront").ToString());
        var api = JsonNode.Parse(await http.GetStringAsync("api/v1/namespaces/demo/projects/storefront/metrics"))!;
        // Recovery time in the demo is seconds long and stable once the history is played.
        var recovery = (double)api["recoveryTime"]!["medianSeconds"]!;
        Assert.Equal(Entities.Vocabulary.Durations.Human(recovery), await page.Locator(".key[data-metric=RecoveryTime] .value").InnerTextAsync());
        Assert.Equal(5, await page.Locator("#chart-deployments .point").CountAsync());
        Assert.Equal(0, await page.Locator("script").CountAsync());
    }

    [Fact]
    public async Task TeamPagePoolsItsProjects()
    {
        var page = await demo.PageAsync();
        await page.GotoAsync(Url("/").ToString());
        await page.Locator("tr[data-team=web] a").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/teams/web$"), new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("Team web", new() { Timeout = 60_000 });
        await page.ScreenshotAsync(new() { Path = Path.Combine(demo.Screenshots, "team.png"), FullPage = true });
        Assert.StartsWith("Team web", await page.Locator("h1").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(1, await page.Locator("#members tbody tr").CountAsync());
        Assert.Equal(5, await page.Locator("#chart-deployments .point").CountAsync());
        // Team data pools two projects of one namespace; the team's count is the sum of theirs.
        await page.GotoAsync(Url("/teams/data").ToString());
        Assert.Equal(2, await page.Locator("#members tbody tr").CountAsync());
        static int Count(string text) => int.Parse(text.Split(' ')[0], CultureInfo.InvariantCulture);
        var members = await page.Locator("#members td[data-metric=DeploymentFrequency] .sub").AllInnerTextsAsync();
        Assert.Equal(members.Sum(Count), Count(await page.Locator(".key[data-metric=DeploymentFrequency] .sub").InnerTextAsync()));
    }

    [Fact]
    public async Task UnknownPagesAnswerWithAReadableError()
    {
        var page = await demo.PageAsync();
        var reply = await page.GotoAsync(Url("/projects/demo/nope").ToString());
        Assert.Equal((int)HttpStatusCode.NotFound, reply!.Status);
        Assert.Contains("no DoraProject \"nope\" in namespace \"demo\"", await page.Locator("main").InnerTextAsync(), StringComparison.OrdinalIgnoreCase);
        reply = await page.GotoAsync(Url("/projects/demo/storefront?window=soon").ToString());
        Assert.Equal((int)HttpStatusCode.BadRequest, reply!.Status);
        Assert.Equal("Invalid window", await page.Locator("h1").InnerTextAsync());
    }

    [Fact]
    public async Task AssetsAreEmbeddedAndSmall()
    {
        using var http = new HttpClient { BaseAddress = demo.Sandbox.OperatorUrl };
        var page = await demo.PageAsync();
        var requests = new List<string>();
        page.Request += (_, r) => requests.Add(r.Url);
        await page.GotoAsync(Url("/projects/demo/storefront").ToString());
        // Everything the page loads comes from the operator itself: no CDN.
        Assert.All(requests, u => Assert.StartsWith(demo.Sandbox.OperatorUrl.GetLeftPart(UriPartial.Authority), u, StringComparison.Ordinal));
        using var css = await http.GetAsync("assets/dashboard.css");
        Assert.Equal("text/css", css.Content.Headers.ContentType!.MediaType);
        Assert.InRange((await css.Content.ReadAsByteArrayAsync()).Length, 1000, 8 * 1024);
        using var again = new HttpRequestMessage(HttpMethod.Get, "assets/dashboard.css");
        again.Headers.TryAddWithoutValidation("If-None-Match", css.Headers.ETag!.ToString());
        Assert.Equal(HttpStatusCode.NotModified, (await http.SendAsync(again)).StatusCode);
    }
}
