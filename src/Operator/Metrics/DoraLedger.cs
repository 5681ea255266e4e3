using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Operator.Caching;
using DoraOperator.Operator.Dora;

namespace DoraOperator.Operator.Metrics;

/// <summary>
/// Feeds the DORA counters and histograms from DeploymentRecords and Incidents. Once the caches
/// have synced it replays everything that exists (so a restart or a new leader rebuilds the same
/// series from the custom resources), then follows transitions. Each record and incident is counted
/// once per fact (deployed, failed, rolled back, opened, restored, resolved, detected), remembered
/// by UID, so re-deliveries, resyncs and replays never count twice; a deleted object is forgotten
/// (its UID never comes back), so the ledger holds what exists, not everything that ever did. Every replica keeps the ledger
/// current; only the leader's exposition shows it.
/// </summary>
internal sealed class DoraLedger(OperatorMetrics metrics, OperatorCache cache)
{
    [Flags]
    private enum Fact
    {
        None = 0,
        Deployed = 1,
        Failed = 2,
        RolledBack = 4,
        Opened = 8,
        Restored = 16,
        Resolved = 32,
        Detected = 64,
        Started = 128,
    }

    private readonly Lock _gate = new();
    // Keyed by packed uid: a UUID is held as its 16 bytes in the entry, so no string is kept per record.
    private readonly Dictionary<Kube.Meta.PackedUid, Fact> _counted = [];
    private bool _replayed;

    /// <summary>Objects the ledger remembers (one entry per existing record or incident it counted).</summary>
    public int Remembered
    {
        get { lock (_gate) return _counted.Count; }
    }

    /// <summary>Subscribes to the informers and replays once all three have synced.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        cache.Records.AddHandler(new(r => Live(() => Count(r)), (_, r) => Live(() => Count(r)), r => Forget(r.Metadata)));
        cache.Incidents.AddHandler(new(i => Live(() => Count(i)), (_, i) => Live(() => Count(i)), i => Forget(i.Metadata)));
        await Task.WhenAll(cache.Projects.WaitForSyncAsync(cancellationToken), cache.Records.WaitForSyncAsync(cancellationToken), cache.Incidents.WaitForSyncAsync(cancellationToken));
        lock (_gate)
        {
            foreach (var r in cache.Records.List()) Count(r);
            foreach (var i in cache.Incidents.List()) Count(i);
            _replayed = true;
        }
    }

    private void Live(Action count)
    {
        lock (_gate)
        {
            // Before the replay, events are of objects the replay will see (with the project known).
            if (_replayed) count();
        }
    }

    private void Forget(Kube.Meta.ObjectMeta meta)
    {
        lock (_gate) _counted.Remove(UidOf(meta));
    }

    private static Kube.Meta.PackedUid UidOf(Kube.Meta.ObjectMeta meta) => new(meta.Uid ?? $"{meta.Namespace}/{meta.Name}");

    private bool Mark(Kube.Meta.PackedUid uid, Fact fact)
    {
        var seen = _counted.GetValueOrDefault(uid);
        if ((seen & fact) != 0) return false;
        _counted[uid] = seen | fact;
        return true;
    }

    private void Count(DeploymentRecord r)
    {
        if (r.Status?.StartedAt is not null && r.Status.Phase is not (RecordPhases.Restart or RecordPhases.Superseded) && Mark(UidOf(r.Metadata), Fact.Started))
        {
            var p = cache.Projects.Get(r.Metadata.Namespace, r.Spec.Project);
            metrics.Started.Add(1, OperatorMetrics.Tags(r.Metadata.Namespace, r.Spec.Project, p?.Spec.Team, DoraDefaults.EnvironmentOf(r)));
        }
        if (r.Status is not { Phase: RecordPhases.Succeeded or RecordPhases.Failed or RecordPhases.RolledBack } status) return;
        var uid = UidOf(r.Metadata);
        var project = cache.Projects.Get(r.Metadata.Namespace, r.Spec.Project);
        var tags = OperatorMetrics.Tags(r.Metadata.Namespace, r.Spec.Project, project?.Spec.Team, DoraDefaults.EnvironmentOf(r));
        if (DoraCalculator.IsDeployment(r))
        {
            if (Mark(uid, Fact.Deployed))
            {
                metrics.Deployments.Add(1, [.. tags, new("outcome", "succeeded")]);
                if (DoraCalculator.LeadTime(r, DoraDefaults.LeadTimeFromFirst(project)) is { } lead) metrics.LeadTime.Record(lead, tags);
                if (status.DurationSeconds is { } duration) metrics.Duration.Record(duration, tags);
            }
        }
        else if (status.Phase is RecordPhases.Failed or RecordPhases.RolledBack && Mark(uid, Fact.Failed))
        {
            metrics.Deployments.Add(1, [.. tags, new("outcome", "failed")]);
        }
        if (status.Phase == RecordPhases.RolledBack && Mark(uid, Fact.RolledBack)) metrics.Deployments.Add(1, [.. tags, new("outcome", "rolled_back")]);
    }

    private void Count(Incident i)
    {
        if (i.Status?.Phase is null || !DoraCalculator.IsValid(i)) return;
        var uid = UidOf(i.Metadata);
        var project = cache.Projects.Get(i.Metadata.Namespace, i.Spec.Project);
        var tags = OperatorMetrics.Tags(i.Metadata.Namespace, i.Spec.Project, project?.Spec.Team, project?.Spec.Environment ?? DoraDefaults.Environment);
        if (Mark(uid, Fact.Opened)) metrics.Incidents.Add(1, [.. tags, new("severity", DoraDefaults.SeverityOf(i))]);
        if (DoraCalculator.RestoredAt(i) is not null && Mark(uid, Fact.Restored))
        {
            metrics.Restored.Add(1, tags);
            if (i.Status.TimeToRestoreSeconds is { } ttr) metrics.TimeToRestore.Record(ttr, tags);
        }
        if (i.Spec.ResolvedAt is not null && Mark(uid, Fact.Resolved)) metrics.Resolved.Add(1, tags);
        if (i.Status.TimeToDetectSeconds is { } ttd && Mark(uid, Fact.Detected)) metrics.TimeToDetect.Record(ttd, tags);
    }
}
