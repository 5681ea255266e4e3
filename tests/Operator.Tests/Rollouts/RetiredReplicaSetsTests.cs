using DoraOperator.Entities.BuiltIn;
using DoraOperator.Operator.Caching;
using DoraOperator.Operator.Hosting;
using DoraOperator.Testing;
using Microsoft.Extensions.Logging;

namespace DoraOperator.Operator.Tests.Rollouts;

/// <summary>
/// Once a Deployment's current revision is recorded, the cache keeps only its current and previous
/// ReplicaSets: the older ones are described by their records. A rollback to one of them, and a
/// restarted operator, still record exactly what they would with every ReplicaSet cached.
/// </summary>
public sealed class RetiredReplicaSetsTests : IAsyncLifetime
{
    private OperatorOnSandbox _env = null!;

    public async Task InitializeAsync()
    {
        _env = await OperatorOnSandbox.StartAsync();
        await _env.Kubectl.OkAsync("apply -f -", OperatorOnSandbox.ShopProject);
    }

    public async Task DisposeAsync() => await _env.DisposeAsync();

    private Task Release(int version) =>
        _env.Kubectl.OkAsync("apply -f -", OperatorOnSandbox.WebDeployment(version.ToString("D40", System.Globalization.CultureInfo.InvariantCulture), $"registry.example.com/shop/web:v{version}"));

    private static List<long> CachedRevisions(OperatorHost host)
    {
        var uid = host.Cache.Deployments.Get("shop", "web")!.Metadata.Uid!;
        return [.. host.Cache.ReplicaSets.ByIndex(CacheIndexes.Owner, uid)
            .Select(rs => long.Parse(rs.Annotations![Workloads.RevisionAnnotation], System.Globalization.CultureInfo.InvariantCulture)).Order()];
    }

    private async Task<List<string>> RecordPhases()
    {
        var listed = await _env.Kubectl.OkAsync("get dr --no-headers -o custom-columns=NAME:.metadata.name,PHASE:.status.phase");
        return [.. listed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => string.Join('=', l.Split(' ', StringSplitOptions.RemoveEmptyEntries))).Order(StringComparer.Ordinal)];
    }

    private async Task<List<string>> Versions()
    {
        var listed = await _env.Kubectl.OkAsync("get dr --no-headers -o custom-columns=NAME:.metadata.name,VERSION:.metadata.resourceVersion");
        return [.. listed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => string.Join('@', l.Split(' ', StringSplitOptions.RemoveEmptyEntries))).Order(StringComparer.Ordinal)];
    }

    [Fact]
    public async Task OldReplicaSets_LeaveTheCache_OnceRecorded_AndRollbacksAndRestartsRecordAsBefore()
    {
        // Four revisions before the operator runs: the first three are backfilled, the fourth tracked.
        for (var v = 1; v <= 4; v++)
        {
            await Release(v);
            await _env.Kubectl.OkAsync("rollout status deployment/web --timeout=30s");
        }
        var host = await _env.StartOperatorAsync();
        try
        {
            await Records.WaitAsync(_env.Kubectl, "web-4", r => Records.Phase(r) == "Succeeded", "web-4 to succeed");
            await Eventually.True(() => CachedRevisions(host) is [3, 4], "only the current and previous ReplicaSets to stay cached");
            Assert.Equal(2, host.Cache.ReplicaSets.Evictions);
            Assert.Equal(4, (await _env.Kubectl.OkAsync("get rs -o name")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
            Assert.Equal(["web-1=Succeeded", "web-2=Succeeded", "web-3=Succeeded", "web-4=Succeeded"], await RecordPhases());

            // A rollback to a retired revision renumbers its ReplicaSet, whose update brings it back.
            await _env.Kubectl.OkAsync("rollout undo deployment/web --to-revision=1");
            await _env.Kubectl.OkAsync("rollout status deployment/web --timeout=30s");
            var rollback = await Records.WaitAsync(_env.Kubectl, "web-5", r => Records.Phase(r) == "Succeeded", "the rollback to succeed");
            Assert.Equal("web-4", (string?)rollback["status"]!["rollbackOf"]);
            Assert.Equal(new string('0', 39) + "1", (string?)rollback["spec"]!["commitSha"]);
            await Eventually.True(() => CachedRevisions(host) is [4, 5], "the reused ReplicaSet and the previous one to be cached");
            Assert.Equal(["web-1=Succeeded", "web-2=Succeeded", "web-3=Succeeded", "web-4=RolledBack", "web-5=Succeeded"], await RecordPhases());
        }
        finally
        {
            await host.DisposeAsync();
        }

        // A restarted operator lists every ReplicaSet again and retires the old ones; it records nothing twice.
        var before = await Versions();
        host = await _env.StartOperatorAsync();
        await using (host)
        {
            await Eventually.True(() => CachedRevisions(host) is [4, 5], "the restarted operator to retire the old ReplicaSets");
            await Release(6);
            await Records.WaitAsync(_env.Kubectl, "web-6", r => Records.Phase(r) == "Succeeded", "web-6 to succeed");
            await Eventually.True(() => CachedRevisions(host) is [5, 6], "revision 4's ReplicaSet to retire after revision 6");
            Assert.Equal(["web-1=Succeeded", "web-2=Succeeded", "web-3=Succeeded", "web-4=RolledBack", "web-5=Succeeded", "web-6=Succeeded"], await RecordPhases());
        }
        var after = await Versions();
        Assert.Equal(before.Where(l => !l.StartsWith("web-5", StringComparison.Ordinal)),
            after.Where(l => !l.StartsWith("web-5", StringComparison.Ordinal) && !l.StartsWith("web-6", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task OnceEveryWorkloadIsReconciled_TheHeapIsCompactedOnce_AfterTheOldReplicaSetsRetired()
    {
        for (var v = 1; v <= 4; v++)
        {
            await Release(v);
            await _env.Kubectl.OkAsync("rollout status deployment/web --timeout=30s");
        }
        OperatorHost? started = null;
        var compactions = new System.Collections.Concurrent.ConcurrentQueue<(string Message, long Evictions)>();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(new Sink((level, message) =>
        {
            if (message.Contains("compacted the managed heap", StringComparison.Ordinal)) compactions.Enqueue((message, started?.Cache.ReplicaSets.Evictions ?? -1));
        })));
        started = await OperatorHost.StartAsync(_env.Options, loggers);
        await using (started)
        {
            await Eventually.True(() => !compactions.IsEmpty, "the compaction after the start", TimeSpan.FromSeconds(30));
            var (message, evictions) = Assert.Single(compactions);
            Assert.Matches(@"^caches synced and the rollout queue quiet: compacted the managed heap from \d+ MB to \d+ MB in \d+ ms$", message);
            Assert.Equal(2, evictions);
            await Release(5);
            await Records.WaitAsync(_env.Kubectl, "web-5", r => Records.Phase(r) == "Succeeded", "web-5 to succeed");
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.Single(compactions);
        }
    }

    private sealed class Sink(Action<LogLevel, string> write) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(write);

        public void Dispose()
        {
        }

        private sealed class Logger(Action<LogLevel, string> write) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                write(logLevel, formatter(state, exception));
        }
    }
}
