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
            // The history is played once the alert sent through the intake is restored and a restart is recorded.
            await Eventually.Until(async () => JsonNode.Parse(await http.GetStringAsync("api/v1/namespaces/demo/projects/storefront/metrics"))!,
                p => (int?)p["recoveryTime"]?["samples"] >= 4 && (int?)p["openIncidents"] == 0, "the demo history to be counted", TimeSpan.FromSeconds(120));
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
        // The whole history played just now: the window before has no deployments, so nothing to compare against.
        Assert.Equal("no comparison", await row.Locator("td[data-metric=DeploymentFrequency] .delta").InnerTextAsync());
        Assert.Equal(1, await page.Locator("tr[data-team=web]").CountAsync());
        await page.ScreenshotAsync(new() { Path = Path.Combine(demo.Screenshots, "projects.png"), FullPage = true });

        await row.Locator("a", new() { HasText = "storefront" }).ClickAsync();
        await page.WaitForURLAsync("**/projects/demo/storefront");
        Assert.StartsWith("storefront", await page.Locator("h1").InnerTextAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProjectPageChartsHaveAPointPerWeekAndMatchTheCounts()
    {
        var page = await demo.PageAsync();
        await page.GotoAsync(Url("/projects/demo/storefront").ToString());
        await page.ScreenshotAsync(new() { Path = Path.Combine(demo.Screenshots, "project.png"), FullPage = true });
        // A 30-day window: four whole weeks and a two-day bucket.
        Assert.Equal(5, await page.Locator("#chart-deployments .point").CountAsync());
        var bars = await page.Locator("#chart-deployments .point").EvaluateAllAsync<double[]>("els => els.map(e => Number(e.dataset.value))");
        var card = await page.Locator(".key[data-metric=DeploymentFrequency] .sub").InnerTextAsync();
        Assert.Equal(int.Parse(card.Split(' ')[0], CultureInfo.InvariantCulture), (int)bars.Sum());
        // Lead time, failure rate and recovery have a point only for weeks with samples: the demo's are all this week.
        foreach (var chart in new[] { "#chart-lead-time", "#chart-change-failure-rate", "#chart-recovery-time" })
        {
            Assert.Equal(1, await page.Locator($"{chart} circle.point").CountAsync());
        }
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
        await page.Locator("#record-checkout-4 a.incident-link", new() { HasText = "checkout-errors" }).ClickAsync();
        Assert.EndsWith("#incident-checkout-errors", page.Url, StringComparison.Ordinal);
        Assert.Equal("incident-checkout-errors", await page.EvaluateAsync<string>("document.querySelector(':target').id"));
        var incident = page.Locator("#incident-checkout-errors");
        await Assertions.Expect(incident).ToBeInViewportAsync();
        Assert.Contains("5xx on checkout", await incident.InnerTextAsync(), StringComparison.Ordinal);
        await incident.Locator("a", new() { HasText = "checkout-4" }).ClickAsync();
        Assert.EndsWith("#record-checkout-4", page.Url, StringComparison.Ordinal);
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
        await page.WaitForURLAsync("**/teams/web");
        await page.ScreenshotAsync(new() { Path = Path.Combine(demo.Screenshots, "team.png"), FullPage = true });
        Assert.StartsWith("Team web", await page.Locator("h1").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(1, await page.Locator("#members tbody tr").CountAsync());
        Assert.Equal(5, await page.Locator("#chart-deployments .point").CountAsync());
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
