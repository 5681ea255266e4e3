namespace DoraOperator.Kube.Queue;

/// <summary>
/// One controller's level-based reconcile: given a key, make what should be true now true, and say
/// whether to come back (<see cref="ReconcileResult"/>). A second run on the same state writes nothing.
/// The <see cref="ReconcileRunner"/> owns the queue, the workers, the retries and the metrics.
/// </summary>
public interface IReconciler
{
    /// <summary>The controller's name in logs and metrics (e.g. <c>rollouts</c>).</summary>
    string Name { get; }

    /// <summary>Every key that exists now: a new leadership term reconciles all of them.</summary>
    IEnumerable<ObjectKey> Seed();

    Task<ReconcileResult> ReconcileAsync(ObjectKey key, CancellationToken cancellationToken);
}
