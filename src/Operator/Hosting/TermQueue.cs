using DoraOperator.Kube.Queue;
using DoraOperator.Operator.Metrics;
using Microsoft.Extensions.Logging;

namespace DoraOperator.Operator.Hosting;

/// <summary>
/// One controller's work queue across leadership terms. Informer handlers add keys at any time; each
/// term (<see cref="RunAsync"/>) replaces the queue with a fresh one, seeds it (a new leader
/// reconciles everything that exists) and runs the workers until the term ends. Reconcile counts
/// and durations go to the operator's metrics under the controller's name.
/// </summary>
internal sealed class TermQueue(string controller, TimeProvider time, ILogger logger) : IDisposable
{
    private readonly Lock _gate = new();
    private WorkQueue<string> _queue = new(time);

    private WorkQueue<string> Current
    {
        get { lock (_gate) return _queue; }
    }

    /// <summary>Keys waiting now.</summary>
    public int Depth => Current.Length;

    public void Add(string key) => Current.Add(key);

    public void AddRateLimited(string key) => Current.AddRateLimited(key);

    public Task RunAsync(Func<string, CancellationToken, Task<ReconcileResult>> reconcile, int workers, Action seed, OperatorMetrics? metrics, CancellationToken cancellationToken)
    {
        var queue = new WorkQueue<string>(time);
        lock (_gate)
        {
            _queue.ShutDown();
            _queue = queue;
        }
        seed();
        var runner = new Controller<string>(controller, queue, reconcile, workers, logger) { OnReconciled = (result, took) => metrics?.Reconciled(controller, result, took) };
        return runner.RunAsync(cancellationToken);
    }

    public void ShutDown() => Current.ShutDown();

    public void Dispose() => Current.Dispose();
}
