using System.Text.Json.Nodes;
using DoraOperator.Testing;

namespace DoraOperator.Sandbox.Tests;

public sealed class WatchTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    private ApiClient Api => fixture.Api;

    [Fact]
    public async Task Watch_StreamsAddedModifiedDeleted_InResourceVersionOrder()
    {
        var ns = await Api.NewNamespaceAsync();
        var list = await Api.GetAsync($"/api/v1/namespaces/{ns}/configmaps");
        var rv = (string)list.Object["metadata"]!["resourceVersion"]!;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var events = new List<JsonObject>();
        var reader = Task.Run(async () =>
        {
            await foreach (var e in Api.WatchAsync($"/api/v1/namespaces/{ns}/configmaps?watch=1&resourceVersion={rv}", cts.Token))
            {
                events.Add(e);
                if (events.Count == 3) break;
            }
        });
        await Eventually.True(() => fixture.Server.Audit.Keys.Any(k => k.Verb == "watch"), "the watch to be open");
        await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ApiClient.ConfigMap("w"));
        await Api.PatchAsync($"/api/v1/namespaces/{ns}/configmaps/w", """{"data":{"x":"1"}}""", "application/merge-patch+json");
        await Api.DeleteAsync($"/api/v1/namespaces/{ns}/configmaps/w");
        await reader;
        Assert.Equal(["ADDED", "MODIFIED", "DELETED"], events.Select(e => (string?)e["type"]));
        var rvs = events.Select(e => long.Parse((string)e["object"]!["metadata"]!["resourceVersion"]!)).ToList();
        Assert.Equal(rvs.Order(), rvs);
        Assert.Equal("1", (string?)events[1]["object"]!["data"]!["x"]);
    }

    [Fact]
    public async Task Watch_FromOldResourceVersion_ReplaysMissedEvents()
    {
        var ns = await Api.NewNamespaceAsync();
        var rv = (string)(await Api.GetAsync($"/api/v1/namespaces/{ns}/configmaps")).Object["metadata"]!["resourceVersion"]!;
        await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ApiClient.ConfigMap("one"));
        await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ApiClient.ConfigMap("two"));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var names = new List<string>();
        await foreach (var e in Api.WatchAsync($"/api/v1/namespaces/{ns}/configmaps?watch=true&resourceVersion={rv}", cts.Token))
        {
            names.Add((string)e["object"]!["metadata"]!["name"]!);
            if (names.Count == 2) break;
        }
        Assert.Equal(["one", "two"], names);
    }

    [Fact]
    public async Task Watch_WithoutResourceVersion_StartsWithSyntheticAddedForExistingObjects()
    {
        var ns = await Api.NewNamespaceAsync();
        await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ApiClient.ConfigMap("existing"));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await foreach (var e in Api.WatchAsync($"/api/v1/namespaces/{ns}/configmaps?watch=1", cts.Token))
        {
            Assert.Equal("ADDED", (string?)e["type"]);
            Assert.Equal("existing", (string?)e["object"]!["metadata"]!["name"]);
            break;
        }
    }

    [Fact]
    public async Task Watch_WithLabelSelector_SendsDeletedWhenAnObjectLeavesTheSelection()
    {
        var ns = await Api.NewNamespaceAsync();
        await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ApiClient.ConfigMap("sel", new() { ["keep"] = "yes" }));
        var rv = (string)(await Api.GetAsync($"/api/v1/namespaces/{ns}/configmaps")).Object["metadata"]!["resourceVersion"]!;
        await Api.PatchAsync($"/api/v1/namespaces/{ns}/configmaps/sel", """{"metadata":{"labels":{"keep":"no"}}}""", "application/merge-patch+json");
        await Api.PatchAsync($"/api/v1/namespaces/{ns}/configmaps/sel", """{"metadata":{"labels":{"keep":"yes"}}}""", "application/merge-patch+json");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var types = new List<string>();
        await foreach (var e in Api.WatchAsync($"/api/v1/namespaces/{ns}/configmaps?watch=1&labelSelector=keep%3Dyes&resourceVersion={rv}", cts.Token))
        {
            types.Add((string)e["type"]!);
            if (types.Count == 2) break;
        }
        Assert.Equal(["DELETED", "ADDED"], types);
    }

    [Fact]
    public async Task Watch_TimeoutSeconds_EndsTheStreamCleanly_WhenTheServerClockPassesIt()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));
        await using var server = await SandboxApiServer.StartAsync(new SandboxOptions { TimeProvider = clock });
        using var api = new ApiClient(server);
        var ns = await api.NewNamespaceAsync();
        var rv = (string)(await api.GetAsync($"/api/v1/namespaces/{ns}/configmaps")).Object["metadata"]!["resourceVersion"]!;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var count = 0;
        async Task WatchAsync()
        {
            await foreach (var _ in api.WatchAsync($"/api/v1/namespaces/{ns}/configmaps?watch=1&timeoutSeconds=1&resourceVersion={rv}", cts.Token)) count++;
        }
        var watch = WatchAsync();
        await Eventually.True(() => server.OpenWatches > 0, "the watch to open");
        var lasted = await FakeTime.DriveUntilAsync(clock, watch, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10));
        Assert.Equal(0, count);
        Assert.InRange(lasted, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task Watch_AfterCompaction_FromAnOldResourceVersion_GetsExpiredError()
    {
        await using var server = await SandboxApiServer.StartAsync(new SandboxOptions());
        using var api = new ApiClient(server);
        var ns = await api.NewNamespaceAsync();
        var rv = (string)(await api.GetAsync($"/api/v1/namespaces/{ns}/configmaps")).Object["metadata"]!["resourceVersion"]!;
        await api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ApiClient.ConfigMap("after"));
        server.Faults.CompactHistory();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var events = new List<JsonObject>();
        await foreach (var e in api.WatchAsync($"/api/v1/namespaces/{ns}/configmaps?watch=1&resourceVersion={rv}", cts.Token)) events.Add(e);
        var error = Assert.Single(events);
        Assert.Equal("ERROR", (string?)error["type"]);
        Assert.Equal(410, (int)error["object"]!["code"]!);
        Assert.Equal("Expired", (string?)error["object"]!["reason"]);
        Assert.Contains("too old resource version", (string?)error["object"]!["message"]);
    }

    [Fact]
    public async Task Watch_HistoryIsBounded_SoAVeryOldResourceVersionExpires()
    {
        await using var server = await SandboxApiServer.StartAsync(new SandboxOptions { WatchHistory = 5 });
        using var api = new ApiClient(server);
        var ns = await api.NewNamespaceAsync();
        var rv = (string)(await api.GetAsync($"/api/v1/namespaces/{ns}/configmaps")).Object["metadata"]!["resourceVersion"]!;
        for (var i = 0; i < 10; i++) await api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ApiClient.ConfigMap($"c{i}"));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await foreach (var e in api.WatchAsync($"/api/v1/namespaces/{ns}/configmaps?watch=1&resourceVersion={rv}", cts.Token))
        {
            Assert.Equal("ERROR", (string?)e["type"]);
            Assert.Equal(410, (int)e["object"]!["code"]!);
            break;
        }
        var continuePage = await api.GetAsync($"/api/v1/namespaces/{ns}/configmaps?limit=2");
        Assert.Equal(200, continuePage.Code);
    }

    [Fact]
    public async Task Watch_WithBookmarks_ReceivesBookmarksCarryingTheCurrentResourceVersion()
    {
        await using var server = await SandboxApiServer.StartAsync(new SandboxOptions { BookmarkInterval = TimeSpan.FromMilliseconds(100) });
        using var api = new ApiClient(server);
        var ns = await api.NewNamespaceAsync();
        var rv = long.Parse((string)(await api.GetAsync($"/api/v1/namespaces/{ns}/configmaps")).Object["metadata"]!["resourceVersion"]!);
        await api.PostAsync("/api/v1/namespaces/default/configmaps", ApiClient.ConfigMap($"elsewhere-{ns}"));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await foreach (var e in api.WatchAsync($"/api/v1/namespaces/{ns}/configmaps?watch=1&allowWatchBookmarks=true&resourceVersion={rv}", cts.Token))
        {
            Assert.Equal("BOOKMARK", (string?)e["type"]);
            Assert.Equal("ConfigMap", (string?)e["object"]!["kind"]);
            Assert.True(long.Parse((string)e["object"]!["metadata"]!["resourceVersion"]!) > rv, "a bookmark moves past changes elsewhere");
            break;
        }
    }

    [Fact]
    public async Task CutWatches_DropsOpenConnections()
    {
        await using var server = await SandboxApiServer.StartAsync(new SandboxOptions());
        using var api = new ApiClient(server);
        var ns = await api.NewNamespaceAsync();
        var rv = (string)(await api.GetAsync($"/api/v1/namespaces/{ns}/configmaps")).Object["metadata"]!["resourceVersion"]!;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var watching = Task.Run(async () =>
        {
            await foreach (var _ in api.WatchAsync($"/api/v1/namespaces/{ns}/configmaps?watch=1&resourceVersion={rv}", cts.Token))
            {
            }
        });
        await Eventually.True(() => server.Audit.Keys.Any(k => k.Verb == "watch"), "the watch to open");
        await Eventually.True(() => server.Faults.CutWatches() > 0 || watching.IsCompleted, "the watch to be cut");
        var error = await Record.ExceptionAsync(() => watching.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(error is null or IOException or HttpRequestException, $"unexpected {error}");
        Assert.False(cts.IsCancellationRequested);
    }
}
