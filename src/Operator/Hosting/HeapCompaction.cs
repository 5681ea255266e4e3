namespace DoraOperator.Operator.Hosting;

/// <summary>When a quiet operator compacts its managed heap again after the start (see OperatorHost).</summary>
internal static class HeapCompaction
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
}
