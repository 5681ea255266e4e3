using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DoraOperator.Entities.Dora;
using DoraOperator.Kube.Events;
using DoraOperator.Kube.Informers;
using DoraOperator.Kube.Meta;
using DoraOperator.Kube.Queue;
using DoraOperator.Kube.Rest;
using Microsoft.Extensions.Logging;

namespace DoraOperator.Operator.Incidents;

/// <summary>
/// Keeps every Incident's status true to its spec (<see cref="IncidentPlanner"/>), fills the
/// defaults the API server cannot (startedAt from the creation time, restoredAt from resolvedAt),
/// keeps the linked DeploymentRecord's <c>status.incidents</c> in step, and records a Normal Event on
/// each phase change (Opened, Restored, Resolved).
/// </summary>
internal sealed class IncidentController : IAsyncDisposable
{
    private readonly KubeApiClient _client;
    private readonly EventRecorder _events;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Informer<DoraProject> _projects;
    private readonly Informer<DeploymentRecord> _records;
    private readonly Hosting.TermQueue _queue;

    public IncidentController(KubeApiClient client, EventRecorder events, Informer<DoraProject> projects, Informer<DeploymentRecord> records, string? ns, TimeProvider time, ILogger logger)
    {
        _client = client;
        _events = events;
        _time = time;
        _logger = logger;
        _projects = projects;
        _records = records;
        _queue = new Hosting.TermQueue("incidents", time, logger);
        Incidents = new Informer<Incident>(client, new InformerOptions<Incident>
        {
            Namespace = ns,
            Indexers = new Dictionary<string, Func<Incident, IEnumerable<string>>> { [DoraIndexes.Project] = i => [DoraIndexes.ProjectKey(i.Metadata.Namespace, i.Spec.Project)] },
        }, time, logger);
        Incidents.AddHandler(new InformerHandler<Incident>(i => Enqueue(i.Metadata), (_, i) => Enqueue(i.Metadata), i => Enqueue(i.Metadata)));
        // A record reaching production or a project changing its attribution can change links.
        records.AddHandler(new InformerHandler<DeploymentRecord>(EnqueueProjectOf, (_, r) => EnqueueProjectOf(r), EnqueueProjectOf));
        projects.AddHandler(new InformerHandler<DoraProject>(EnqueueProject, (old, p) =>
        {
            if (old.Metadata.Generation != p.Metadata.Generation) EnqueueProject(p);
        }, EnqueueProject));
    }

    public Informer<Incident> Incidents { get; }

    public bool HasSynced => Incidents.HasSynced;

    public async Task StartInformerAsync(CancellationToken cancellationToken)
    {
        await Incidents.StartAsync(cancellationToken);
        await Incidents.WaitForSyncAsync(cancellationToken);
    }

    /// <summary>Runs the workers for one leadership term (a fresh queue holding every incident).</summary>
    public async Task RunAsync(int workers, CancellationToken cancellationToken)
    {
        await Task.WhenAll(Incidents.WaitForSyncAsync(cancellationToken), _projects.WaitForSyncAsync(cancellationToken), _records.WaitForSyncAsync(cancellationToken));
        await _queue.RunAsync(ReconcileAsync, workers, () =>
        {
            foreach (var i in Incidents.List()) Enqueue(i.Metadata);
        }, Metrics, cancellationToken);
    }

    /// <summary>Where reconcile counts and durations go (null: nowhere).</summary>
    public Metrics.OperatorMetrics? Metrics { get; init; }

    public int QueueDepth => _queue.Depth;

    private Hosting.TermQueue Queue => _queue;

    private void Enqueue(ObjectMeta meta) => Queue.Add($"{meta.Namespace}/{meta.Name}");

    private void EnqueueProjectOf(DeploymentRecord r)
    {
        foreach (var i in Incidents.ByIndex(DoraIndexes.Project, DoraIndexes.ProjectKey(r.Metadata.Namespace, r.Spec.Project)))
        {
            if (i.Status?.LinkedDeployment is null || i.Status.LinkedDeployment == r.Metadata.Name) Enqueue(i.Metadata);
        }
    }

    private void EnqueueProject(DoraProject p)
    {
        foreach (var i in Incidents.ByIndex(DoraIndexes.Project, DoraIndexes.ProjectKey(p.Metadata.Namespace, p.Metadata.Name))) Enqueue(i.Metadata);
    }

    internal async Task<ReconcileResult> ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var slash = key.IndexOf('/');
        var (ns, name) = (key[..slash], key[(slash + 1)..]);
        var incident = Incidents.Get(ns, name);
        if (incident is null)
        {
            await KeepLinksAsync(ns, name, null, cancellationToken);
            return ReconcileResult.Done;
        }
        var project = _projects.Get(ns, incident.Spec.Project);
        var records = _records.ByIndex(DoraIndexes.Project, DoraIndexes.ProjectKey(ns, incident.Spec.Project));
        var plan = IncidentPlanner.Plan(incident, project, records, _time.GetUtcNow());
        try
        {
            if (plan.DefaultStartedAt is not null || plan.DefaultRestoredAt is not null) incident = await FillDefaultsAsync(incident, plan, cancellationToken);
            var previousPhase = incident.Status?.Phase;
            if (!Same(incident.Status, plan.Status))
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
        await KeepLinksAsync(ns, name, plan.Status.LinkedDeployment, cancellationToken);
        return ReconcileResult.Done;
    }

    private async Task<Incident> FillDefaultsAsync(Incident incident, IncidentPlan plan, CancellationToken cancellationToken)
    {
        var spec = new JsonObject();
        if (plan.DefaultStartedAt is { } started) spec["startedAt"] = Rfc3339(started);
        if (plan.DefaultRestoredAt is { } restored) spec["restoredAt"] = Rfc3339(restored);
        var patch = new JsonObject
        {
            // The resourceVersion makes the patch conditional: a concurrent user edit wins and we recompute.
            ["metadata"] = new JsonObject { ["resourceVersion"] = incident.Metadata.ResourceVersion },
            ["spec"] = spec,
        };
        var patched = await _client.PatchAsync<Incident>(incident.Metadata.Name!, incident.Metadata.Namespace, PatchType.Merge, patch.ToJsonString(), cancellationToken: cancellationToken);
        _logger.LogInformation("incident {Namespace}/{Name}: defaulted {Fields}", incident.Metadata.Namespace, incident.Metadata.Name, string.Join(", ", spec.Select(p => $"{p.Key}={p.Value}")));
        return patched;
    }

    private static string Rfc3339(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

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
            "Open" => ("Opened", $"incident opened ({incident.Spec.Severity ?? "medium"}){linked}"),
            "Restored" => ("Restored", $"service restored after {Projects.Statistics.HumanDuration(now.TimeToRestoreSeconds ?? 0)}{linked}"),
            _ => ("Resolved", $"incident resolved{(now.TimeToRestoreSeconds is { } t ? $"; service was restored after {Projects.Statistics.HumanDuration(t)}" : "")}{linked}"),
        };
        _events.Normal(reference, reason, "Track", note);
        _logger.LogInformation("incident {Namespace}/{Name}: {Reason}{Linked}", incident.Metadata.Namespace, incident.Metadata.Name, reason, linked);
    }

    /// <summary>Makes <paramref name="linked"/> (if any) the only record in the namespace whose status.incidents lists the incident.</summary>
    private async Task KeepLinksAsync(string ns, string incident, string? linked, CancellationToken cancellationToken)
    {
        foreach (var record in _records.List(ns))
        {
            var listed = record.Status?.Incidents?.Contains(incident) == true;
            var wanted = record.Metadata.Name == linked;
            if (listed == wanted) continue;
            try
            {
                await _client.UpdateWithRetryAsync<DeploymentRecord>(record.Metadata.Name!, ns, r =>
                {
                    r.Status ??= new DeploymentRecordStatus();
                    var list = r.Status.Incidents ?? [];
                    var changed = wanted ? !list.Contains(incident) : list.Remove(incident);
                    if (wanted && changed) list.Add(incident);
                    list.Sort(StringComparer.Ordinal);
                    r.Status.Incidents = list.Count == 0 ? null : list;
                    return changed;
                }, status: true, cancellationToken: cancellationToken);
            }
            catch (KubeApiException e) when (e.IsNotFound)
            {
            }
        }
    }

    private static bool Same(IncidentStatus? a, IncidentStatus b) =>
        a is not null && JsonSerializer.Serialize(a, DoraJsonContext.Default.IncidentStatus) == JsonSerializer.Serialize(b, DoraJsonContext.Default.IncidentStatus);

    public async ValueTask DisposeAsync()
    {
        Queue.ShutDown();
        await Incidents.DisposeAsync();
        Queue.Dispose();
    }
}

/// <summary>Index names shared by the controllers' caches.</summary>
internal static class DoraIndexes
{
    /// <summary>Records and incidents by <c>namespace/project</c>.</summary>
    public const string Project = "project";

    public static string ProjectKey(string? ns, string? project) => $"{ns}/{project}";
}
