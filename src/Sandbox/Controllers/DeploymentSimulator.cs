using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using DoraOperator.Sandbox.Apply;
using DoraOperator.Sandbox.Resources;
using DoraOperator.Sandbox.Storage;
using DoraOperator.Sandbox.Validation;

namespace DoraOperator.Sandbox.Controllers;

/// <summary>
/// A simulated kube-controller-manager Deployment controller. It does what the real one does to
/// the objects clients see: a new pod template gets a ReplicaSet <c>&lt;deployment&gt;-&lt;pod-template-hash&gt;</c>
/// with the next <c>deployment.kubernetes.io/revision</c>; going back to an earlier template revives
/// the old ReplicaSet with a new revision and a <c>revision-history</c>; scaling makes no revision;
/// status, replica counts and the Progressing/Available conditions advance as they would. Pods are
/// not simulated: replicas become ready as soon as the pace allows. Tests set the pace per Deployment.
/// </summary>
public sealed class DeploymentSimulator : IAsyncDisposable
{
    private const string RevisionAnnotation = "deployment.kubernetes.io/revision";
    private const string RevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history";
    private const string HashLabel = "pod-template-hash";

    private sealed class Rollout
    {
        public string Hash { get; set; } = "";
        public DateTimeOffset StartedAt { get; set; }
        public int ManualSteps { get; set; }
        public bool Failed { get; set; }
        public bool Completed { get; set; }
        public ITimer? Timer { get; set; }
    }

    private readonly ObjectStore _store;
    private readonly ResourceType _deployments;
    private readonly ResourceType _replicaSets;
    private readonly Channel<string> _queue = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly HashSet<string> _queued = [];
    /// <summary>Every write is kube-controller-manager's, as the real Deployment controller's are.</summary>
    private static readonly FieldOwner Writer = FieldOwner.ControllerManager("apps/v1");
    private readonly Dictionary<string, RolloutPace> _paces = [];
    private readonly HashSet<string> _failNext = [];
    private readonly Dictionary<string, Rollout> _rollouts = [];
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _inFlight;

    internal DeploymentSimulator(ObjectStore store, ResourceRegistry registry, RolloutPace defaultPace)
    {
        _store = store;
        _deployments = registry.FindByKey("apps/deployments")!;
        _replicaSets = registry.FindByKey("apps/replicasets")!;
        DefaultPace = defaultPace;
        store.Subscribe(OnStoreEvent);
        _loop = Task.Run(RunAsync);
    }

    /// <summary>The pace for Deployments without one of their own.</summary>
    public RolloutPace DefaultPace { get; set; }

    public void SetPace(string ns, string name, RolloutPace pace)
    {
        lock (_gate) _paces[Key(ns, name)] = pace;
        Enqueue(Key(ns, name));
    }

    /// <summary>Moves a Manual rollout forward by <paramref name="replicas"/> replicas.</summary>
    public void Advance(string ns, string name, int replicas = 1)
    {
        lock (_gate)
        {
            if (_rollouts.TryGetValue(Key(ns, name), out var r)) r.ManualSteps += replicas;
        }
        Enqueue(Key(ns, name));
    }

    /// <summary>Finishes the current rollout now, whatever the pace.</summary>
    public void Complete(string ns, string name) => Advance(ns, name, int.MaxValue / 2);

    /// <summary>Makes the current rollout fail with ProgressDeadlineExceeded.</summary>
    public void Fail(string ns, string name)
    {
        lock (_gate)
        {
            if (_rollouts.TryGetValue(Key(ns, name), out var r)) r.Failed = true;
        }
        Enqueue(Key(ns, name));
    }

    /// <summary>The next rollout of this Deployment will fail with ProgressDeadlineExceeded.</summary>
    public void FailNextRollout(string ns, string name)
    {
        lock (_gate) _failNext.Add(Key(ns, name));
    }

    /// <summary>Waits until the controller has nothing queued or running (for tests that need a settled state).</summary>
    public async Task WaitIdleAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            lock (_gate)
            {
                if (_queued.Count == 0 && Volatile.Read(ref _inFlight) == 0) return;
            }
            await Task.Yield();
            await Task.Delay(TimeSpan.FromMilliseconds(2), TimeProvider.System, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _queue.Writer.TryComplete();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }
        lock (_gate)
        {
            foreach (var r in _rollouts.Values) r.Timer?.Dispose();
        }
    }

    private static string Key(string ns, string name) => ns + "/" + name;

    private void OnStoreEvent(StoreEvent e)
    {
        if (e.Type.Group != "apps") return;
        if (e.Type.Plural == "deployments")
        {
            Enqueue(e.Object.Key);
        }
        else if (e.Type.Plural == "replicasets")
        {
            var owner = e.Object.ToNode()["metadata"]?["ownerReferences"]?.AsArray()
                .FirstOrDefault(o => (string?)o?["kind"] == "Deployment" && (bool?)o?["controller"] == true);
            if (owner is not null) Enqueue(Key(e.Object.Namespace, (string)owner["name"]!));
        }
    }

    private void Enqueue(string key)
    {
        lock (_gate)
        {
            if (!_queued.Add(key)) return;
        }
        _queue.Writer.TryWrite(key);
    }

    private async Task RunAsync()
    {
        await foreach (var key in _queue.Reader.ReadAllAsync(_stop.Token))
        {
            Interlocked.Increment(ref _inFlight);
            lock (_gate) _queued.Remove(key);
            try
            {
                var slash = key.IndexOf('/');
                Reconcile(key[..slash], key[(slash + 1)..]);
            }
            catch (Http.ApiException e) when (e.Code is 404 or 409)
            {
                // A conflicting write by a client, or the object went away: the resulting event requeues us.
                Enqueue(key);
            }
            catch (Exception e)
            {
                // Never let one bad object stop the controller; say what happened, like the real one logs.
                await Console.Error.WriteLineAsync($"sandbox deployment controller: reconciling {key} failed: {e}");
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
    }

    private void Reconcile(string ns, string name)
    {
        var key = Key(ns, name);
        var stored = _store.Get(_deployments, ns, name);
        if (stored is null)
        {
            lock (_gate)
            {
                // A pace set before the Deployment exists is kept for it.
                if (_rollouts.Remove(key, out var gone)) gone.Timer?.Dispose();
            }
            return;
        }
        if (stored.Deleting) return;
        var deployment = stored.ToNode();
        var spec = deployment["spec"]!.AsObject();
        var template = spec["template"]!.AsObject();
        var desired = J.Int(spec["replicas"]) ?? 1;
        var paused = (bool?)spec["paused"] == true;
        var now = _store.Time.GetUtcNow();
        var nowText = ObjectStore.FormatTime(now);

        var owned = _store.OwnedBy(_replicaSets, stored.Uid)
            .Select(rs => rs.ToNode())
            .Where(rs => rs["metadata"]?["ownerReferences"] is JsonArray refs && refs.Any(r => (string?)r?["uid"] == stored.Uid && (bool?)r?["controller"] == true))
            .ToList();
        var hash = TemplateHash(template);
        var newRs = owned.FirstOrDefault(rs => EqualIgnoringHash(rs["spec"]?["template"], template));
        var maxRevision = owned.Select(Revision).DefaultIfEmpty(0).Max();

        Rollout rollout;
        RolloutPace pace;
        lock (_gate)
        {
            pace = _paces.GetValueOrDefault(key, DefaultPace);
            if (!_rollouts.TryGetValue(key, out rollout!))
            {
                rollout = new Rollout { Hash = hash, StartedAt = now };
                _rollouts[key] = rollout;
            }
        }

        string progressingReason;
        string progressingMessage;
        if (newRs is null)
        {
            if (paused)
            {
                WriteDeploymentStatus(deployment, owned, null, desired, null, ("Unknown", "DeploymentPaused", "Deployment is paused"), nowText, now);
                return;
            }
            var rsName = $"{name}-{hash}";
            newRs = BuildReplicaSet(deployment, stored.Uid, rsName, hash, maxRevision + 1);
            var created = _store.Create(_replicaSets, newRs, owner: Writer);
            newRs = created.ToNode();
            owned.Add(newRs);
            StartRollout(key, rollout, hash, now);
            progressingReason = "NewReplicaSetCreated";
            progressingMessage = $"Created new replica set \"{rsName}\"";
        }
        else if (Revision(newRs) < maxRevision)
        {
            // A rollback: the older ReplicaSet becomes the newest revision.
            var oldRevision = Revision(newRs);
            var revision = maxRevision + 1;
            newRs = _store.Update(_replicaSets, ns, (string)newRs["metadata"]!["name"]!, rs =>
            {
                var annotations = rs["metadata"]!["annotations"] as JsonObject ?? [];
                var history = (string?)annotations[RevisionHistoryAnnotation];
                annotations[RevisionHistoryAnnotation] = string.IsNullOrEmpty(history) ? oldRevision.ToString(CultureInfo.InvariantCulture) : $"{history},{oldRevision}";
                annotations[RevisionAnnotation] = revision.ToString(CultureInfo.InvariantCulture);
                rs["metadata"]!["annotations"] = annotations;
                return rs;
            }, owner: Writer).ToNode();
            owned = owned.Select(rs => (string?)rs["metadata"]!["name"] == (string?)newRs["metadata"]!["name"] ? newRs : rs).ToList();
            StartRollout(key, rollout, hash, now);
            progressingReason = "FoundNewReplicaSet";
            progressingMessage = $"Found new replica set \"{(string?)newRs["metadata"]!["name"]}\"";
        }
        else
        {
            if (rollout.Hash != hash) StartRollout(key, rollout, hash, now);
            progressingReason = "ReplicaSetUpdated";
            progressingMessage = $"ReplicaSet \"{(string?)newRs["metadata"]!["name"]}\" is progressing.";
        }

        var newName = (string)newRs["metadata"]!["name"]!;
        var oldSets = owned.Where(rs => (string?)rs["metadata"]!["name"] != newName).ToList();
        var oldReplicas = oldSets.Sum(rs => J.Int(rs["spec"]?["replicas"]) ?? 0);
        var currentNew = J.Int(newRs["spec"]?["replicas"]) ?? 0;
        var complete = currentNew == desired && oldReplicas == 0 && !rollout.Failed;

        (string Status, string Reason, string Message) progressing;
        int targetNew;
        int targetOld;
        if (paused)
        {
            targetNew = currentNew;
            targetOld = oldReplicas;
            progressing = ("Unknown", "DeploymentPaused", "Deployment is paused");
        }
        else if (rollout.Failed)
        {
            targetNew = currentNew;
            targetOld = oldReplicas;
            progressing = ("False", "ProgressDeadlineExceeded", $"ReplicaSet \"{newName}\" has timed out progressing.");
        }
        else
        {
            var finished = pace switch
            {
                _ when rollout.Completed && rollout.Hash == hash => true,
                RolloutPace.ImmediatePace => !IsFreshStart(progressingReason),
                RolloutPace.DelayedPace d => now - rollout.StartedAt >= d.Delay,
                _ => false,
            };
            if (!finished && (pace is RolloutPace.ManualPace || pace is RolloutPace.DelayedPace))
            {
                var steps = pace is RolloutPace.ManualPace ? rollout.ManualSteps : Math.Min(1, desired);
                targetNew = Math.Max(Math.Min(desired, steps), Math.Min(currentNew, desired));
                targetOld = Math.Max(0, Math.Min(oldReplicas, desired - steps));
                finished = targetNew == desired && targetOld == 0;
                if (pace is RolloutPace.DelayedPace dp && !finished) ScheduleAt(key, rollout, rollout.StartedAt + dp.Delay, now);
            }
            else if (finished || complete)
            {
                targetNew = desired;
                targetOld = 0;
                finished = true;
            }
            else
            {
                // Immediate pace, first pass: show the rollout in progress, then finish on the next pass.
                targetNew = currentNew;
                targetOld = oldReplicas;
                Enqueue(key);
            }
            if (finished) rollout.Completed = true;
            var moved = targetNew != currentNew || targetOld != oldReplicas;
            var existing = ExistingProgressing(deployment);
            progressing = finished
                ? ("True", "NewReplicaSetAvailable", $"ReplicaSet \"{newName}\" has successfully progressed.")
                : !moved && progressingReason == "ReplicaSetUpdated" && existing is { Status: "True" } keep && keep.Reason != "NewReplicaSetAvailable"
                    ? keep
                    : ("True", progressingReason, progressingMessage);
        }

        if (!paused && !rollout.Failed)
        {
            ScaleReplicaSet(ns, newRs, targetNew);
            var remaining = targetOld;
            foreach (var rs in oldSets.OrderByDescending(Revision))
            {
                var current = J.Int(rs["spec"]?["replicas"]) ?? 0;
                var keep = Math.Min(current, remaining);
                remaining -= keep;
                ScaleReplicaSet(ns, rs, keep);
            }
        }
        var ownedUids = owned.Select(o => (string?)o["metadata"]!["uid"]).ToHashSet();
        var refreshed = _store.OwnedBy(_replicaSets, stored.Uid).Where(rs => ownedUids.Contains(rs.Uid)).Select(rs => rs.ToNode()).ToList();
        var newRefreshed = refreshed.FirstOrDefault(rs => (string?)rs["metadata"]!["name"] == newName);
        WriteDeploymentStatus(deployment, refreshed, newRefreshed, desired, Revision(newRefreshed ?? newRs), progressing, nowText, now);
        if (progressing.Reason == "NewReplicaSetAvailable") CleanupHistory(ns, deployment, refreshed, newName);
    }

    private static (string Status, string Reason, string Message)? ExistingProgressing(JsonObject deployment)
    {
        var c = deployment["status"]?["conditions"]?.AsArray().OfType<JsonObject>().FirstOrDefault(x => (string?)x["type"] == "Progressing");
        return c is null ? null : ((string?)c["status"] ?? "", (string?)c["reason"] ?? "", (string?)c["message"] ?? "");
    }

    private static bool IsFreshStart(string reason) => reason is "NewReplicaSetCreated" or "FoundNewReplicaSet";

    private void StartRollout(string key, Rollout rollout, string hash, DateTimeOffset now)
    {
        lock (_gate)
        {
            rollout.Hash = hash;
            rollout.StartedAt = now;
            rollout.ManualSteps = 0;
            rollout.Completed = false;
            rollout.Failed = _failNext.Remove(key);
            rollout.Timer?.Dispose();
            rollout.Timer = null;
        }
    }

    private void ScheduleAt(string key, Rollout rollout, DateTimeOffset due, DateTimeOffset now)
    {
        lock (_gate)
        {
            if (rollout.Timer is not null) return;
            var delay = due - now;
            if (delay < TimeSpan.Zero) delay = TimeSpan.Zero;
            rollout.Timer = _store.Time.CreateTimer(_ =>
            {
                lock (_gate) rollout.Timer = null;
                Enqueue(key);
            }, null, delay, Timeout.InfiniteTimeSpan);
        }
    }

    private void ScaleReplicaSet(string ns, JsonObject rs, int replicas)
    {
        var name = (string)rs["metadata"]!["name"]!;
        _store.Update(_replicaSets, ns, name, current =>
        {
            current["spec"]!["replicas"] = replicas;
            var generation = J.Long(current["metadata"]!["generation"]) ?? 1;
            if (J.Int(rs["spec"]?["replicas"]) != replicas && J.Int(current["spec"]?["replicas"]) != replicas) generation++;
            current["metadata"]!["generation"] = generation;
            current["status"] = new JsonObject
            {
                ["replicas"] = replicas,
                ["fullyLabeledReplicas"] = replicas,
                ["readyReplicas"] = replicas,
                ["availableReplicas"] = replicas,
                ["observedGeneration"] = generation,
            };
            if (replicas == 0)
            {
                var status = current["status"]!.AsObject();
                status.Remove("fullyLabeledReplicas");
                status.Remove("readyReplicas");
                status.Remove("availableReplicas");
            }
            var annotations = current["metadata"]!["annotations"] as JsonObject ?? [];
            current["metadata"]!["annotations"] = annotations;
            return current;
        }, owner: Writer);
    }

    private void WriteDeploymentStatus(JsonObject deployment, List<JsonObject> sets, JsonObject? newRs, int desired, int? revision,
        (string Status, string Reason, string Message) progressing, string nowText, DateTimeOffset now)
    {
        var ns = (string)deployment["metadata"]!["namespace"]!;
        var name = (string)deployment["metadata"]!["name"]!;
        _store.Update(_deployments, ns, name, current =>
        {
            if (revision is { } rev)
            {
                var annotations = current["metadata"]!["annotations"] as JsonObject ?? [];
                annotations[RevisionAnnotation] = rev.ToString(CultureInfo.InvariantCulture);
                current["metadata"]!["annotations"] = annotations;
            }
            var total = sets.Sum(rs => J.Int(rs["status"]?["replicas"]) ?? 0);
            var available = sets.Sum(rs => J.Int(rs["status"]?["availableReplicas"]) ?? 0);
            var updated = J.Int(newRs?["status"]?["replicas"]) ?? 0;
            var oldStatus = current["status"] as JsonObject ?? [];
            var status = new JsonObject { ["observedGeneration"] = current["metadata"]!["generation"]?.DeepClone() };
            if (total > 0) status["replicas"] = total;
            if (updated > 0) status["updatedReplicas"] = updated;
            if (available > 0)
            {
                status["readyReplicas"] = available;
                status["availableReplicas"] = available;
            }
            if (desired - available > 0) status["unavailableReplicas"] = desired - available;
            var conditions = oldStatus["conditions"] as JsonArray ?? [];
            var maxUnavailable = MaxUnavailable(current, desired);
            SetCondition(conditions, "Available", available >= desired - maxUnavailable ? "True" : "False",
                available >= desired - maxUnavailable ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                available >= desired - maxUnavailable ? "Deployment has minimum availability." : "Deployment does not have minimum availability.", nowText);
            SetCondition(conditions, "Progressing", progressing.Status, progressing.Reason, progressing.Message, nowText);
            status["conditions"] = conditions.DeepClone();
            current["status"] = status;
            return current;
        }, owner: Writer);
    }

    private static int MaxUnavailable(JsonObject deployment, int desired)
    {
        var value = deployment["spec"]?["strategy"]?["rollingUpdate"]?["maxUnavailable"];
        if (J.Int(value) is { } n) return n;
        var text = value?.ToString() ?? "25%";
        return text.EndsWith('%') && int.TryParse(text[..^1], CultureInfo.InvariantCulture, out var pct) ? desired * pct / 100 : 0;
    }

    /// <summary>Conditions as the real controller keeps them: same status and reason keeps both times; a status flip moves lastTransitionTime.</summary>
    private static void SetCondition(JsonArray conditions, string type, string status, string reason, string message, string now)
    {
        var existing = conditions.OfType<JsonObject>().FirstOrDefault(c => (string?)c["type"] == type);
        if (existing is not null && (string?)existing["status"] == status && (string?)existing["reason"] == reason && (string?)existing["message"] == message) return;
        var transition = existing is not null && (string?)existing["status"] == status ? (string?)existing["lastTransitionTime"] : now;
        var condition = new JsonObject
        {
            ["type"] = type, ["status"] = status, ["lastUpdateTime"] = now, ["lastTransitionTime"] = transition, ["reason"] = reason, ["message"] = message,
        };
        if (existing is not null) conditions[conditions.IndexOf(existing)] = condition;
        else conditions.Add((JsonNode)condition);
    }

    private void CleanupHistory(string ns, JsonObject deployment, List<JsonObject> sets, string newName)
    {
        var limit = J.Int(deployment["spec"]?["revisionHistoryLimit"]) ?? 10;
        var old = sets.Where(rs => (string?)rs["metadata"]!["name"] != newName && (J.Int(rs["spec"]?["replicas"]) ?? 0) == 0)
            .OrderBy(Revision).ToList();
        foreach (var rs in old.Take(Math.Max(0, old.Count - limit)))
        {
            try
            {
                _store.Delete(_replicaSets, ns, (string)rs["metadata"]!["name"]!, new DeleteOptions(null, null, "Background", false));
            }
            catch (Http.ApiException)
            {
                // Already gone.
            }
        }
    }

    private JsonObject BuildReplicaSet(JsonObject deployment, string uid, string rsName, string hash, int revision)
    {
        var meta = deployment["metadata"]!.AsObject();
        var spec = deployment["spec"]!.AsObject();
        var template = (JsonObject)spec["template"]!.DeepClone();
        var templateMeta = template["metadata"] as JsonObject ?? [];
        template["metadata"] = templateMeta;
        var labels = templateMeta["labels"] as JsonObject ?? [];
        labels[HashLabel] = hash;
        templateMeta["labels"] = labels;
        var selector = (JsonObject)spec["selector"]!.DeepClone();
        var matchLabels = selector["matchLabels"] as JsonObject ?? [];
        matchLabels[HashLabel] = hash;
        selector["matchLabels"] = matchLabels;
        var annotations = new JsonObject();
        if (meta["annotations"] is JsonObject source)
        {
            foreach (var (k, v) in source)
            {
                if (k is "kubectl.kubernetes.io/last-applied-configuration" or RevisionAnnotation or RevisionHistoryAnnotation) continue;
                annotations[k] = v?.DeepClone();
            }
        }
        var desired = J.Int(spec["replicas"]) ?? 1;
        annotations["deployment.kubernetes.io/desired-replicas"] = desired.ToString(CultureInfo.InvariantCulture);
        annotations["deployment.kubernetes.io/max-replicas"] = (desired + (int)Math.Ceiling(desired * 0.25)).ToString(CultureInfo.InvariantCulture);
        annotations[RevisionAnnotation] = revision.ToString(CultureInfo.InvariantCulture);
        var rs = new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "ReplicaSet",
            ["metadata"] = new JsonObject
            {
                ["name"] = rsName,
                ["namespace"] = (string?)meta["namespace"],
                ["labels"] = labels.DeepClone(),
                ["annotations"] = annotations,
                ["ownerReferences"] = new JsonArray(new JsonObject
                {
                    ["apiVersion"] = "apps/v1", ["kind"] = "Deployment", ["name"] = (string?)meta["name"], ["uid"] = uid,
                    ["controller"] = true, ["blockOwnerDeletion"] = true,
                }),
            },
            ["spec"] = new JsonObject { ["replicas"] = 0, ["selector"] = selector, ["template"] = template },
        };
        var warnings = new List<string>();
        Admission.PrepareCreate(_replicaSets, "v1", rs, FieldValidation.Ignore, warnings);
        rs["status"] = new JsonObject { ["replicas"] = 0, ["observedGeneration"] = 1 };
        return rs;
    }

    private static int Revision(JsonObject rs) =>
        int.TryParse((string?)rs["metadata"]?["annotations"]?[RevisionAnnotation], CultureInfo.InvariantCulture, out var r) ? r : 0;

    private static bool EqualIgnoringHash(JsonNode? a, JsonNode? b) => Canonical(a) == Canonical(b);

    /// <summary>The pod-template hash: FNV-1a over the canonical template (hash label removed), encoded like the real controller's.</summary>
    internal static string TemplateHash(JsonNode template)
    {
        var text = Canonical(template);
        uint hash = 2166136261;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= 16777619;
        }
        return Names.SafeEncode(hash.ToString(CultureInfo.InvariantCulture));
    }

    private static string Canonical(JsonNode? template)
    {
        if (template is null) return "null";
        var copy = template.DeepClone();
        if (copy["metadata"]?["labels"] is JsonObject labels)
        {
            labels.Remove(HashLabel);
            if (labels.Count == 0) copy["metadata"]!.AsObject().Remove("labels");
        }
        if (copy["metadata"] is JsonObject m)
        {
            m.Remove("creationTimestamp");
            if (m.Count == 0) copy.AsObject().Remove("metadata");
        }
        return Sorted(copy)?.ToJsonString() ?? "null";
    }

    private static JsonNode? Sorted(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, Sorted(kv.Value)))),
        JsonArray a => new JsonArray(a.Select(Sorted).ToArray()),
        _ => node?.DeepClone(),
    };
}
