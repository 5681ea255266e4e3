using DoraOperator.Kube.Queue;
using DoraOperator.Testing;

namespace DoraOperator.Kube.Tests;

public sealed class WorkQueueTests
{
    [Fact]
    public async Task AddingAQueuedKeyTwice_RunsItOnce()
    {
        using var queue = new WorkQueue<string>();
        queue.Add("a");
        queue.Add("a");
        queue.Add("b");
        Assert.Equal(2, queue.Length);
        var (first, _) = await queue.GetAsync();
        var (second, _) = await queue.GetAsync();
        Assert.Equal(["a", "b"], new[] { first, second });
        Assert.Equal(0, queue.Length);
    }

    [Fact]
    public async Task AKeyAddedWhileProcessing_IsRequeuedOnlyAfterDone()
    {
        using var queue = new WorkQueue<string>();
        queue.Add("k");
        var (item, _) = await queue.GetAsync();
        queue.Add("k");
        Assert.Equal(0, queue.Length);
        queue.Done(item);
        Assert.Equal(1, queue.Length);
    }

    [Fact]
    public async Task Controller_NeverRunsOneKeyOnTwoWorkersAtOnce()
    {
        using var queue = new WorkQueue<string>(options: new WorkQueueOptions { Qps = 0 });
        var running = new Dictionary<string, int>();
        var maxConcurrentPerKey = 0;
        var total = 0;
        var gate = new Lock();
        using var cts = new CancellationTokenSource();
        var controller = new Controller<string>("test", queue, async (key, ct) =>
        {
            lock (gate)
            {
                running[key] = running.GetValueOrDefault(key) + 1;
                maxConcurrentPerKey = Math.Max(maxConcurrentPerKey, running[key]);
                total++;
            }
            try
            {
                // Hold the key a moment, as real work would, so a second worker would overlap if the queue allowed it.
                await Task.Delay(2, ct);
            }
            finally
            {
                // Also when the stop cancels the work: a key still queued then is handed out (the queue drains).
                lock (gate) running[key]--;
            }
            return ReconcileResult.Done;
        }, workers: 8);
        var run = controller.RunAsync(cts.Token);
        for (var i = 0; i < 2000; i++) queue.Add($"key-{i % 5}");
        await Eventually.True(() =>
        {
            lock (gate) return queue.Length == 0 && total > 0 && running.Values.All(v => v == 0);
        }, "the queue to drain");
        await cts.CancelAsync();
        await run;
        Assert.Equal(1, maxConcurrentPerKey);
        Assert.True(total >= 5);
    }

    [Fact]
    public async Task ShutDown_ReleasesWaitingWorkers_DropsNewAdds_AndIsIdempotent()
    {
        var queue = new WorkQueue<string>();
        var waiting = queue.GetAsync().AsTask();
        queue.ShutDown();
        var (_, ok) = await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(ok);
        queue.Add("late");
        Assert.Equal(0, queue.Length);
        queue.ShutDown();
        queue.Dispose();
        queue.Dispose();
    }

    [Fact]
    public void Backoff_GrowsExponentially_AndForgetResetsIt()
    {
        using var queue = new WorkQueue<string>(options: new WorkQueueOptions { Qps = 0 });
        var delays = Enumerable.Range(0, 5).Select(_ => queue.NextDelay("x")).ToList();
        Assert.Equal([5, 10, 20, 40, 80], delays.Select(d => (int)d.TotalMilliseconds));
        Assert.Equal(5, queue.NumRequeues("x"));
        queue.Forget("x");
        Assert.Equal(5, (int)queue.NextDelay("x").TotalMilliseconds);
        for (var i = 0; i < 40; i++) queue.NextDelay("y");
        Assert.Equal(TimeSpan.FromSeconds(1000), queue.NextDelay("y"));
    }

    [Fact]
    public void OverallTokenBucket_LimitsBurstsAcrossKeys()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));
        using var queue = new WorkQueue<string>(clock, new WorkQueueOptions { Qps = 10, Burst = 100 });
        var delays = Enumerable.Range(0, 110).Select(i => queue.NextDelay($"k{i}")).ToList();
        Assert.All(delays.Take(100), d => Assert.Equal(TimeSpan.FromMilliseconds(5), d));
        Assert.Equal(TimeSpan.FromMilliseconds(100), delays[100]);
        Assert.Equal(TimeSpan.FromSeconds(1), delays[109]);
    }

    [Fact]
    public void AddAfter_FiresOnTheClock_KeepingTheEarliestTimerPerKey()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));
        using var queue = new WorkQueue<string>(clock);
        queue.AddAfter("k", TimeSpan.FromSeconds(10));
        queue.AddAfter("k", TimeSpan.FromSeconds(3));
        queue.AddAfter("k", TimeSpan.FromSeconds(20));
        Assert.Equal(1, queue.Waiting);
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(0, queue.Length);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, queue.Length);
        Assert.Equal(0, queue.Waiting);
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(1, queue.Length);
    }

    [Fact]
    public async Task Controller_RetriesFailuresWithBackoff_RequeuesAfter_AndSurvivesExceptions()
    {
        using var queue = new WorkQueue<string>(options: new WorkQueueOptions { BaseDelay = TimeSpan.FromMilliseconds(1), Qps = 0 });
        var attempts = new Dictionary<string, int>();
        var outcomes = new List<string>();
        using var cts = new CancellationTokenSource();
        var controller = new Controller<string>("test", queue, (key, _) =>
        {
            lock (attempts) attempts[key] = attempts.GetValueOrDefault(key) + 1;
            return key switch
            {
                "throws" when attempts[key] < 3 => throw new InvalidOperationException("boom"),
                "fails" when attempts[key] < 3 => Task.FromResult(ReconcileResult.Failed("not yet")),
                "requeue" when attempts[key] < 2 => Task.FromResult(ReconcileResult.RequeueAfter(TimeSpan.FromMilliseconds(50))),
                _ => Task.FromResult(ReconcileResult.Done),
            };
        }, workers: 2)
        {
            OnReconciled = (outcome, _) => { lock (outcomes) outcomes.Add(outcome); },
        };
        var run = controller.RunAsync(cts.Token);
        queue.Add("throws");
        queue.Add("fails");
        queue.Add("requeue");
        await Eventually.True(() => { lock (attempts) return attempts.GetValueOrDefault("throws") == 3 && attempts.GetValueOrDefault("fails") == 3 && attempts.GetValueOrDefault("requeue") == 2; }, "all keys to settle");
        await cts.CancelAsync();
        await run;
        Assert.Equal(0, queue.NumRequeues("throws"));
        lock (outcomes)
        {
            Assert.Equal(4, outcomes.Count(o => o == "error"));
            Assert.Equal(1, outcomes.Count(o => o == "requeue"));
            Assert.Equal(3, outcomes.Count(o => o == "success"));
        }
    }
}
