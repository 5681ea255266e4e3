using DoraOperator.Kube.Rest;

namespace DoraOperator.Kube.Queue;

/// <summary>Work queue tuning; the defaults are client-go's controller defaults.</summary>
public sealed record WorkQueueOptions
{
    /// <summary>Per-item backoff: BaseDelay · 2^(failures), capped at MaxDelay.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(5);
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(1000);
    /// <summary>Overall rate of rate-limited re-adds (token bucket); 0 for none.</summary>
    public double Qps { get; init; } = 10;
    public int Burst { get; init; } = 100;
}

/// <summary>
/// A de-duplicating, rate-limited work queue with client-go's semantics: an item added while queued
/// is queued once; an item added while being processed is queued again only after <see cref="Done"/>,
/// so one key never has two workers; <see cref="AddRateLimited"/> waits the larger of the item's
/// exponential backoff and the overall token bucket; <see cref="AddAfter"/> keeps one timer per item
/// (the earliest).
/// </summary>
public sealed class WorkQueue<T> : IDisposable
    where T : notnull
{
    private readonly Lock _gate = new();
    private readonly Queue<T> _queue = new();
    private readonly HashSet<T> _dirty = [];
    private readonly HashSet<T> _processing = [];
    private readonly Dictionary<T, int> _failures = [];
    private readonly Dictionary<T, (ITimer Timer, DateTimeOffset Due)> _waiting = [];
    private readonly SemaphoreSlim _signal = new(0);
    private readonly TimeProvider _time;
    private readonly WorkQueueOptions _options;
    private readonly TokenBucket _bucket;
    private bool _shutdown;

    public WorkQueue(TimeProvider? time = null, WorkQueueOptions? options = null)
    {
        _time = time ?? TimeProvider.System;
        _options = options ?? new WorkQueueOptions();
        _bucket = new TokenBucket(_options.Qps, _options.Burst, _time);
    }

    /// <summary>Items queued and not yet taken.</summary>
    public int Length
    {
        get { lock (_gate) return _queue.Count; }
    }

    /// <summary>Items waiting for an AddAfter/AddRateLimited timer.</summary>
    public int Waiting
    {
        get { lock (_gate) return _waiting.Count; }
    }

    public bool IsShutDown
    {
        get { lock (_gate) return _shutdown; }
    }

    public void Add(T item)
    {
        lock (_gate)
        {
            if (_shutdown || !_dirty.Add(item)) return;
            if (_processing.Contains(item)) return;
            _queue.Enqueue(item);
        }
        _signal.Release();
    }

    public void AddAfter(T item, TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero)
        {
            Add(item);
            return;
        }
        lock (_gate)
        {
            if (_shutdown) return;
            var due = _time.GetUtcNow() + delay;
            if (_waiting.TryGetValue(item, out var existing))
            {
                if (existing.Due <= due) return;
                existing.Timer.Dispose();
            }
            var timer = _time.CreateTimer(_ =>
            {
                lock (_gate) _waiting.Remove(item);
                Add(item);
            }, null, delay, Timeout.InfiniteTimeSpan);
            _waiting[item] = (timer, due);
        }
    }

    /// <summary>Re-adds after the item's backoff (5 ms, 10 ms, 20 ms ... up to 1000 s) or the overall limit, whichever is longer.</summary>
    public void AddRateLimited(T item) => AddAfter(item, NextDelay(item));

    public TimeSpan NextDelay(T item)
    {
        int failures;
        lock (_gate)
        {
            failures = _failures.GetValueOrDefault(item);
            _failures[item] = failures + 1;
        }
        var exponent = Math.Min(failures, 62);
        var perItem = TimeSpan.FromTicks((long)Math.Min(_options.MaxDelay.Ticks, _options.BaseDelay.Ticks * Math.Pow(2, exponent)));
        var overall = _bucket.Reserve();
        return perItem > overall ? perItem : overall;
    }

    /// <summary>Clears the item's failure count (call after a success).</summary>
    public void Forget(T item)
    {
        lock (_gate) _failures.Remove(item);
    }

    public int NumRequeues(T item)
    {
        lock (_gate) return _failures.GetValueOrDefault(item);
    }

    /// <summary>Takes the next item, waiting for one; returns (default, false) once the queue is shut down and drained.</summary>
    public async ValueTask<(T Item, bool Ok)> GetAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            lock (_gate)
            {
                if (_queue.Count > 0)
                {
                    var item = _queue.Dequeue();
                    _processing.Add(item);
                    _dirty.Remove(item);
                    return (item, true);
                }
                if (_shutdown) return (default!, false);
            }
            await _signal.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Marks an item finished; if it was added meanwhile, it is queued again now.</summary>
    public void Done(T item)
    {
        var requeue = false;
        lock (_gate)
        {
            _processing.Remove(item);
            if (_dirty.Contains(item) && !_shutdown)
            {
                _queue.Enqueue(item);
                requeue = true;
            }
        }
        if (requeue) _signal.Release();
    }

    /// <summary>Stops the queue: no more adds, waiting timers cancelled, idle workers released. Safe to call more than once.</summary>
    public void ShutDown()
    {
        lock (_gate)
        {
            if (_shutdown) return;
            _shutdown = true;
            foreach (var (timer, _) in _waiting.Values) timer.Dispose();
            _waiting.Clear();
        }
        _signal.Release(64);
    }

    public void Dispose()
    {
        ShutDown();
        // The semaphore is left to the GC: a worker may still be waking up from the shutdown release.
    }
}
