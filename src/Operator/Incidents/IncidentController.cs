using System.Text.Json.Nodes;
using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Kube.Events;
using DoraOperator.Kube.Meta;
using DoraOperator.Kube.Queue;
using DoraOperator.Kube.Rest;
using DoraOperator.Operator.Caching;
using Microsoft.Extensions.Logging;

namespace DoraOperator.Operator.Incidents;

/// <summary>
/// Keeps every Incident's status true to its spec (<see cref="IncidentPlanner"/>), fills the
/// defaults the API server cannot (startedAt from the creation time, restoredAt from resolvedAt),
/// keeps the linked DeploymentRecord's <c>status.incidents</c> in step (the one record field it
/// owns, written by a conditional merge patch of that field alone), and records a Normal Event on
/// each phase change (Opened, Restored, Resolved).
/// </summary>
internal sealed partial class IncidentController : IReconciler, IDisposable
{
    private readonly KubeApiClient _client;
    private readonly EventRecorder _events;
    private readonly OperatorCache _cache;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ReconcileRunner _runner;

    public IncidentController(KubeApiClient client, EventRecorder events, OperatorCache cache, TimeProvider time, ILogger<IncidentController> logger, Action<string, string, TimeSpan>? onReconciled = null)
    {
        _client = client;
        _events = events;
        _cache = cache;
        _time = time;
        _logger = logger;
        _runner = new ReconcileRunner(this, time, logger) { OnReconciled = onReconciled };
        cache.Incidents.AddHandler(new(i => Enqueue(i.Metadata), (_, i) => Enqueue(i.Metadata), i => Enqueue(i.Metadata)));
        // A record reaching production or a project changing its attribution can change links.
        cache.Records.AddHandler(new(EnqueueProjectOf, (_, r) => EnqueueProjectOf(r), EnqueueProjectOf));
        cache.Projects.AddHandler(new(EnqueueProject, (old, p) =>
        {
            if (old.Metadata.Generation != p.Metadata.Generation) EnqueueProject(p);
        }, EnqueueProject));
    }

    public string Name => "incidents";

    public int QueueDepth => _runner.Depth;

    public IEnumerable<ObjectKey> Seed() => _cache.Incidents.List().Select(i => ObjectKey.Of(i.Metadata));

    /// <summary>Runs the workers for one leadership term (a fresh queue holding every incident).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await _cache.WaitForSyncAsync(cancellationToken);
        await _runner.RunAsync(1, cancellationToken);
    }

    private void Enqueue(ObjectMeta meta) => _runner.Add(ObjectKey.Of(meta));

    private void EnqueueProjectOf(DeploymentRecord r)
    {
        foreach (var i in _cache.Incidents.ByIndex(CacheIndexes.Project, CacheIndexes.Key(r.Metadata.Namespace, r.Spec.Project)))
        {
            if (i.Status?.LinkedDeployment is null || i.Status.LinkedDeployment == r.Metadata.Name) Enqueue(i.Metadata);
        }
    }

    private void EnqueueProject(DoraProject p)
    {
        foreach (var i in _cache.Incidents.ByIndex(CacheIndexes.Project, CacheIndexes.Key(p.Metadata.Namespace, p.Metadata.Name))) Enqueue(i.Metadata);
    }

    public async Task<ReconcileResult> ReconcileAsync(ObjectKey key, CancellationToken cancellationToken)
    {
        var (ns, name) = (key.Namespace, key.Name);
        var incident = _cache.Incidents.Get(ns, name);
        if (incident is null)
        {
            return await KeepLinksAsync(ns, name, null, cancellationToken);
        }
        var project = _cache.Projects.Get(ns, incident.Spec.Project);
        var records = _cache.Records.ByIndex(CacheIndexes.Project, CacheIndexes.Key(ns, incident.Spec.Project));
        var plan = IncidentPlanner.Plan(incident, project, records, _time.GetUtcNow());
        try
        {
            if (plan.DefaultStartedAt is not null || plan.DefaultRestoredAt is not null) incident = await FillDefaultsAsync(incident, plan, cancellationToken);
            var previousPhase = incident.Status?.Phase;
            if (incident.Status is null || !MergePatch.Same(incident.Status, plan.Status, DoraJsonContext.Default.IncidentStatus))
            {
                var updated = KubeClone.DeepCopy(incident);
                updated.Status = plan.Status;
                await _client.ReplaceStatusAsync(updated, cancellationToken);
                Announce(incident, previousPhase, plan.Status);
            }
        }
        catch (KubeApiException e) when (e.IsConflict)
        {
            return ReconcileResult.RequeueAfter(TimeSpan.FromMilliseconds(200));
        }
        catch (KubeApiException e) when (e.IsNotFound)
        {
            return ReconcileResult.Done;
        }
        return await KeepLinksAsync(ns, name, plan.Status.LinkedDeployment, cancellationToken);
    }

    private async Task<Incident> FillDefaultsAsync(Incident incident, IncidentPlan plan, CancellationToken cancellationToken)
    {
        var spec = new JsonObject();
        if (plan.DefaultStartedAt is { } started) spec["startedAt"] = KubeTimeConverter.Format(started);
        if (plan.DefaultRestoredAt is { } restored) spec["restoredAt"] = KubeTimeConverter.Format(restored);
        var patch = new JsonObject
        {
            // The resourceVersion makes the patch conditional: a concurrent user edit wins and we recompute.
            ["metadata"] = new JsonObject { ["resourceVersion"] = incident.Metadata.ResourceVersion },
            ["spec"] = spec,
        };
        var patched = await _client.PatchAsync<Incident>(incident.Metadata.Name!, incident.Metadata.Namespace, PatchType.Merge, patch.ToJsonString(), cancellationToken: cancellationToken);
        Log.Defaulted(_logger, incident.Metadata.Namespace, incident.Metadata.Name, string.Join(", ", spec.Select(p => $"{p.Key}={p.Value}")));
        return patched;
    }

    private void Announce(Incident incident, string? previous, IncidentStatus now)
    {
        if (now.Phase == previous || now.Phase is null) return;
        var reference = new ObjectReference
        {
            ApiVersion = Incident.Resource.ApiVersion, Kind = "Incident", Name = incident.Metadata.Name, Namespace = incident.Metadata.Namespace, Uid = incident.Metadata.Uid,
        };
        var linked = now.LinkedDeployment is { } l ? $", linked to DeploymentRecord {l}" : "";
        var (reason, note) = now.Phase switch
        {
            IncidentPhases.Open => ("Opened", $"incident opened ({DoraDefaults.SeverityOf(incident)}){linked}"),
            IncidentPhases.Restored => ("Restored", $"service restored after {Durations.Human(now.TimeToRestoreSeconds ?? 0)}{linked}"),
            _ => ("Resolved", $"incident resolved{(now.TimeToRestoreSeconds is { } t ? $"; service was restored after {Durations.Human(t)}" : "")}{linked}"),
        };
        _events.Normal(reference, reason, "Track", note);
        Log.PhaseChanged(_logger, incident.Metadata.Namespace, incident.Metadata.Name, reason, linked);
    }

    /// <summary>
    /// Makes <paramref name="linked"/> (if any) the only record of the namespace whose
    /// <c>status.incidents</c> lists the incident. Finds the records that list it by index, and writes
    /// each change as a merge patch of <c>status.incidents</c> alone, conditional on the record's
    /// resourceVersion: a concurrent write by the rollout tracker makes it retry, never lose either.
    /// </summary>
    private async Task<ReconcileResult> KeepLinksAsync(string ns, string incident, string? linked, CancellationToken cancellationToken)
    {
        var listing = _cache.Records.ByIndex(CacheIndexes.LinkedIncident, CacheIndexes.Key(ns, incident));
        var touched = listing.Where(r => r.Metadata.Name != linked).ToList();
        if (linked is not null && _cache.Records.Get(ns, linked) is { } target && target.Status?.Incidents?.Contains(incident) != true) touched.Add(target);
        foreach (var record in touched)
        {
            var list = new SortedSet<string>(record.Status?.Incidents ?? [], StringComparer.Ordinal);
            if (record.Metadata.Name == linked) list.Add(incident);
            else list.Remove(incident);
            var patch = new JsonObject
            {
                ["metadata"] = new JsonObject { ["resourceVersion"] = record.Metadata.ResourceVersion },
                ["status"] = new JsonObject { ["incidents"] = list.Count == 0 ? null : new JsonArray([.. list.Select(i => JsonValue.Create(i))]) },
            };
            try
            {
                await _client.PatchAsync<DeploymentRecord>(record.Metadata.Name!, ns, PatchType.Merge, patch.ToJsonString(), "status", cancellationToken);
            }
            catch (KubeApiException e) when (e.IsConflict)
            {
                // The cache is behind the record (the tracker wrote its outcome): come back when it has caught up.
                return ReconcileResult.RequeueAfter(TimeSpan.FromMilliseconds(100));
            }
            catch (KubeApiException e) when (e.IsNotFound)
            {
            }
        }
        return ReconcileResult.Done;
    }

    public void Dispose()
    {
        _runner.ShutDown();
        _runner.Dispose();
    }
}
