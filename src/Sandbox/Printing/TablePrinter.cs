using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DoraOperator.Sandbox.Resources;
using DoraOperator.Sandbox.Storage;

namespace DoraOperator.Sandbox.Printing;

/// <summary>
/// Server-side printing (meta.k8s.io/v1 Table): the columns kubectl shows for built-in kinds and
/// a CRD's additionalPrinterColumns, each row carrying PartialObjectMetadata like the real server.
/// </summary>
internal static class TablePrinter
{
    private sealed record Column(string Name, string Type, string Format, string Description, int Priority, Func<JsonObject, DateTimeOffset, JsonNode?> Cell);

    public static JsonObject Table(ResourceType type, string version, IEnumerable<StoredObject> objects, DateTimeOffset now, bool includeColumns, string? resourceVersion, string? continueToken)
    {
        var columns = ColumnsFor(type, version);
        var rows = new JsonArray();
        foreach (var obj in objects)
        {
            var node = obj.ToNode();
            var cells = new JsonArray(columns.Select(c => c.Cell(node, now)).ToArray());
            var meta = node["metadata"]!.DeepClone();
            meta.AsObject().Remove("managedFields");
            rows.Add((JsonNode)new JsonObject
            {
                ["cells"] = cells,
                ["object"] = new JsonObject
                {
                    ["kind"] = "PartialObjectMetadata",
                    ["apiVersion"] = "meta.k8s.io/v1",
                    ["metadata"] = meta,
                },
            });
        }
        var table = new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/v1",
            ["metadata"] = new JsonObject(),
        };
        if (resourceVersion is not null) table["metadata"]!["resourceVersion"] = resourceVersion;
        if (continueToken is not null) table["metadata"]!["continue"] = continueToken;
        if (includeColumns)
        {
            table["columnDefinitions"] = new JsonArray(columns.Select(c => (JsonNode)new JsonObject
            {
                ["name"] = c.Name, ["type"] = c.Type, ["format"] = c.Format, ["description"] = c.Description, ["priority"] = c.Priority,
            }).ToArray());
        }
        table["rows"] = rows;
        return table;
    }

    private static List<Column> ColumnsFor(ResourceType type, string version)
    {
        var name = new Column("Name", "string", "name", "Name must be unique within a namespace.", 0, (o, _) => (string?)o["metadata"]?["name"]);
        var age = new Column("Age", "string", "", "CreationTimestamp is a timestamp representing the server time when this object was created.", 0,
            (o, now) => Age(o["metadata"]?["creationTimestamp"], now));
        var ready = new Column("Ready", "string", "", "Number of the pod with ready state", 0, (o, _) => $"{Int(o, "status", "readyReplicas")}/{Int(o, "spec", "replicas")}");
        var containers = new Column("Containers", "string", "", "Names of each container in the template.", 1, (o, _) => Containers(o, "name"));
        var images = new Column("Images", "string", "", "Images referenced by each container in the template.", 1, (o, _) => Containers(o, "image"));
        if (type.IsCustom)
        {
            var custom = type.PrinterColumns.TryGetValue(version, out var cols) ? cols : [];
            var list = new List<Column> { name };
            foreach (var c in custom)
            {
                list.Add(new Column(c.Name, c.Type == "date" ? "string" : c.Type, c.Format ?? "", c.Description ?? "", c.Priority, (o, now) => CustomCell(o, c, now)));
            }
            if (custom.Count == 0) list.Add(age);
            return list;
        }
        return (type.Group, type.Plural) switch
        {
            ("apps", "deployments") =>
            [
                name,
                ready,
                new("Up-to-date", "string", "", "Total number of non-terminated pods targeted by this deployment that have the desired template spec.", 0, (o, _) => Int(o, "status", "updatedReplicas")),
                new("Available", "string", "", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.", 0, (o, _) => Int(o, "status", "availableReplicas")),
                age,
                containers,
                images,
            ],
            ("apps", "replicasets") =>
            [
                name,
                new("Desired", "integer", "", "Number of desired pods.", 0, (o, _) => Int(o, "spec", "replicas")),
                new("Current", "integer", "", "Number of actual replicas.", 0, (o, _) => Int(o, "status", "replicas")),
                new("Ready", "integer", "", "Number of ready replicas.", 0, (o, _) => Int(o, "status", "readyReplicas")),
                age,
            ],
            ("apps", "statefulsets") =>
            [
                name,
                ready,
                age,
                containers,
                images,
            ],
            ("apps", "daemonsets") =>
            [
                name,
                new("Desired", "integer", "", "The desired number of nodes that should be running the daemon pod.", 0, (o, _) => Int(o, "status", "desiredNumberScheduled")),
                new("Current", "integer", "", "The number of nodes that are running at least 1 daemon pod.", 0, (o, _) => Int(o, "status", "currentNumberScheduled")),
                new("Ready", "integer", "", "The number of nodes that should be running the daemon pod and have one or more running and ready.", 0, (o, _) => Int(o, "status", "numberReady")),
                new("Up-to-date", "integer", "", "The total number of nodes that are running updated daemon pod.", 0, (o, _) => Int(o, "status", "updatedNumberScheduled")),
                new("Available", "integer", "", "The number of nodes that should be running the daemon pod and have one or more running and available.", 0, (o, _) => Int(o, "status", "numberAvailable")),
                new("Node Selector", "string", "", "NodeSelector is a selector which must be true for the pod to fit on a node.", 0,
                    (o, _) => string.Join(",", (o["spec"]?["template"]?["spec"]?["nodeSelector"] as JsonObject ?? []).Select(kv => $"{kv.Key}={kv.Value}")) is { Length: > 0 } s ? s : "<none>"),
                age,
            ],
            ("apps", "controllerrevisions") =>
            [
                name,
                new("Controller", "string", "", "Controller of the object", 0,
                    (o, _) => o["metadata"]?["ownerReferences"]?.AsArray().FirstOrDefault(r => (bool?)r?["controller"] == true) is { } c ? $"{((string?)c["apiVersion"])?.Split('/')[0]}/{((string?)c["kind"])?.ToLowerInvariant()}/{c["name"]}" : "<none>"),
                new("Revision", "integer", "", "Revision of the ControllerRevision", 0, (o, _) => J.Long(o["revision"]) ?? 0),
                age,
            ],
            ("", "namespaces") => [name, new("Status", "string", "", "The status of the namespace", 0, (o, _) => (string?)o["status"]?["phase"]), age],
            ("", "configmaps") => [name, new("Data", "integer", "", "Number of data entries.", 0, (o, _) => (o["data"] as JsonObject)?.Count ?? 0), age],
            ("", "secrets") => [name, new("Type", "string", "", "The type of the secret", 0, (o, _) => (string?)o["type"]), new("Data", "integer", "", "Number of data entries.", 0, (o, _) => (o["data"] as JsonObject)?.Count ?? 0), age],
            ("coordination.k8s.io", "leases") => [name, new("Holder", "string", "", "The holder of the lease.", 0, (o, _) => (string?)o["spec"]?["holderIdentity"] ?? ""), age],
            ("apiextensions.k8s.io", "customresourcedefinitions") => [name, new("Created At", "date", "", "", 0, (o, _) => (string?)o["metadata"]?["creationTimestamp"])],
            (_, "events") =>
            [
                new("Last Seen", "string", "", "Time of the last occurrence", 0, (o, now) => Age(o["lastTimestamp"] ?? o["eventTime"] ?? o["metadata"]?["creationTimestamp"], now)),
                new("Type", "string", "", "Type of this event", 0, (o, _) => (string?)o["type"]),
                new("Reason", "string", "", "Why the action was taken", 0, (o, _) => (string?)o["reason"]),
                new("Object", "string", "", "The object this event is about", 0, (o, _) => Regarding(o)),
                new("Message", "string", "", "A human-readable description", 0, (o, _) => (string?)o["message"] ?? (string?)o["note"]),
            ],
            _ => [name, age],
        };
    }

    private static string Regarding(JsonObject o)
    {
        var r = o["involvedObject"] ?? o["regarding"];
        return $"{((string?)r?["kind"])?.ToLowerInvariant()}/{(string?)r?["name"]}";
    }

    private static JsonNode? CustomCell(JsonObject o, PrinterColumn c, DateTimeOffset now)
    {
        var matches = JsonPathLite.Evaluate(o, c.JsonPath);
        if (matches.Count == 0) return null;
        var v = matches[0];
        if (c.Type == "date") return Age(v, now);
        if (v is JsonValue jv)
        {
            return c.Type switch
            {
                "integer" when J.Long(jv) is { } l => l,
                "number" when J.Double(jv) is { } d => d,
                "boolean" when jv.TryGetValue<bool>(out var b) => b,
                _ => jv.GetValueKind() == JsonValueKind.String ? (string?)jv : jv.ToJsonString(),
            };
        }
        return v.ToJsonString();
    }

    private static JsonNode? Int(JsonObject o, string section, string field) => o[section]?[field]?.DeepClone() ?? 0;

    private static string Containers(JsonObject o, string field) =>
        string.Join(",", (o["spec"]?["template"]?["spec"]?["containers"] as JsonArray ?? []).Select(c => (string?)c?[field]));

    /// <summary>kubectl's short age format: 45s, 3m20s, 5h, 2d3h, 120d.</summary>
    public static string Age(JsonNode? timestamp, DateTimeOffset now)
    {
        if (timestamp is not JsonValue v || !DateTimeOffset.TryParse((string?)v, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)) return "<unknown>";
        var d = now - t;
        if (d < TimeSpan.Zero) d = TimeSpan.Zero;
        if (d.TotalSeconds < 120) return $"{(int)d.TotalSeconds}s";
        if (d.TotalMinutes < 10) return $"{(int)d.TotalMinutes}m{d.Seconds}s";
        if (d.TotalHours < 3) return $"{(int)d.TotalMinutes}m";
        if (d.TotalHours < 8) return $"{(int)d.TotalHours}h{d.Minutes}m";
        if (d.TotalHours < 48) return $"{(int)d.TotalHours}h";
        if (d.TotalDays < 8) return $"{(int)d.TotalDays}d{d.Hours}h";
        if (d.TotalDays < 365 * 2) return $"{(int)d.TotalDays}d";
        return $"{(int)(d.TotalDays / 365)}y{(int)(d.TotalDays % 365)}d";
    }
}
