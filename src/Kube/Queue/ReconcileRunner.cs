using Microsoft.Extensions.Logging;

namespace DoraOperator.Kube.Queue;

/// <summary>
/// Runs one <see cref="IReconciler"/> across leadership terms. Cache event handlers add keys at any
/// time; each term (<see cref="RunAsync"/>) replaces the queue with a fresh one, seeds it with every
/// key the reconciler names (a new leader reconciles everything that exists) and runs the workers
/// until the term ends. Each reconcile's outcome and duration go to <see cref="OnReconciled"/>.
/// </summary>
public sealed class ReconcileRunner(IReconciler reconciler, TimeProvider time, ILogger logger, WorkQueueOptions? queueOptions = null) : IDisposable
{
    private readonly Lock _gate = new();
    private WorkQueue<ObjectKey> _queue = new(time, queueOptions);

    private WorkQueue<ObjectKey> Current
    {
        get { lock (_gate) return _queue; }
    }

    public string Name => reconciler.Name;

    /// <summary>Keys waiting now.</summary>
    public int Depth => Current.Length;

    /// <summary>Called after each reconcile with (controller, outcome success|requeue|error, duration).</summary>
    public Action<string, string, TimeSpan>? OnReconciled { get; init; }

    public void Add(ObjectKey key) => Current.Add(key);

    public void AddRateLimited(ObjectKey key) => Current.AddRateLimited(key);

    public Task RunAsync(int workers, CancellationToken cancellationToken)
    {
        var queue = new WorkQueue<ObjectKey>(time, queueOptions);
        lock (_gate)
        {
            _queue.ShutDown();
            _queue = queue;
        }
        foreach (var key in reconciler.Seed()) queue.Add(key);
        var name = reconciler.Name;
        var runner = new Controller<ObjectKey>(name, queue, reconciler.ReconcileAsync, workers, logger)
        {
            OnReconciled = OnReconciled is { } report ? (outcome, took) => report(name, outcome, took) : null,
        };
        return runner.RunAsync(cancellationToken);
    }

    public void ShutDown() => Current.ShutDown();

    public void Dispose() => Current.Dispose();
}
