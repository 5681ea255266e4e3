namespace DoraOperator.Operator.Hosting;

/// <summary>
/// When a quiet operator compacts its managed heap (OperatorHost runs it with the rollout tracker's
/// queue and reconcile count, the collector's heap size and a full, compacting collection). The
/// first compaction once the start's peak has passed: the tracker's queue has stayed empty for two
/// seconds (on the leader, every workload reconciled once: history backfilled, old ReplicaSets and
/// ControllerRevisions retired). Listing caches every ReplicaSet and decodes every object at full
/// size; what is dropped after that leaves holes among the objects that stay, and the collector
/// keeps that memory committed. Compacted, it is given back. Then again whenever the heap has grown
/// well past what the last compaction left (<see cref="Worthwhile"/>): a burst's garbage reaches
/// the oldest generation, which the collector visits rarely, and stays there until it does. Those
/// wait for two seconds without a reconcile, so a steady stream of rollouts is never paused, and
/// come at most once every <see cref="MinInterval"/>.
/// </summary>
/// <param name="queueDepth">The rollout tracker's queue.</param>
/// <param name="reconciles">The rollout tracker's reconciles so far.</param>
/// <param name="heapBytes">The managed heap's size at the last collection.</param>
/// <param name="compact">Compacts; given whether it is the first and the heap's size after the last, returns the heap's size after it.</param>
/// <param name="time">The clock its checks wait on.</param>
internal sealed class HeapCompactor(Func<int> queueDepth, Func<int> reconciles, Func<long> heapBytes, Func<bool, long, long> compact, TimeProvider time)
{
    /// <summary>How often the heap's size is looked at.</summary>
    public static TimeSpan CheckEvery { get; } = TimeSpan.FromSeconds(10);

    /// <summary>The least time between two compactions: each pauses the process (about 1 ms per MB of live objects).</summary>
    public static TimeSpan MinInterval { get; } = TimeSpan.FromSeconds(30);

    /// <summary>The least growth worth a compaction.</summary>
    public const long MinGrowthBytes = 8 << 20;

    /// <summary>
    /// True when the heap has grown by a quarter, and by <see cref="MinGrowthBytes"/>, since the last
    /// compaction left it at <paramref name="compactedBytes"/>. What a compaction cannot give back (new
    /// records, new cached revisions) becomes the next baseline, so a growing cache costs one
    /// compaction per quarter of growth, not one per check.
    /// </summary>
    public static bool Worthwhile(long heapBytes, long compactedBytes) =>
        heapBytes - compactedBytes >= MinGrowthBytes && heapBytes * 4 >= compactedBytes * 5;

    /// <summary>Compacts once the start is over, then whenever it is worthwhile, until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await QuietAsync(countReconciles: false, cancellationToken);
        var compacted = compact(true, 0);
        var last = time.GetTimestamp();
        while (true)
        {
            await Task.Delay(CheckEvery, time, cancellationToken);
            if (time.GetElapsedTime(last) < MinInterval || !Worthwhile(heapBytes(), compacted)) continue;
            await QuietAsync(countReconciles: true, cancellationToken);
            compacted = compact(false, compacted);
            last = time.GetTimestamp();
        }
    }

    /// <summary>
    /// Returns once the queue has been empty at two checks a second apart and, with
    /// <paramref name="countReconciles"/>, no reconcile ran between them: a steady stream of rollouts
    /// empties the queue between its reconciles, the start's backfill and retiring do not.
    /// </summary>
    private async Task QuietAsync(bool countReconciles, CancellationToken cancellationToken)
    {
        var seen = reconciles();
        for (var quiet = 0; quiet < 2;)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken);
            var now = reconciles();
            quiet = queueDepth() == 0 && (!countReconciles || now == seen) ? quiet + 1 : 0;
            seen = now;
        }
    }
}
