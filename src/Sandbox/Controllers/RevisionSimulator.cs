using System.Text.Json.Nodes;
using DoraOperator.Sandbox.Apply;
using DoraOperator.Sandbox.Resources;
using DoraOperator.Sandbox.Storage;

namespace DoraOperator.Sandbox.Controllers;

/// <summary>
/// The StatefulSet and DaemonSet controllers' revision handling, as kube-controller-manager does it:
/// each distinct pod template is a ControllerRevision (<c>&lt;name&gt;-&lt;hash&gt;</c>, owned by the
/// workload, its <c>data</c> the strategic merge patch that restores the template, numbered in
/// order; returning to an older template renumbers its revision instead of making a new one), at
/// most <c>revisionHistoryLimit</c> old ones are kept, and the status reports the rollout the way
/// <c>kubectl rollout status</c> reads it. Pods are not simulated: a RollingUpdate rollout completes
/// at once, except that a StatefulSet's <c>partition</c> keeps that many pods on the old revision;
/// an OnDelete rollout waits until <see cref="RecreatePods"/> (deleting the pods, in a real cluster).
/// With a <see cref="RolloutPace.After"/> pace (the Sandbox's default pace, e.g. <c>--rollout-seconds</c>)
/// a rollout shows no pod updated until that much time has passed.
/// A DaemonSet runs on <see cref="Nodes"/> nodes.
/// </summary>
public sealed class RevisionSimulator : SimulatedController<(string Plural, string Namespace, string Name)>
{
    public const int Nodes = 2;
    private const string StatefulSetHashLabel = "controller.kubernetes.io/hash";
    private const string DaemonSetHashLabel = "controller-revision-hash";
    private static readonly FieldOwner Writer = FieldOwner.ControllerManager("apps/v1");

    private readonly ObjectStore _store;
    private readonly ResourceType _statefulSets;
    private readonly ResourceType _daemonSets;
    private readonly ResourceType _revisions;
    private readonly HashSet<string> _recreated = [];
    private readonly HashSet<string> _stalled = [];
    private readonly RolloutPace _pace;
    private readonly Dictionary<string, (DateTimeOffset Start, ITimer Timer)> _paced = [];
    private readonly Lock _gate = new();

    internal RevisionSimulator(ObjectStore store, ResourceRegistry registry, RolloutPace? pace = null)
    {
        _store = store;
        _pace = pace ?? RolloutPace.Immediate;
        _statefulSets = registry.FindByKey("apps/statefulsets")!;
        _daemonSets = registry.FindByKey("apps/daemonsets")!;
        _revisions = registry.FindByKey("apps/controllerrevisions")!;
        store.Subscribe(OnStoreEvent);
        Start();
    }

    protected override string Name => "statefulset and daemonset";

    /// <summary>What deleting an OnDelete workload's pods does: they come back on the update revision.</summary>
    public void RecreatePods(string kind, string ns, string name)
    {
        lock (_gate) _recreated.Add($"{Plural(kind)}/{ns}/{name}");
        Enqueue((Plural(kind), ns, name));
    }

    /// <summary>A rollout that never finishes (pods that never become ready on the new revision), until <see cref="Unstall"/>.</summary>
    public void Stall(string kind, string ns, string name)
    {
        lock (_gate) _stalled.Add($"{Plural(kind)}/{ns}/{name}");
    }

    public void Unstall(string kind, string ns, string name)
    {
        lock (_gate) _stalled.Remove($"{Plural(kind)}/{ns}/{name}");
        Enqueue((Plural(kind), ns, name));
    }

    private static string Plural(string kind) => kind == "StatefulSet" ? "statefulsets" : "daemonsets";

    protected override void OnDispose()
    {
        lock (_gate)
        {
            foreach (var (_, timer) in _paced.Values) timer.Dispose();
            _paced.Clear();
        }
    }

    private void OnStoreEvent(StoreEvent e)
    {
        if (e.Type.Group == "apps" && e.Type.Plural is "statefulsets" or "daemonsets" && e.EventType != WatchEventTypes.Deleted)
        {
            Enqueue((e.Type.Plural, e.Object.Namespace!, e.Object.Name));
        }
    }

    private protected override void Reconcile((string Plural, string Namespace, string Name) key) =>
        Reconcile(key.Plural == "statefulsets" ? _statefulSets : _daemonSets, key.Namespace, key.Name);

    private void Reconcile(ResourceType type, string ns, string name)
    {
        var stored = _store.Get(type, ns, name);
        if (stored is null || stored.Deleting) return;
        var workload = stored.ToNode();
        var spec = workload["spec"]!.AsObject();
        var template = spec["template"]!.AsObject();
        var hash = DeploymentSimulator.TemplateHash(template);
        var revisions = _store.OwnedBy(_revisions, stored.Uid).Select(r => r.ToNode()).ToList();
        var max = revisions.Select(Number).DefaultIfEmpty(0).Max();
        var update = revisions.FirstOrDefault(r => r["data"]?["spec"]?["template"] is JsonObject t && DeploymentSimulator.TemplateHash(Unpatched(t)) == hash);
        if (update is null)
        {
            update = _store.Create(_revisions, NewRevision(type, workload, stored.Uid, hash, max + 1), owner: Writer).ToNode();
            revisions.Add(update);
        }
        else if (Number(update) < max)
        {
            update = _store.Update(_revisions, ns, NameOf(update), r =>
            {
                r["revision"] = max + 1;
                return r;
            }, owner: Writer).ToNode();
        }
        var updateRevision = NameOf(update);
        var status = workload["status"] as JsonObject ?? [];
        var currentRevision = (string?)status["currentRevision"] ?? updateRevision;
        Prune(spec, revisions, updateRevision, currentRevision);

        var onDelete = (string?)spec["updateStrategy"]?["type"] == "OnDelete";
        bool recreated, stalled;
        lock (_gate)
        {
            recreated = _recreated.Remove($"{type.Plural}/{ns}/{name}");
            stalled = _stalled.Contains($"{type.Plural}/{ns}/{name}");
        }
        // A stalled rollout behaves like OnDelete whose pods are never replaced: nothing moves to the new
        // revision; a paced one the same until its time has passed.
        onDelete |= stalled || Pacing(type, ns, name, updateRevision, rolling: type == _statefulSets
            ? currentRevision != updateRevision
            : (string?)status["updateRevision"] != updateRevision || ((int?)status["updatedNumberScheduled"] ?? 0) < Nodes);
        var next = type == _statefulSets
            ? StatefulSetStatus(workload, spec, status, onDelete, recreated, currentRevision, updateRevision)
            : DaemonSetStatus(workload, status, onDelete, recreated, updateRevision);
        _store.Update(type, ns, name, current =>
        {
            current["status"] = next.DeepClone();
            return current;
        }, owner: Writer);
    }

    private static JsonObject StatefulSetStatus(JsonObject sts, JsonObject spec, JsonObject status, bool onDelete, bool recreated, string currentRevision, string updateRevision)
    {
        var replicas = (int?)spec["replicas"] ?? 1;
        var partition = onDelete ? 0 : Math.Clamp((int?)spec["updateStrategy"]?["rollingUpdate"]?["partition"] ?? 0, 0, replicas);
        var wasUpdated = (int?)status["updatedReplicas"] ?? 0;
        // Nothing to roll (the first revision, or back on the current one): every pod is on it.
        var updated = currentRevision == updateRevision || recreated ? replicas
            : onDelete ? ((string?)status["updateRevision"] == updateRevision ? wasUpdated : 0)
            : replicas - partition;
        if (updated == replicas) currentRevision = updateRevision;
        return new JsonObject
        {
            ["observedGeneration"] = sts["metadata"]!["generation"]?.DeepClone(),
            ["replicas"] = replicas,
            ["readyReplicas"] = replicas,
            ["currentReplicas"] = currentRevision == updateRevision ? replicas : replicas - updated,
            ["updatedReplicas"] = updated,
            ["currentRevision"] = currentRevision,
            ["updateRevision"] = updateRevision,
            ["collisionCount"] = 0,
            ["availableReplicas"] = replicas,
        };
    }

    private static JsonObject DaemonSetStatus(JsonObject ds, JsonObject status, bool onDelete, bool recreated, string updateRevision)
    {
        var wasUpdated = (int?)status["updatedNumberScheduled"] ?? 0;
        var sameRevision = (string?)status["updateRevision"] == updateRevision;
        var updated = !onDelete || recreated ? Nodes : sameRevision ? wasUpdated : 0;
        return new JsonObject
        {
            ["currentNumberScheduled"] = Nodes,
            ["numberMisscheduled"] = 0,
            ["desiredNumberScheduled"] = Nodes,
            ["numberReady"] = Nodes,
            ["observedGeneration"] = ds["metadata"]!["generation"]?.DeepClone(),
            ["updatedNumberScheduled"] = updated,
            ["numberAvailable"] = Nodes,
            // Not in the real DaemonSetStatus; the simulator remembers which revision it rolled to.
            ["updateRevision"] = updateRevision,
        };
    }

    /// <summary>
    /// With <see cref="RolloutPace.After"/>: whether a rollout to <paramref name="updateRevision"/> is
    /// still within its time (it then looks like pods not yet replaced), waking the controller when it
    /// is over.
    /// </summary>
    private bool Pacing(ResourceType type, string ns, string name, string updateRevision, bool rolling)
    {
        if (_pace is not RolloutPace.DelayedPace delayed || !rolling) return false;
        var key = $"{type.Plural}/{ns}/{name}@{updateRevision}";
        var now = _store.Time.GetUtcNow();
        lock (_gate)
        {
            if (!_paced.TryGetValue(key, out var entry))
            {
                var timer = _store.Time.CreateTimer(_ => Enqueue((type.Plural, ns, name)), null, delayed.Delay, Timeout.InfiniteTimeSpan);
                entry = (now, timer);
                _paced[key] = entry;
            }
            var due = entry.Start + delayed.Delay;
            if (now < due)
            {
                // A timer may fire a little before the clock reaches its time: wake again at the time.
                entry.Timer.Change(due - now + TimeSpan.FromMilliseconds(10), Timeout.InfiniteTimeSpan);
                return true;
            }
            entry.Timer.Dispose();
            _paced.Remove(key);
            return false;
        }
    }

    /// <summary>Keeps revisionHistoryLimit old revisions besides the current and update ones, deleting the oldest.</summary>
    private void Prune(JsonObject spec, List<JsonObject> revisions, string updateRevision, string currentRevision)
    {
        var limit = (int?)spec["revisionHistoryLimit"] ?? 10;
        var old = revisions.Where(r => NameOf(r) != updateRevision && NameOf(r) != currentRevision).OrderBy(Number).ToList();
        foreach (var r in old.Take(Math.Max(0, old.Count - limit)))
        {
            _store.Delete(_revisions, (string?)r["metadata"]!["namespace"], NameOf(r), new DeleteOptions(null, null, "Background", false));
        }
    }

    private JsonObject NewRevision(ResourceType type, JsonObject workload, string uid, string hash, long number)
    {
        var meta = workload["metadata"]!;
        var name = (string)meta["name"]!;
        var labels = workload["spec"]!["template"]!["metadata"]?["labels"]?.DeepClone() as JsonObject ?? [];
        labels[type.Plural == "statefulsets" ? StatefulSetHashLabel : DaemonSetHashLabel] = hash;
        var template = (JsonObject)workload["spec"]!["template"]!.DeepClone();
        template["$patch"] = "replace";
        var revision = new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "ControllerRevision",
            ["metadata"] = new JsonObject
            {
                ["name"] = $"{name}-{hash}",
                ["namespace"] = meta["namespace"]!.DeepClone(),
                ["labels"] = labels,
                ["ownerReferences"] = new JsonArray(new JsonObject
                {
                    ["apiVersion"] = "apps/v1", ["kind"] = type.Kind, ["name"] = name, ["uid"] = uid, ["controller"] = true, ["blockOwnerDeletion"] = true,
                }),
            },
            ["data"] = new JsonObject { ["spec"] = new JsonObject { ["template"] = template } },
            ["revision"] = number,
        };
        Validation.Admission.PrepareCreate(_revisions, "v1", revision, Validation.FieldValidation.Ignore, []);
        return revision;
    }

    private static JsonObject Unpatched(JsonObject template)
    {
        var copy = (JsonObject)template.DeepClone();
        copy.Remove("$patch");
        return copy;
    }

    private static long Number(JsonObject revision) => J.Long(revision["revision"]) ?? 0;

    private static string NameOf(JsonObject obj) => (string)obj["metadata"]!["name"]!;
}
