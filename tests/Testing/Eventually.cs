namespace DoraOperator.Testing;

/// <summary>Waits for the system under test by polling a condition against a deadline (never a bare sleep).</summary>
public static class Eventually
{
    public static async Task<T> Until<T>(Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        T last = await probe();
        while (!done(last))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting for {what}; last value: {last}");
            await Task.Delay(20);
            last = await probe();
        }
        return last;
    }

    public static Task True(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        Until(() => Task.FromResult(condition()), x => x, what, timeout);
}
