using DoraOperator.Operator.Hosting;

namespace DoraOperator.Operator.Tests.Hosting;

public sealed class HeapCompactionTests
{
    private const long MB = 1 << 20;

    [Theory]
    [InlineData(100, 125, true)]   // a quarter more, 25 MB
    [InlineData(100, 124, false)]  // under a quarter
    [InlineData(20, 30, true)]     // half again, 10 MB
    [InlineData(20, 27, false)]    // over a quarter more, but 7 MB is not worth a pause
    [InlineData(60, 58, false)]    // smaller than after the last compaction
    [InlineData(0, 8, true)]       // nothing compacted yet
    public void ACompactionIsWorthwhileOnlyOnceTheHeapHasGrownByAQuarterAndEightMegabytes(long compactedMb, long heapMb, bool worthwhile) =>
        Assert.Equal(worthwhile, HeapCompaction.Worthwhile(heapMb * MB, compactedMb * MB));

    [Fact]
    public void WhatACompactionCannotGiveBackIsTheNextBaseline()
    {
        // A cache growing by 5 MB between checks, of which compactions give nothing back.
        long compacted = 40 * MB, compactions = 0;
        for (var heap = 40 * MB; heap <= 400 * MB; heap += 5 * MB)
        {
            if (!HeapCompaction.Worthwhile(heap, compacted)) continue;
            compactions++;
            compacted = heap;
        }
        // 40 -> 400 MB is ten times; a quarter's growth each time is at most ceil(log(10) / log(1.25)) = 11 compactions.
        Assert.InRange(compactions, 9, 11);
    }
}
