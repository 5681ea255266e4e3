namespace DoraOperator.Operator.Sandboxing;

/// <summary>
/// The demo's wall clock: it starts some weeks in the past and is stepped forward, never back and
/// never past real time, the way an NTP step moves a machine's wall clock. Timers and timestamps
/// for elapsed time stay on the system's monotonic clock, so a timer set for 300 ms fires after
/// 300 ms whatever the steps; everything that reads the time (creation timestamps, conditions,
/// the operator's records) reads this clock, so a month of history is written as a cluster would
/// have written it, in about a minute.
/// </summary>
internal sealed class DemoClock(TimeSpan startBehind) : TimeProvider
{
    private long _offsetTicks = -Math.Abs(startBehind.Ticks);

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow().AddTicks(Interlocked.Read(ref _offsetTicks));

    /// <summary>How far behind real time the clock is.</summary>
    public TimeSpan Behind => TimeSpan.FromTicks(-Interlocked.Read(ref _offsetTicks));

    /// <summary>Steps the clock forward to <paramref name="time"/>; a time already passed, or in the future, steps it no further than now.</summary>
    public void StepTo(DateTimeOffset time)
    {
        var wanted = Math.Min((time - System.GetUtcNow()).Ticks, 0);
        long current;
        do
        {
            current = Interlocked.Read(ref _offsetTicks);
            if (wanted <= current) return;
        }
        while (Interlocked.CompareExchange(ref _offsetTicks, wanted, current) != current);
    }

    /// <summary>Runs on real time from now on.</summary>
    public void CatchUp() => StepTo(DateTimeOffset.MaxValue);
}
