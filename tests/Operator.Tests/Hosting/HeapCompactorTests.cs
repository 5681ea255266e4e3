using DoraOperator.Operator.Hosting;
using DoraOperator.Testing;
using Microsoft.Extensions.Time.Testing;

namespace DoraOperator.Operator.Tests.Hosting;

public sealed class HeapCompactorTests
{
    private const long MB = 1 << 20;
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Theory]
    [InlineData(100, 125, true)]   // a quarter more, 25 MB
    [InlineData(100, 124, false)]  // under a quarter
    [InlineData(20, 30, true)]     // half again, 10 MB
    [InlineData(20, 27, false)]    // over a quarter more, but 7 MB is not worth a pause
    [InlineData(60, 58, false)]    // smaller than after the last compaction
    [InlineData(0, 8, true)]       // nothing compacted yet
    public void ACompactionIsWorthwhileOnlyOnceTheHeapHasGrownByAQuarterAndEightMegabytes(long compactedMb, long heapMb, bool worthwhile) =>
        Assert.Equal(worthwhile, HeapCompactor.Worthwhile(heapMb * MB, compactedMb * MB));

    [Fact]
    public void WhatACompactionCannotGiveBackIsTheNextBaseline()
    {
        // A cache growing by 5 MB between checks, of which compactions give nothing back.
        long compacted = 40 * MB, compactions = 0;
        for (var heap = 40 * MB; heap <= 400 * MB; heap += 5 * MB)
        {
            if (!HeapCompactor.Worthwhile(heap, compacted)) continue;
            compactions++;
            compacted = heap;
        }
        // Ten times the heap, a quarter's growth each time: at most ceil(log(10) / log(1.25)) = 11 compactions of 73 checks.
        Assert.InRange(compactions, 9, 11);
    }

    /// <summary>A tracker and a heap the test sets, and the compactions the compactor asked for.</summary>
    private sealed class World
    {
        public volatile int QueueDepth;
        public volatile int Reconciles;
        public long Heap = 100 * MB;
        public readonly List<(bool AfterStart, long Previous)> Compactions = [];
        public readonly FakeTimeProvider Clock = new();

        public HeapCompactor Compactor => new(() => QueueDepth, () => Reconciles, () => Interlocked.Read(ref Heap), Compact, Clock);

        /// <summary>A compaction gives back all but 60 MB.</summary>
        private long Compact(bool afterStart, long previous)
        {
            lock (Compactions) Compactions.Add((afterStart, previous));
            Interlocked.Exchange(ref Heap, Math.Min(Interlocked.Read(ref Heap), 60 * MB));
            return Interlocked.Read(ref Heap);
        }

        public int Count
        {
            get { lock (Compactions) return Compactions.Count; }
        }
    }

    [Fact]
    public async Task TheFirstCompactionWaitsForTheStartsQueueToDrain_ThenOnlyAGrownHeapIsCompactedAgain_AndOnlyWhenNothingIsReconciled()
    {
        var world = new World { QueueDepth = 500 };
        using var stop = new CancellationTokenSource();
        var running = world.Compactor.RunAsync(stop.Token);

        // The start's backfill: nothing while the queue holds work.
        await FakeTime.AdvanceAsync(world.Clock, TimeSpan.FromSeconds(20), Second);
        Assert.Equal(0, world.Count);
        world.QueueDepth = 0;
        await FakeTime.AdvanceUntilAsync(world.Clock, () => world.Count == 1, "the compaction after the start", Second, TimeSpan.FromSeconds(5));
        Assert.Equal((true, 0L), world.Compactions[0]);

        // A steady stream: the heap grows past the threshold, the queue empties between reconciles, but
        // reconciles never stop, so the stream is not paused, however long it runs.
        Interlocked.Exchange(ref world.Heap, 90 * MB);
        using (var stream = new Timer(_ => world.Reconciles++, null, TimeSpan.Zero, TimeSpan.FromMilliseconds(2)))
        {
            for (var i = 0; i < 90; i++)
            {
                world.Reconciles++;
                await Task.Delay(5);
                world.Clock.Advance(Second);
            }
        }
        Assert.Equal(1, world.Count);

        // The stream ends: within a check and two quiet seconds, one compaction, from the last baseline.
        await FakeTime.AdvanceUntilAsync(world.Clock, () => world.Count == 2, "the compaction after the stream", Second, TimeSpan.FromSeconds(15));
        Assert.Equal((false, 60 * MB), world.Compactions[1]);

        // Idle with a heap that has not grown by a quarter since: no more compactions.
        Interlocked.Exchange(ref world.Heap, 70 * MB);
        await FakeTime.AdvanceAsync(world.Clock, TimeSpan.FromMinutes(5), Second);
        Assert.Equal(2, world.Count);

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
    }

    [Fact]
    public async Task CompactionsComeAtMostOnceEveryThirtySeconds()
    {
        var world = new World();
        using var stop = new CancellationTokenSource();
        var running = world.Compactor.RunAsync(stop.Token);
        await FakeTime.AdvanceUntilAsync(world.Clock, () => world.Count == 1, "the compaction after the start", Second, TimeSpan.FromSeconds(5));
        var first = world.Clock.GetUtcNow();

        // The heap regrows at once, idle: the next compaction still waits for the interval.
        Interlocked.Exchange(ref world.Heap, 200 * MB);
        await FakeTime.AdvanceUntilAsync(world.Clock, () => world.Count == 2, "the second compaction", Second, TimeSpan.FromMinutes(2));
        Assert.InRange(world.Clock.GetUtcNow() - first, HeapCompactor.MinInterval, HeapCompactor.MinInterval + HeapCompactor.CheckEvery + TimeSpan.FromSeconds(3));

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
    }
}
