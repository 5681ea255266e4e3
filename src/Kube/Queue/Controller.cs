using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DoraOperator.Kube.Queue;

/// <summary>What a reconcile concluded: done, come back later, or failed (retried with backoff).</summary>
public readonly record struct ReconcileResult(TimeSpan? Requeue, string? Error)
{
    public static ReconcileResult Done { get; } = new(null, null);

    public static ReconcileResult RequeueAfter(TimeSpan delay) => new(delay, null);

    /// <summary>A failure the queue retries with per-item backoff, without a stack trace in the log.</summary>
    public static ReconcileResult Failed(string error) => new(null, error);
}

/// <summary>
/// Runs N workers over a <see cref="WorkQueue{T}"/>: each takes a key, reconciles it, and then
/// forgets it (done), schedules it (requeue-after), or re-adds it rate-limited (failure or
/// exception; exceptions are caught and logged, never kill a worker).
/// </summary>
public sealed class Controller<TKey>(
    string name,
    WorkQueue<TKey> queue,
    Func<TKey, CancellationToken, Task<ReconcileResult>> reconcile,
    int workers = 2,
    ILogger? logger = null)
    where TKey : notnull
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    public string Name { get; } = name;

    /// <summary>Called after each reconcile with (result: success|requeue|error, duration), e.g. for metrics.</summary>
    public Action<string, TimeSpan>? OnReconciled { get; init; }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var registration = cancellationToken.Register(queue.ShutDown);
        var tasks = Enumerable.Range(0, Math.Max(1, workers)).Select(_ => Task.Run(() => WorkAsync(cancellationToken), CancellationToken.None)).ToList();
        await Task.WhenAll(tasks);
    }

    private async Task WorkAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            TKey key;
            try
            {
                var (item, ok) = await queue.GetAsync(cancellationToken);
                if (!ok) return;
                key = item;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            var started = Stopwatch.GetTimestamp();
            var outcome = "success";
            try
            {
                var result = await reconcile(key, cancellationToken);
                if (result.Error is not null)
                {
                    outcome = "error";
                    ControllerLog.Failed(_logger, Name, key.ToString() ?? "", result.Error);
                    queue.AddRateLimited(key);
                }
                else if (result.Requeue is { } delay)
                {
                    outcome = "requeue";
                    queue.Forget(key);
                    queue.AddAfter(key, delay);
                }
                else
                {
                    queue.Forget(key);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                outcome = "error";
            }
            catch (Exception e)
            {
                outcome = "error";
                ControllerLog.Threw(_logger, e, Name, key.ToString() ?? "");
                queue.AddRateLimited(key);
            }
            finally
            {
                queue.Done(key);
                OnReconciled?.Invoke(outcome, Stopwatch.GetElapsedTime(started));
            }
        }
    }
}
