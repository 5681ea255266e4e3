using DoraOperator.Kube.Meta;
using DoraOperator.Kube.Rest;
using DoraOperator.Sandbox.Faults;

namespace DoraOperator.Kube.Tests;

public sealed class RestTests(KubeFixture fixture) : IClassFixture<KubeFixture>
{
    private KubeApiClient Client => fixture.Client;

    [Fact]
    public async Task TypedVerbs_CreateGetReplacePatchDelete()
    {
        var ns = await fixture.NewNamespaceAsync();
        var created = await Client.CreateAsync(KubeFixture.ConfigMap(ns, "a"));
        Assert.NotNull(created.Metadata.Uid);
        Assert.NotNull(created.Metadata.CreationTimestamp);

        created.Data!["k"] = "changed";
        var replaced = await Client.ReplaceAsync(created);
        Assert.Equal("changed", replaced.Data!["k"]);

        var merged = await Client.PatchAsync<ConfigMap>("a", ns, PatchType.Merge, """{"data":{"m":"1"}}""");
        Assert.Equal("1", merged.Data!["m"]);
        var json = await Client.PatchAsync<ConfigMap>("a", ns, PatchType.Json, """[{"op":"remove","path":"/data/m"}]""");
        Assert.False(json.Data!.ContainsKey("m"));
        var strategic = await Client.PatchAsync<ConfigMap>("a", ns, PatchType.Strategic, """{"metadata":{"labels":{"s":"1"}}}""");
        Assert.Equal("1", strategic.Metadata.Labels!["s"]);

        await Client.DeleteAsync<ConfigMap>("a", ns);
        Assert.Null(await Client.TryGetAsync<ConfigMap>("a", ns));
    }

    [Fact]
    public async Task WriteResponses_CanSkipTheFieldsTheTypesDoNotName()
    {
        var ns = await fixture.NewNamespaceAsync();
        var kept = await Client.CreateAsync(KubeFixture.ConfigMap(ns, "kept"));
        Assert.True(kept.Metadata.ExtensionData!.ContainsKey("managedFields"));
        var skipped = await Client.CreateAsync(KubeFixture.ConfigMap(ns, "skipped"), UnknownFields.Skip);
        Assert.Null(skipped.Metadata.ExtensionData);
        Assert.NotNull(skipped.Metadata.ResourceVersion);
        var patched = await Client.PatchAsync<ConfigMap>("skipped", ns, PatchType.Merge, """{"data":{"m":"1"}}""", null, UnknownFields.Skip);
        Assert.Null(patched.Metadata.ExtensionData);
        Assert.Equal("1", patched.Data!["m"]);
        Assert.NotEqual(skipped.Metadata.ResourceVersion, patched.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task LargeListPages_ServedChunked_DecodeWhole()
    {
        // 120 ConfigMaps of 4 KB: one page of about 500 KB, more than the client's first buffer,
        // served chunked (no Content-Length) as an API server serves large responses.
        var ns = await fixture.NewNamespaceAsync();
        for (var i = 0; i < 120; i++) await Client.CreateAsync(KubeFixture.ConfigMap(ns, $"big-{i:D3}", new string((char)('a' + (i % 26)), 4096)));

        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        using var raw = new HttpClient(handler) { BaseAddress = fixture.Server.Url };
        raw.DefaultRequestHeaders.Authorization = new("Bearer", fixture.Server.AdminToken);
        using (var page = await raw.GetAsync($"/api/v1/namespaces/{ns}/configmaps", HttpCompletionOption.ResponseHeadersRead))
        {
            page.EnsureSuccessStatusCode();
            Assert.Null(page.Content.Headers.ContentLength);
            Assert.True((await page.Content.ReadAsByteArrayAsync()).Length > 256 * 1024);
        }
        await Client.CreateAsync(KubeFixture.ConfigMap(ns, "tiny"));
        using (var small = await raw.GetAsync($"/api/v1/namespaces/{ns}/configmaps/tiny", HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.InRange(small.Content.Headers.ContentLength ?? 0, 100, 2048);
        }

        var list = await Client.ListAsync<ConfigMap>(ns);
        Assert.Equal(121, list.Items.Count);
        for (var i = 0; i < 120; i++) Assert.Equal(new string((char)('a' + (i % 26)), 4096), list.Items.Single(c => c.Metadata.Name == $"big-{i:D3}").Data!["k"]);
        var paged = await Client.ListAsync<ConfigMap>(ns, new ListOptions { Limit = 50 });
        Assert.Equal(list.Items.Select(c => c.Metadata.Name).Order(), paged.Items.Select(c => c.Metadata.Name).Order());
    }

    [Fact]
    public async Task Errors_CarryTheServerStatus()
    {
        var ns = await fixture.NewNamespaceAsync();
        var missing = await Assert.ThrowsAsync<KubeApiException>(() => Client.GetAsync<ConfigMap>("nope", ns));
        Assert.True(missing.IsNotFound);
        Assert.Equal("NotFound", missing.Reason);
        Assert.Contains("configmaps \"nope\" not found", missing.Status.Message);

        await Client.CreateAsync(KubeFixture.ConfigMap(ns, "dup"));
        var exists = await Assert.ThrowsAsync<KubeApiException>(() => Client.CreateAsync(KubeFixture.ConfigMap(ns, "dup")));
        Assert.True(exists.IsAlreadyExists);
        Assert.False(exists.IsConflict);

        var invalid = await Assert.ThrowsAsync<KubeApiException>(() => Client.CreateAsync(KubeFixture.ConfigMap(ns, "Not_Valid")));
        Assert.True(invalid.IsInvalid);
        Assert.Equal("metadata.name", invalid.Status.Details!.Causes![0].Field);
    }

    [Fact]
    public async Task Conflict_IsSurfaced_AndUpdateWithRetryResolvesIt()
    {
        var ns = await fixture.NewNamespaceAsync();
        var original = await Client.CreateAsync(KubeFixture.ConfigMap(ns, "c", "0"));
        await Client.PatchAsync<ConfigMap>("c", ns, PatchType.Merge, """{"data":{"other":"x"}}""");
        original.Data!["k"] = "stale";
        var conflict = await Assert.ThrowsAsync<KubeApiException>(() => Client.ReplaceAsync(original));
        Assert.True(conflict.IsConflict);

        var writes = 0;
        var result = await Client.UpdateWithRetryAsync<ConfigMap>("c", ns, cm =>
        {
            if (writes++ == 0)
            {
                // Another writer sneaks in between our read and our write, once.
                Client.PatchAsync<ConfigMap>("c", ns, PatchType.Merge, """{"data":{"race":"1"}}""").GetAwaiter().GetResult();
            }
            cm.Data!["k"] = "fresh";
            return true;
        });
        Assert.Equal(2, writes);
        Assert.Equal("fresh", result.Data!["k"]);
        Assert.Equal("1", result.Data!["race"]);
        Assert.Equal("x", result.Data!["other"]);
    }

    [Fact]
    public async Task List_PagesThrough2000ObjectsWithLimit100()
    {
        var ns = await fixture.NewNamespaceAsync();
        await Parallel.ForEachAsync(Enumerable.Range(0, 2000), new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (i, ct) => await Client.CreateAsync(KubeFixture.ConfigMap(ns, $"cm-{i:D4}"), ct));
        var before = fixture.Server.Audit.Where(a => a.Key.Verb == "list" && a.Key.Resource == "configmaps").Sum(a => a.Value);
        var list = await Client.ListAsync<ConfigMap>(ns, new ListOptions(Limit: 100));
        var after = fixture.Server.Audit.Where(a => a.Key.Verb == "list" && a.Key.Resource == "configmaps").Sum(a => a.Value);
        Assert.Equal(2000, list.Items.Count);
        Assert.Equal(2000, list.Items.Select(i => i.Metadata.Name).Distinct().Count());
        Assert.Equal(20, after - before);
        Assert.False(string.IsNullOrEmpty(list.ResourceVersion));
    }

    [Fact]
    public async Task List_WithATransform_TransformsEachPageBeforeFetchingTheNext()
    {
        var ns = await fixture.NewNamespaceAsync();
        await Parallel.ForEachAsync(Enumerable.Range(0, 250), new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (i, ct) => await Client.CreateAsync(KubeFixture.ConfigMap(ns, $"cm-{i:D4}"), ct));
        int Lists() => fixture.Server.Audit.Where(a => a.Key.Verb == "list" && a.Key.Resource == "configmaps").Sum(a => a.Value);
        var before = Lists();
        var pageOfEachCall = new List<int>();
        var list = await Client.ListAsync<ConfigMap>(ns, new ListOptions(Limit: 100), cm =>
        {
            pageOfEachCall.Add(Lists() - before);
            return new ConfigMap { Metadata = new ObjectMeta { Name = cm.Metadata.Name, Namespace = cm.Metadata.Namespace } };
        });
        Assert.Equal(250, list.Items.Count);
        Assert.All(list.Items, cm => Assert.Null(cm.Data));
        // Items 0-99 are transformed while only the first page has been fetched, and so on.
        Assert.Equal(Enumerable.Repeat(1, 100).Concat(Enumerable.Repeat(2, 100)).Concat(Enumerable.Repeat(3, 50)), pageOfEachCall);
    }

    [Fact]
    public async Task ServerSideApply_And_DeletePreconditions()
    {
        var ns = await fixture.NewNamespaceAsync();
        var applied = await Client.ApplyAsync(KubeFixture.ConfigMap(ns, "ssa", "1"), "kube-tests");
        Assert.Equal("1", applied.Data!["k"]);
        var stale = await Assert.ThrowsAsync<KubeApiException>(() => Client.DeleteAsync<ConfigMap>("ssa", ns, new DeleteOptions(PreconditionUid: "not-the-uid")));
        Assert.True(stale.IsConflict);
        await Client.DeleteAsync<ConfigMap>("ssa", ns, new DeleteOptions(PreconditionUid: applied.Metadata.Uid, PropagationPolicy: "Foreground"));
        Assert.Null(await Client.TryGetAsync<ConfigMap>("ssa", ns));
    }

    [Fact]
    public async Task StatusSubresource_ReplaceStatusWritesOnlyStatus()
    {
        var ns = await fixture.NewNamespaceAsync();
        fixture.Server.Deployments!.SetPace(ns, "d", DoraOperator.Sandbox.Controllers.RolloutPace.Manual);
        var template = System.Text.Json.Nodes.JsonNode.Parse("""{"metadata":{"labels":{"app":"d"}},"spec":{"containers":[{"name":"c","image":"i:1"}]}}""")!.AsObject();
        var created = await Client.CreateAsync(new TestDeployment
        {
            Metadata = new ObjectMeta { Name = "d", Namespace = ns },
            Spec = new TestDeploymentSpec { Replicas = 1, Selector = new LabelSelector { MatchLabels = new() { ["app"] = "d" } }, Template = template },
        });
        var updated = await Client.UpdateWithRetryAsync<TestDeployment>("d", ns, d =>
        {
            d.Status = new TestDeploymentStatus { ObservedGeneration = 42 };
            d.Spec!.Replicas = 9;
            return true;
        }, status: true);
        Assert.Equal(42, updated.Status!.ObservedGeneration);
        Assert.Equal(1, updated.Spec!.Replicas);
        Assert.Equal(created.Metadata.Generation, updated.Metadata.Generation);
    }

    [Fact]
    public async Task Retries_On500And429_HonouringRetryAfter_ButNeverOn4xx()
    {
        await using var server = await DoraOperator.Sandbox.SandboxApiServer.StartAsync();
        var path = Path.GetTempFileName();
        await server.WriteKubeconfigAsync(path);
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));
        using var client = new KubeApiClient(Config.KubeConfigLoader.Load(path), new KubeClientOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(5) }, clock);
        server.Faults.Add(new FaultRule { Verb = "get", Resource = "namespaces", Code = 500, Times = 2 });
        Assert.Equal("default", (await FakeTimeGet(client, clock)).Metadata.Name);
        Assert.Equal(2, server.Faults.Fired);

        server.Faults.Add(new FaultRule { Verb = "get", Resource = "namespaces", Code = 429, RetryAfterSeconds = 1, Times = 1 });
        var get = client.GetAsync<Namespace>("default");
        var waited = await DoraOperator.Testing.FakeTime.DriveUntilAsync(clock, get, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30));
        Assert.InRange(waited, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)); // Retry-After: 1 is honoured (and not twice)

        server.Faults.Add(new FaultRule { Verb = "get", Resource = "namespaces", Code = 404, Times = 1 });
        var notFound = await Assert.ThrowsAsync<KubeApiException>(() => client.GetAsync<Namespace>("default"));
        Assert.True(notFound.IsNotFound);
        Assert.Equal(4, server.Faults.Fired);

        server.Faults.Add(new FaultRule { Verb = "get", Resource = "namespaces", Code = 503, Times = 100 });
        var exhausted = await Assert.ThrowsAsync<KubeApiException>(() => FakeTimeGet(client, clock));
        Assert.Equal(503, exhausted.Code);
        Assert.Equal(4 + 6, server.Faults.Fired);
        File.Delete(path);
    }

    [Fact]
    public async Task ConnectionErrors_AreRetried_ThenSurfaced()
    {
        var port = DoraOperator.Testing.Ports.Unused();
        var attempts = 0;
        var options = new KubeClientOptions { MaxRetries = 3, RetryBaseDelay = TimeSpan.FromMilliseconds(1), OnResponse = (_, code) => { if (code == 0) Interlocked.Increment(ref attempts); } };
        using var client = new KubeApiClient(new Config.KubeConnection { Server = new Uri($"http://127.0.0.1:{port}") }, options);
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync<Namespace>("default"));
        Assert.Equal(4, attempts);
    }

    [Fact]
    public async Task ClientSideRateLimit_SpacesRequests()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));
        using var client = new KubeApiClient(fixture.Client.Connection, new KubeClientOptions { Qps = 20, Burst = 1 }, clock);
        async Task ElevenAsync()
        {
            for (var i = 0; i < 11; i++) await client.GetAsync<Namespace>("default");
        }
        var took = await DoraOperator.Testing.FakeTime.DriveUntilAsync(clock, ElevenAsync(), TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(10));
        // The first goes at once (burst 1); each of the other ten waits 1/20 s for its token.
        Assert.InRange(took, TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(1000));
    }

    /// <summary>A GET whose retries wait on <paramref name="clock"/>, driven forward until it ends.</summary>
    private static async Task<Namespace> FakeTimeGet(KubeApiClient client, Microsoft.Extensions.Time.Testing.FakeTimeProvider clock)
    {
        var get = client.GetAsync<Namespace>("default");
        await DoraOperator.Testing.FakeTime.DriveUntilAsync(clock, get, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10)).ContinueWith(_ => { }, TaskScheduler.Default);
        return await get;
    }
}
