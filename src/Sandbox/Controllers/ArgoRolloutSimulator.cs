using System.Globalization;
using System.Text.Json.Nodes;
using DoraOperator.Sandbox.Apply;
using DoraOperator.Sandbox.Resources;
using DoraOperator.Sandbox.Storage;
using DoraOperator.Sandbox.Validation;

namespace DoraOperator.Sandbox.Controllers;

/// <summary>
/// The Argo Rollouts controller as its status shows it, once the <c>rollouts.argoproj.io</c> CRD is
/// installed (<see cref="CrdManifest"/>): each pod template is a ReplicaSet
/// <c>&lt;rollout&gt;-&lt;hash&gt;</c> owned by the Rollout and annotated <c>rollout.argoproj.io/revision</c>
/// (a return to an old template renumbers its ReplicaSet, as for Deployments); the first revision is
/// stable at once; a later one walks the canary steps (<c>setWeight</c>, timed pauses pass at once,
/// <c>pause: {}</c> waits with a <c>CanaryPauseStep</c> pause condition until the pause conditions
/// are cleared: a promote) or, for blue-green, waits on the preview (<c>BlueGreenPause</c>) unless
/// <c>autoPromotionEnabled</c>, then becomes stable and Healthy. <c>status.abort: true</c> (what
/// <c>kubectl argo rollouts abort</c> writes) makes it Degraded with <c>RolloutAborted</c> and the
/// stable ReplicaSet serving; a new template clears the abort.
/// </summary>
public sealed class ArgoRolloutSimulator : SimulatedController<(string Namespace, string Name)>
{
    public const string RevisionAnnotation = "rollout.argoproj.io/revision";
    private const string HashLabel = "rollouts-pod-template-hash";
    private const string RolloutsKey = "argoproj.io/rollouts";
    private static readonly FieldOwner Writer = new("argo-rollouts", "argoproj.io/v1alpha1", null, BothScopes: true);

    private readonly ObjectStore _store;
    private readonly ResourceRegistry _registry;
    private readonly ResourceType _replicaSets;

    internal ArgoRolloutSimulator(ObjectStore store, ResourceRegistry registry)
    {
        _store = store;
        _registry = registry;
        _replicaSets = registry.FindByKey("apps/replicasets")!;
        store.Subscribe(OnStoreEvent);
        Start();
    }

    protected override string Name => "argo rollouts";

    /// <summary>
    /// The Rollout CRD as the Argo Rollouts install manifest serves it, reduced to what clients see:
    /// argoproj.io/v1alpha1 Rollout (short name <c>ro</c>), the status and scale subresources, and a
    /// schema that keeps every field.
    /// </summary>
    public const string CrdManifest = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: rollouts.argoproj.io
        spec:
          group: argoproj.io
          names: {kind: Rollout, listKind: RolloutList, plural: rollouts, singular: rollout, shortNames: [ro]}
          scope: Namespaced
          versions:
          - name: v1alpha1
            served: true
            storage: true
            subresources:
              status: {}
              scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.HPAReplicas, labelSelectorPath: .status.selector}
            additionalPrinterColumns:
            - {name: Desired, type: integer, jsonPath: .spec.replicas}
            - {name: Current, type: integer, jsonPath: .status.replicas}
            - {name: Up-to-date, type: integer, jsonPath: .status.updatedReplicas}
            - {name: Available, type: integer, jsonPath: .status.availableReplicas}
            - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
            schema:
              openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
        """;

    private void OnStoreEvent(StoreEvent e)
    {
        if (e.Type.Key == RolloutsKey && e.EventType != WatchEventTypes.Deleted) Enqueue((e.Object.Namespace!, e.Object.Name));
    }

    private protected override void Reconcile((string Namespace, string Name) key)
    {
        if (_registry.FindByKey(RolloutsKey) is { } type) Reconcile(type, key.Namespace, key.Name);
    }

    private void Reconcile(ResourceType type, string ns, string name)
    {
        var stored = _store.Get(type, ns, name);
        if (stored is null || stored.Deleting) return;
        var rollout = stored.ToNode();
        var spec = rollout["spec"] as JsonObject ?? [];
        if (spec["template"] is not JsonObject template) return;
        var hash = DeploymentSimulator.TemplateHash(template);
        var owned = _store.OwnedBy(_replicaSets, stored.Uid).Select(r => r.ToNode()).ToList();
        var max = owned.Select(Revision).DefaultIfEmpty(0).Max();
        var current = owned.FirstOrDefault(rs => (string?)rs["metadata"]?["labels"]?[HashLabel] == hash);
        if (current is null)
        {
            current = _store.Create(_replicaSets, NewReplicaSet(rollout, stored.Uid, hash, max + 1), owner: Writer).ToNode();
        }
        else if (Revision(current) < max)
        {
            current = _store.Update(_replicaSets, ns, (string)current["metadata"]!["name"]!, rs =>
            {
                rs["metadata"]!["annotations"]![RevisionAnnotation] = (max + 1).ToString(CultureInfo.InvariantCulture);
                return rs;
            }, owner: Writer).ToNode();
        }
        var revision = Revision(current);
        var status = rollout["status"] as JsonObject ?? [];
        var next = NextStatus(rollout, spec, status, hash, revision);
        _store.Update(type, ns, name, r =>
        {
            var annotations = r["metadata"]!["annotations"] as JsonObject ?? [];
            annotations[RevisionAnnotation] = revision.ToString(CultureInfo.InvariantCulture);
            r["metadata"]!["annotations"] = annotations;
            r["status"] = next.DeepClone();
            return r;
        }, owner: Writer);
    }

    private JsonObject NextStatus(JsonObject rollout, JsonObject spec, JsonObject status, string hash, long revision)
    {
        var now = _store.Now();
        var replicas = (int?)spec["replicas"] ?? 1;
        var stable = (string?)status["stableRS"];
        var newTemplate = (string?)status["currentPodHash"] != hash;
        var aborted = (bool?)status["abort"] == true && !newTemplate;
        var pauses = newTemplate ? new JsonArray() : status["pauseConditions"] as JsonArray ?? [];
        var step = newTemplate ? 0 : (int?)status["currentStepIndex"] ?? 0;
        var canarySteps = spec["strategy"]?["canary"]?["steps"] as JsonArray ?? [];
        var blueGreen = spec["strategy"]?["blueGreen"] as JsonObject;
        string phase;
        string? pauseReason = null;
        if (stable is null || stable == hash)
        {
            stable = hash;
            phase = "Healthy";
        }
        else if (aborted)
        {
            phase = "Degraded";
        }
        else if (blueGreen is not null)
        {
            var promoted = (bool?)blueGreen["autoPromotionEnabled"] != false || (!newTemplate && pauses.Count == 0 && (bool?)status["controllerPause"] == true);
            if (promoted)
            {
                stable = hash;
                phase = "Healthy";
            }
            else
            {
                phase = "Paused";
                pauseReason = "BlueGreenPause";
            }
        }
        else
        {
            // A cleared pause condition on the step we paused at is a promote: move past it.
            if (!newTemplate && pauses.Count == 0 && (bool?)status["controllerPause"] == true) step++;
            while (step < canarySteps.Count && !(canarySteps[step]?["pause"] is JsonObject p && p["duration"] is null)) step++;
            if (step < canarySteps.Count)
            {
                phase = "Paused";
                pauseReason = "CanaryPauseStep";
            }
            else
            {
                stable = hash;
                phase = "Healthy";
            }
        }
        var healthy = phase == "Healthy";
        var conditions = status["conditions"]?.DeepClone() as JsonArray ?? [];
        var progressingReason = healthy ? "NewReplicaSetAvailable" : aborted ? "RolloutAborted" : pauseReason is not null ? "RolloutPaused" : "ReplicaSetUpdated";
        SetCondition(conditions, "Progressing", aborted ? "False" : "True", progressingReason,
            aborted ? $"Rollout aborted update to revision {revision}" : healthy ? "Rollout has successfully progressed" : $"Rollout is progressing to revision {revision}", now);
        SetCondition(conditions, "Healthy", healthy ? "True" : "False", healthy ? "RolloutHealthy" : "RolloutHealthy", healthy ? "Rollout is healthy" : "Rollout is not healthy", now);
        SetCondition(conditions, "Completed", healthy ? "True" : "False", healthy ? "RolloutCompleted" : "RolloutNotCompleted", healthy ? "Rollout completed update to revision " + revision : "Rollout not completed", now);
        var next = new JsonObject
        {
            ["observedGeneration"] = ((long?)rollout["metadata"]!["generation"] ?? 1).ToString(CultureInfo.InvariantCulture),
            ["phase"] = phase,
            ["currentPodHash"] = hash,
            ["stableRS"] = stable,
            ["replicas"] = replicas,
            ["updatedReplicas"] = healthy || !aborted ? replicas : 0,
            ["readyReplicas"] = replicas,
            ["availableReplicas"] = replicas,
            ["HPAReplicas"] = replicas,
            ["selector"] = $"{HashLabel}={stable}",
            ["conditions"] = conditions,
        };
        if (aborted)
        {
            next["abort"] = true;
            next["abortedAt"] = (string?)status["abortedAt"] ?? now;
            next["message"] = $"RolloutAborted: Rollout aborted update to revision {revision}";
        }
        if (canarySteps.Count > 0 && blueGreen is null) next["currentStepIndex"] = Math.Min(step, canarySteps.Count);
        if (pauseReason is not null)
        {
            var existing = pauses.FirstOrDefault(p => (string?)p?["reason"] == pauseReason);
            next["pauseConditions"] = new JsonArray(new JsonObject { ["reason"] = pauseReason, ["startTime"] = (string?)existing?["startTime"] ?? now });
            next["controllerPause"] = true;
        }
        if (blueGreen is not null) next["blueGreen"] = new JsonObject { ["activeSelector"] = stable, ["previewSelector"] = hash };
        else next["canary"] = new JsonObject();
        return next;
    }

    private static void SetCondition(JsonArray conditions, string type, string status, string reason, string message, string now)
    {
        var existing = conditions.OfType<JsonObject>().FirstOrDefault(c => (string?)c["type"] == type);
        if (existing is null)
        {
            conditions.Add((JsonNode)new JsonObject
            {
                ["type"] = type, ["status"] = status, ["reason"] = reason, ["message"] = message, ["lastUpdateTime"] = now, ["lastTransitionTime"] = now,
            });
            return;
        }
        if ((string?)existing["status"] != status) existing["lastTransitionTime"] = now;
        if ((string?)existing["reason"] != reason || (string?)existing["message"] != message || (string?)existing["status"] != status) existing["lastUpdateTime"] = now;
        existing["status"] = status;
        existing["reason"] = reason;
        existing["message"] = message;
    }

    private JsonObject NewReplicaSet(JsonObject rollout, string uid, string hash, long revision)
    {
        var meta = rollout["metadata"]!;
        var name = (string)meta["name"]!;
        var template = (JsonObject)rollout["spec"]!["template"]!.DeepClone();
        var templateMeta = template["metadata"] as JsonObject ?? [];
        template["metadata"] = templateMeta;
        var labels = templateMeta["labels"] as JsonObject ?? [];
        labels[HashLabel] = hash;
        templateMeta["labels"] = labels;
        var selector = rollout["spec"]!["selector"]?.DeepClone() as JsonObject ?? new JsonObject { ["matchLabels"] = labels.DeepClone() };
        var matchLabels = selector["matchLabels"] as JsonObject ?? [];
        matchLabels[HashLabel] = hash;
        selector["matchLabels"] = matchLabels;
        var rs = new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "ReplicaSet",
            ["metadata"] = new JsonObject
            {
                ["name"] = $"{name}-{hash}",
                ["namespace"] = meta["namespace"]!.DeepClone(),
                ["labels"] = labels.DeepClone(),
                ["annotations"] = new JsonObject { [RevisionAnnotation] = revision.ToString(CultureInfo.InvariantCulture) },
                ["ownerReferences"] = new JsonArray(new JsonObject
                {
                    ["apiVersion"] = "argoproj.io/v1alpha1", ["kind"] = "Rollout", ["name"] = name, ["uid"] = uid, ["controller"] = true, ["blockOwnerDeletion"] = true,
                }),
            },
            ["spec"] = new JsonObject { ["replicas"] = (int?)rollout["spec"]!["replicas"] ?? 1, ["selector"] = selector, ["template"] = template },
        };
        Admission.PrepareCreate(_replicaSets, "v1", rs, FieldValidation.Ignore, []);
        return rs;
    }

    private static long Revision(JsonObject rs) =>
        long.TryParse((string?)rs["metadata"]?["annotations"]?[RevisionAnnotation], NumberStyles.None, CultureInfo.InvariantCulture, out var r) ? r : 0;
}
