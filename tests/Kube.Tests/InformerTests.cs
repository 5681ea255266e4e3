using System.Collections.Concurrent;
using DoraOperator.Kube.Config;
using DoraOperator.Kube.Informers;
using DoraOperator.Kube.Meta;
using DoraOperator.Kube.Rest;
using DoraOperator.Sandbox;
using DoraOperator.Sandbox.Faults;
using DoraOperator.Testing;

namespace DoraOperator.Kube.Tests;

/// <summary>
/// The informer against each failure a real watch meets. After each, the cache must equal the
/// server's state exactly, and the handlers must have seen every change exactly once.
/// </summary>
public sealed class InformerTests : IAsyncLifetime
{
    private SandboxApiServer _server = null!;
    private KubeApiClient _client = null!;
    private readonly string _kubeconfig = Path.GetTempFileName();
    private string _ns = "";

    public async Task InitializeAsync()
    {
        _server = await SandboxApiServer.StartAsync(new SandboxOptions { BookmarkInterval = TimeSpan.FromMilliseconds(200) });
        await _server.WriteKubeconfigAsync(_kubeconfig);
        _client = new KubeApiClient(KubeConfigLoader.Load(_kubeconfig), new KubeClientOptions
        {
            RetryBaseDelay = TimeSpan.FromMilliseconds(5),
            MaxRetries = 1,
            WatchIdleTimeout = TimeSpan.FromMilliseconds(1500),
        });
        _ns = $"inf-{Guid.NewGuid():N}"[..12];
        await _client.CreateAsync(new Namespace { Metadata = new ObjectMeta { Name = _ns } });
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
        File.Delete(_kubeconfig);
    }

    /// <summary>Records each handler call as "verb name value" so tests can assert "exactly once".</summary>
    private sealed class Journal
    {
        public ConcurrentQueue<string> Calls { get; } = new();
        public InformerHandler<ConfigMap> Handler => new(
            a => Calls.Enqueue($"add {a.Metadata.Name} {a.Data?["k"]}"),
            (o, n) => Calls.Enqueue($"update {n.Metadata.Name} {n.Data?["k"]}"),
            d => Calls.Enqueue($"delete {d.Metadata.Name}"));
        public int Count(string call) => Calls.Count(c => c == call);
    }

    private Informer<ConfigMap> NewInformer(Journal journal, TimeSpan? watchTimeout = null)
    {
        var informer = new Informer<ConfigMap>(_client, new InformerOptions<ConfigMap>
        {
            Namespace = _ns,
            InitialBackoff = TimeSpan.FromMilliseconds(20),
            MaxBackoff = TimeSpan.FromMilliseconds(200),
            MinWatchTimeout = watchTimeout ?? TimeSpan.FromMinutes(5),
            Indexers = new Dictionary<string, Func<ConfigMap, IEnumerable<string>>> { ["value"] = cm => [cm.Data?["k"] ?? ""] },
            Transform = cm =>
            {
                cm.Metadata.ExtensionData = null;
                return cm;
            },
        });
        informer.AddHandler(journal.Handler);
        return informer;
    }

    private async Task<Informer<ConfigMap>> StartSyncedAsync(Journal journal, TimeSpan? watchTimeout = null)
    {
        var informer = NewInformer(journal, watchTimeout);
        await informer.StartAsync();
        await informer.WaitForSyncAsync().WaitAsync(TimeSpan.FromSeconds(15));
        return informer;
    }

    private async Task AssertCacheEqualsServer(Informer<ConfigMap> informer)
    {
        await Eventually.Until(async () =>
        {
            var server = await _client.ListAsync<ConfigMap>(_ns);
            var expected = server.Items.Select(i => $"{i.Metadata.Name}@{i.Metadata.ResourceVersion}").Order().ToList();
            var cached = informer.List().Select(i => $"{i.Metadata.Name}@{i.Metadata.ResourceVersion}").Order().ToList();
            return (expected, cached);
        }, x => x.expected.SequenceEqual(x.cached), "the informer cache to equal the server");
    }

    private Task Put(string name, string value) => _client.ApplyAsync(KubeFixture.ConfigMap(_ns, name, value), "test");

    [Fact]
    public async Task AnIndexValue_HoldsOneFewOrManyObjects_ThroughAddsMovesAndDeletes()
    {
        // One object under a value, a few, more than the small-set limit (16), and back down.
        var journal = new Journal();
        await using var informer = await StartSyncedAsync(journal);
        List<string> Under(string value) => [.. informer.ByIndex("value", value).Select(c => c.Metadata.Name!).Order()];
        List<string> Names(int from, int to) => [.. Enumerable.Range(from, to - from).Select(i => $"m{i:D2}").Order()];
        for (var i = 0; i < 20; i++)
        {
            await Put($"m{i:D2}", "g");
            if (i is 0 or 1 or 15 or 16 or 19) await Eventually.True(() => Under("g").Count == i + 1, $"{i + 1} under g");
        }
        Assert.Equal(Names(0, 20), Under("g"));
        for (var i = 0; i < 14; i++) await Put($"m{i:D2}", "h");
        await Eventually.True(() => Under("h").Count == 14, "14 moved to h");
        Assert.Equal(Names(14, 20), Under("g"));
        for (var i = 14; i < 19; i++) await _client.DeleteAsync<ConfigMap>($"m{i:D2}", _ns);
        await Eventually.True(() => Under("g").Count == 1, "one left under g");
        Assert.Equal(["m19"], Under("g"));
        await _client.DeleteAsync<ConfigMap>("m19", _ns);
        await Eventually.True(() => Under("g").Count == 0, "none left under g");
        Assert.Equal(Names(0, 14), Under("h"));
        await AssertCacheEqualsServer(informer);
    }

    [Fact]
    public async Task AnUpdatedObject_LeavesNoCopyOfItsNameBehind()
    {
        // The cache is keyed by name; the key must be the current object's own name text, not the
        // first version's, or every updated object keeps a second copy of its name alive.
        WeakReference? firstName = null;
        var journal = new Journal();
        await using var informer = NewInformer(journal);
        informer.AddHandler(new InformerHandler<ConfigMap>(OnAdd: a => firstName ??= new WeakReference(a.Metadata.Name)));
        await informer.StartAsync();
        await informer.WaitForSyncAsync().WaitAsync(TimeSpan.FromSeconds(10));
        await Put("named", "1");
        await Eventually.True(() => firstName is not null, "the add");
        await Put("named", "2");
        await Eventually.True(() => journal.Count("update named 2") == 1, "the update");
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(firstName!.IsAlive, "the first version's name is still referenced after the update");
        Assert.Equal("2", informer.Get(_ns, "named")!.Data!["k"]);
        Assert.Equal("named", Assert.Single(informer.ByIndex("value", "2")).Metadata.Name);
    }

    [Fact]
    public async Task AnEvictedObject_LeavesTheCacheSilently_AndComesBackWithItsNextEventOrARelist()
    {
        await Put("old", "1");
        await Put("kept", "1");
        var journal = new Journal();
        await using var informer = await StartSyncedAsync(journal);
        var old = informer.Get(_ns, "old")!;

        Assert.True(informer.Evict(old));
        Assert.Null(informer.Get(_ns, "old"));
        Assert.Equal("kept", Assert.Single(informer.ByIndex("value", "1")).Metadata.Name);
        Assert.Equal(1, informer.Count);
        Assert.Equal(1, informer.Evictions);
        Assert.False(informer.Evict(old), "a second eviction of the same object");
        Assert.DoesNotContain(journal.Calls, c => c.StartsWith("delete", StringComparison.Ordinal));

        // Its next change is an add to the handlers; a version the cache no longer holds is not evicted.
        await Put("old", "2");
        await Eventually.True(() => journal.Count("add old 2") == 1, "the evicted object's update to come back as an add");
        Assert.False(informer.Evict(old), "the evicted version, after a newer one was cached");
        Assert.Equal("2", informer.Get(_ns, "old")!.Data!["k"]);

        // Deleting an evicted object still reaches the handlers.
        Assert.True(informer.Evict(informer.Get(_ns, "old")!));
        await _client.DeleteAsync<ConfigMap>("old", _ns);
        await Eventually.True(() => journal.Count("delete old") == 1, "the delete of the evicted object");

        // A relist brings back what was evicted, as an add.
        Assert.True(informer.Evict(informer.Get(_ns, "kept")!));
        await Eventually.True(() => _server.OpenWatches > 0, "the informer's watch to open");
        _server.Faults.FreezeWatches();
        await Put("other", "1");
        _server.Faults.CompactHistory();
        _server.Faults.CutWatches();
        await Eventually.True(() => journal.Count("add kept 1") == 2 && journal.Count("add other 1") == 1, "the relist to add the evicted object again");
        await AssertCacheEqualsServer(informer);
    }

    [Fact]
    public async Task ListsThenWatches_AndIndexesTheCache()
    {
        await Put("pre", "1");
        var journal = new Journal();
        await using var informer = NewInformer(journal);
        await informer.StartAsync();
        await informer.WaitForSyncAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(informer.HasSynced);
        await Put("live", "2");
        await Put("pre", "3");
        await _client.DeleteAsync<ConfigMap>("live", _ns);
        await Eventually.True(() => journal.Count("delete live") == 1, "the delete");
        Assert.Equal(["add pre 1", "add live 2", "update pre 3", "delete live"], journal.Calls);
        Assert.Equal("pre", Assert.Single(informer.ByIndex("value", "3")).Metadata.Name);
        Assert.Single(informer.ByIndex(Informer<ConfigMap>.NamespaceIndex, _ns));
        await AssertCacheEqualsServer(informer);
    }

    [Fact]
    public async Task ServerClosingTheStream_ReWatchesWithoutRelisting_AndLosesNothing()
    {
        var journal = new Journal();
        await using var informer = await StartSyncedAsync(journal, watchTimeout: TimeSpan.FromSeconds(1));
        for (var i = 0; i < 5; i++)
        {
            var restarts = informer.WatchRestarts;
            await Put($"c{i}", "1");
            // Each write lands on a different watch: wait for the server to end the current one.
            if (i < 2) await Eventually.True(() => informer.WatchRestarts > restarts, "the server to end the watch");
        }
        await Eventually.True(() => journal.Calls.Count == 5, "five adds");
        Assert.True(informer.WatchRestarts >= 1, "the 1-2 s server timeout must have ended at least one watch");
        Assert.Equal(1, informer.Relists);
        Assert.All(Enumerable.Range(0, 5), i => Assert.Equal(1, journal.Count($"add c{i} 1")));
        await AssertCacheEqualsServer(informer);
    }

    [Fact]
    public async Task CutConnection_IsResumedFromTheLastResourceVersion()
    {
        var journal = new Journal();
        await using var informer = await StartSyncedAsync(journal);
        await Put("a", "1");
        await Eventually.True(() => journal.Count("add a 1") == 1, "the first add");
        await Eventually.True(() => _server.OpenWatches > 0, "the informer's watch to open");
        _server.Faults.CutWatches();
        await Put("b", "1");
        await Put("a", "2");
        await Eventually.True(() => journal.Count("update a 2") == 1, "the update after the cut");
        Assert.Equal(1, journal.Count("add b 1"));
        Assert.Equal(1, journal.Count("add a 1"));
        await AssertCacheEqualsServer(informer);
    }

    [Fact]
    public async Task DeadConnection_WithNoBytes_IsDetectedByTheReadDeadline()
    {
        var journal = new Journal();
        await using var informer = await StartSyncedAsync(journal);
        await Eventually.True(() => _server.OpenWatches > 0, "the informer's watch to open");
        var restarts = informer.WatchRestarts;
        _server.Faults.FreezeWatches();
        await Put("during-freeze", "1");
        await Eventually.True(() => journal.Count("add during-freeze 1") == 1, "the stalled watch to be replaced", TimeSpan.FromSeconds(10));
        // The add came through a new watch: the frozen one never delivered it.
        Assert.True(informer.WatchRestarts > restarts);
        await AssertCacheEqualsServer(informer);
    }

    [Fact]
    public async Task HistoryCompaction_410_Relists_AndHandlersSeeExactlyTheDifferences()
    {
        await Put("keep", "1");
        await Put("change", "1");
        await Put("remove", "1");
        var journal = new Journal();
        await using var informer = await StartSyncedAsync(journal);
        await Eventually.True(() => _server.OpenWatches > 0, "the informer's watch to open");
        _server.Faults.FreezeWatches();
        await Put("change", "2");
        await _client.DeleteAsync<ConfigMap>("remove", _ns);
        await Put("new", "1");
        _server.Faults.CompactHistory();
        _server.Faults.CutWatches();
        await Eventually.True(() => journal.Count("delete remove") == 1 && journal.Count("update change 2") == 1 && journal.Count("add new 1") == 1, "the relist differences");
        Assert.True(informer.Relists >= 2);
        Assert.Equal(1, journal.Count("add keep 1"));
        Assert.DoesNotContain(journal.Calls, c => c.StartsWith("update keep", StringComparison.Ordinal));
        await AssertCacheEqualsServer(informer);
    }

    /// <summary>What a cache of ConfigMaps might keep instead of the objects: the name, version and one value.</summary>
    private sealed record Value(string? Namespace, string? Name, string? ResourceVersion, string? Text) : ICacheItem;

    [Fact]
    public async Task CachingASmallerType_ListsWatchesIndexesAndRelists_LikeTheObjects()
    {
        Assert.Throws<ArgumentException>(() => new Informer<ConfigMap, Value>(_client, new InformerOptions<ConfigMap, Value> { Namespace = _ns }));
        await Put("keep", "1");
        await Put("change", "1");
        var calls = new ConcurrentQueue<string>();
        await using var informer = new Informer<ConfigMap, Value>(_client, new InformerOptions<ConfigMap, Value>
        {
            Namespace = _ns,
            InitialBackoff = TimeSpan.FromMilliseconds(20),
            Transform = cm => new Value(cm.Metadata.Namespace, cm.Metadata.Name, cm.Metadata.ResourceVersion, cm.Data?["k"]),
            Indexers = new Dictionary<string, Func<Value, IEnumerable<string>>> { ["value"] = v => [v.Text ?? ""] },
        });
        informer.AddHandler(new(a => calls.Enqueue($"add {a.Name} {a.Text}"), (_, n) => calls.Enqueue($"update {n.Name} {n.Text}"), d => calls.Enqueue($"delete {d.Name} {d.Text}")));
        await informer.StartAsync();
        await informer.WaitForSyncAsync().WaitAsync(TimeSpan.FromSeconds(10));
        await Put("live", "2");
        await _client.DeleteAsync<ConfigMap>("live", _ns);
        await Eventually.True(() => calls.Contains("delete live 2"), "the delete");
        Assert.Equal("1", informer.Get(_ns, "keep")!.Text);
        Assert.Equal(["change", "keep"], informer.ByIndex("value", "1").Select(v => v.Name).Order());

        await Eventually.True(() => _server.OpenWatches > 0, "the informer's watch to open");
        _server.Faults.FreezeWatches();
        await Put("change", "2");
        await Put("new", "3");
        _server.Faults.CompactHistory();
        _server.Faults.CutWatches();
        await Eventually.True(() => calls.Contains("update change 2") && calls.Contains("add new 3"), "the relist differences");
        Assert.True(informer.Relists >= 2);
        Assert.Equal(1, calls.Count(c => c == "add keep 1"));
        Assert.DoesNotContain(calls, c => c.StartsWith("update keep", StringComparison.Ordinal));
        var server = await _client.ListAsync<ConfigMap>(_ns);
        Assert.Equal(server.Items.Select(i => $"{i.Metadata.Name}@{i.Metadata.ResourceVersion}").Order(), informer.List().Select(v => $"{v.Name}@{v.ResourceVersion}").Order());
        Assert.Equal("new", Assert.Single(informer.ByIndex("value", "3")).Name);
    }

    [Fact]
    public async Task Resync_HandsEveryCachedObjectToOnUpdate_OnTheClock()
    {
        await Put("r1", "1");
        await Put("r2", "1");
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));
        var journal = new Journal();
        await using var informer = new Informer<ConfigMap>(_client, new InformerOptions<ConfigMap> { Namespace = _ns, ResyncPeriod = TimeSpan.FromMinutes(10) }, clock);
        informer.AddHandler(journal.Handler);
        await informer.StartAsync();
        await informer.WaitForSyncAsync();
        clock.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal(2, journal.Calls.Count);
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, journal.Count("update r1 1"));
        Assert.Equal(1, journal.Count("update r2 1"));
    }

    [Fact]
    public async Task ListFailures_500And429_AreRetriedWithBackoff()
    {
        _server.Faults.Add(new FaultRule { Verb = "list", Resource = "configmaps", Code = 500, Times = 3 });
        _server.Faults.Add(new FaultRule { Verb = "list", Resource = "configmaps", Code = 429, RetryAfterSeconds = 0, Times = 2 });
        await Put("x", "1");
        var journal = new Journal();
        await using var informer = NewInformer(journal);
        await informer.StartAsync();
        await informer.WaitForSyncAsync().WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(5, _server.Faults.Fired);
        Assert.Equal(["add x 1"], journal.Calls);
    }

    [Fact]
    public async Task WatchFailures_AreRetried_AndBookmarksAdvanceTheResourceVersion()
    {
        var journal = new Journal();
        await using var informer = await StartSyncedAsync(journal);
        var synced = long.Parse(informer.LastResourceVersion);
        await _client.CreateAsync(KubeFixture.ConfigMap("default", $"elsewhere-{Guid.NewGuid():N}"[..20]));
        await Eventually.True(() => long.Parse(informer.LastResourceVersion) > synced, "a bookmark to move the resourceVersion");
        Assert.Empty(journal.Calls);

        _server.Faults.Add(new FaultRule { Verb = "watch", Resource = "configmaps", Code = 500, Times = 2 });
        _server.Faults.CutWatches();
        await Put("after-errors", "1");
        await Eventually.True(() => journal.Count("add after-errors 1") == 1, "the watch to recover");
        await AssertCacheEqualsServer(informer);
    }
}
