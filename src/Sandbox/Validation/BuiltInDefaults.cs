using System.Text.Json.Nodes;
using DoraOperator.Sandbox.Resources;

namespace DoraOperator.Sandbox.Validation;

/// <summary>The defaults a real API server fills for the built-in kinds we serve (apps/v1 and core/v1 rules).</summary>
internal static class BuiltInDefaults
{
    public static void Apply(ResourceType type, JsonObject obj)
    {
        switch (type.Group, type.Plural)
        {
            case ("apps", "deployments"):
                DefaultWorkload(obj, isDeployment: true);
                // The API server encodes the whole object: a status with every field empty is "{}".
                obj["status"] ??= new JsonObject();
                break;
            case ("apps", "statefulsets"):
                DefaultWorkload(obj, isDeployment: false);
                DefaultUpdateStrategy(obj, new JsonObject { ["partition"] = 0 });
                obj["spec"]!["podManagementPolicy"] ??= "OrderedReady";
                obj["spec"]!["revisionHistoryLimit"] ??= 10;
                obj["status"] ??= new JsonObject { ["replicas"] = 0, ["availableReplicas"] = 0 };
                break;
            case ("apps", "daemonsets"):
                DefaultWorkload(obj, isDeployment: false);
                obj["spec"]!.AsObject().Remove("replicas");
                DefaultUpdateStrategy(obj, new JsonObject { ["maxUnavailable"] = 1, ["maxSurge"] = 0 });
                obj["spec"]!["revisionHistoryLimit"] ??= 10;
                obj["status"] ??= new JsonObject
                {
                    ["currentNumberScheduled"] = 0, ["numberMisscheduled"] = 0, ["desiredNumberScheduled"] = 0, ["numberReady"] = 0,
                };
                break;
            case ("apps", "replicasets"):
                DefaultWorkload(obj, isDeployment: false);
                // ReplicaSetStatus.replicas is not omitempty: a new ReplicaSet shows "replicas": 0.
                var rsStatus = obj["status"] as JsonObject ?? [];
                rsStatus["replicas"] ??= 0;
                obj["status"] = rsStatus;
                break;
            case ("", "namespaces"):
                var status = obj["status"] as JsonObject ?? [];
                status["phase"] ??= "Active";
                obj["status"] = status;
                var spec = obj["spec"] as JsonObject ?? [];
                spec["finalizers"] ??= new JsonArray("kubernetes");
                obj["spec"] = spec;
                var labels = obj["metadata"]!["labels"] as JsonObject ?? [];
                labels["kubernetes.io/metadata.name"] = (string?)obj["metadata"]!["name"];
                obj["metadata"]!["labels"] = labels;
                break;
            case ("", "secrets"):
                obj["type"] ??= "Opaque";
                // stringData is write-only: the API server merges it into data (base64) and never stores it.
                if (obj["stringData"] is JsonObject plain)
                {
                    var data = obj["data"] as JsonObject ?? [];
                    foreach (var (key, value) in plain) data[key] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes((string?)value ?? ""));
                    obj["data"] = data;
                    obj.Remove("stringData");
                }
                break;
        }
    }

    /// <summary>StatefulSet and DaemonSet updateStrategy: RollingUpdate with its parameters unless OnDelete.</summary>
    private static void DefaultUpdateStrategy(JsonObject obj, JsonObject rollingUpdate)
    {
        var spec = obj["spec"]!.AsObject();
        var strategy = spec["updateStrategy"] as JsonObject ?? [];
        spec["updateStrategy"] = strategy;
        strategy["type"] ??= "RollingUpdate";
        if ((string?)strategy["type"] != "RollingUpdate") return;
        var ru = strategy["rollingUpdate"] as JsonObject ?? [];
        foreach (var (key, value) in rollingUpdate) ru[key] ??= value?.DeepClone();
        strategy["rollingUpdate"] = ru;
    }

    private static void DefaultWorkload(JsonObject obj, bool isDeployment)
    {
        var spec = obj["spec"] as JsonObject ?? [];
        obj["spec"] = spec;
        spec["replicas"] ??= 1;
        if (isDeployment)
        {
            spec["revisionHistoryLimit"] ??= 10;
            spec["progressDeadlineSeconds"] ??= 600;
            if (spec["strategy"] is not JsonObject strategy)
            {
                strategy = new JsonObject { ["type"] = "RollingUpdate" };
                spec["strategy"] = strategy;
            }
            strategy["type"] ??= "RollingUpdate";
            if ((string?)strategy["type"] == "RollingUpdate")
            {
                var ru = strategy["rollingUpdate"] as JsonObject ?? [];
                ru["maxUnavailable"] ??= "25%";
                ru["maxSurge"] ??= "25%";
                strategy["rollingUpdate"] = ru;
            }
        }
        if (spec["template"] is not JsonObject template) return;
        if (template["spec"] is not JsonObject pod) return;
        pod["restartPolicy"] ??= "Always";
        pod["terminationGracePeriodSeconds"] ??= 30;
        pod["dnsPolicy"] ??= "ClusterFirst";
        pod["securityContext"] ??= new JsonObject();
        pod["schedulerName"] ??= "default-scheduler";
        foreach (var list in new[] { "containers", "initContainers" })
        {
            if (pod[list] is not JsonArray containers) continue;
            foreach (var c in containers.OfType<JsonObject>())
            {
                c["terminationMessagePath"] ??= "/dev/termination-log";
                c["terminationMessagePolicy"] ??= "File";
                c["resources"] ??= new JsonObject();
                if (c["imagePullPolicy"] is null)
                {
                    var image = (string?)c["image"] ?? "";
                    var lastSegment = image[(image.LastIndexOf('/') + 1)..];
                    var tagless = !lastSegment.Contains(':') && !image.Contains('@');
                    c["imagePullPolicy"] = tagless || image.EndsWith(":latest", StringComparison.Ordinal) ? "Always" : "IfNotPresent";
                }
                if (c["ports"] is JsonArray ports)
                {
                    foreach (var p in ports.OfType<JsonObject>()) p["protocol"] ??= "TCP";
                }
            }
        }
    }
}
