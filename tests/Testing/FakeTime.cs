using Microsoft.Extensions.Time.Testing;

namespace DoraOperator.Testing;

/// <summary>Drives a <see cref="FakeTimeProvider"/> forward while code under test waits on it.</summary>
public static class FakeTime
{
    /// <summary>
    /// Advances <paramref name="clock"/> by <paramref name="step"/> at a time, letting the awaiting code
    /// run between steps, until <paramref name="work"/> completes; returns how much fake time that took.
    /// Fails when it takes more than <paramref name="limit"/> of fake time.
    /// </summary>
    public static async Task<TimeSpan> DriveUntilAsync(FakeTimeProvider clock, Task work, TimeSpan step, TimeSpan limit)
    {
        var start = clock.GetUtcNow();
        while (!work.IsCompleted)
        {
            if (clock.GetUtcNow() - start > limit) throw new TimeoutException($"the work did not finish within {limit} of fake time");
            // Real time only lets other threads reach their next wait; no assertion depends on it.
            await Task.WhenAny(work, Task.Delay(10));
            if (!work.IsCompleted) clock.Advance(step);
        }
        await work;
        return clock.GetUtcNow() - start;
    }

    /// <summary>Advances <paramref name="clock"/> by <paramref name="total"/> in steps, letting the code that waits on it run between steps.</summary>
    public static async Task AdvanceAsync(FakeTimeProvider clock, TimeSpan total, TimeSpan step)
    {
        for (var passed = TimeSpan.Zero; passed < total; passed += step)
        {
            await Task.Delay(10);
            clock.Advance(step);
        }
        await Task.Delay(10);
    }

    /// <summary>Advances <paramref name="clock"/> until <paramref name="condition"/> holds; returns how much fake time that took.</summary>
    public static async Task<TimeSpan> AdvanceUntilAsync(FakeTimeProvider clock, Func<bool> condition, string what, TimeSpan step, TimeSpan limit)
    {
        var start = clock.GetUtcNow();
        while (!condition())
        {
            if (clock.GetUtcNow() - start > limit) throw new TimeoutException($"timed out waiting for {what} within {limit} of fake time");
            await Task.Delay(10);
            if (!condition()) clock.Advance(step);
        }
        return clock.GetUtcNow() - start;
    }
}
