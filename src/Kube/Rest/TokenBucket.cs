namespace DoraOperator.Kube.Rest;

/// <summary>
/// A token bucket: <c>qps</c> tokens a second up to <c>burst</c>. <see cref="Reserve"/> returns how long
/// the caller must wait for its token (zero when one is free), like client-go's flowcontrol limiter.
/// A qps of 0 or less disables limiting.
/// </summary>
public sealed class TokenBucket(double qps, int burst, TimeProvider time)
{
    private readonly Lock _gate = new();
    private double _tokens = burst;
    private long _last = time.GetTimestamp();
    private volatile bool _lifted;

    public bool Enabled => qps > 0 && !_lifted;

    /// <summary>Stops limiting for good (the server protects itself).</summary>
    public void Lift() => _lifted = true;

    public TimeSpan Reserve()
    {
        if (!Enabled) return TimeSpan.Zero;
        lock (_gate)
        {
            var now = time.GetTimestamp();
            _tokens = Math.Min(burst, _tokens + time.GetElapsedTime(_last, now).TotalSeconds * qps);
            _last = now;
            _tokens -= 1;
            return _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / qps);
        }
    }

    /// <summary>Takes a token when one is free; otherwise takes none and says how long until one is.</summary>
    public bool TryTake(out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (!Enabled) return true;
        lock (_gate)
        {
            var now = time.GetTimestamp();
            _tokens = Math.Min(burst, _tokens + time.GetElapsedTime(_last, now).TotalSeconds * qps);
            _last = now;
            if (_tokens >= 1)
            {
                _tokens -= 1;
                return true;
            }
            retryAfter = TimeSpan.FromSeconds((1 - _tokens) / qps);
            return false;
        }
    }

    public async ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        var wait = Reserve();
        if (wait > TimeSpan.Zero) await Task.Delay(wait, time, cancellationToken);
    }
}
