using System.Text.Json.Nodes;

namespace DoraOperator.Sandbox.Resources;

/// <summary>
/// The two shapes of one Event: core/v1 (involvedObject, message, source, count, first/lastTimestamp)
/// and events.k8s.io/v1 (regarding, note, reportingController, series, deprecated*), converted the
/// way kube-apiserver converts between them, so each API lists every event in its own shape.
/// </summary>
internal static class EventShapes
{
    public static bool IsEvent(ResourceType type) => type.Plural == "events" && type.Group is "" or "events.k8s.io";

    public static JsonObject ToEventsV1(JsonObject core)
    {
        var e = new JsonObject
        {
            ["apiVersion"] = "events.k8s.io/v1",
            ["kind"] = "Event",
            ["metadata"] = core["metadata"]?.DeepClone(),
            ["eventTime"] = core["eventTime"]?.DeepClone() ?? MicroTime(core["firstTimestamp"] ?? core["metadata"]?["creationTimestamp"]),
        };
        Copy(core, "series", e, "series");
        Copy(core, "reportingComponent", e, "reportingController");
        if (e["reportingController"] is null) Copy(core["source"] as JsonObject, "component", e, "reportingController");
        Copy(core, "reportingInstance", e, "reportingInstance");
        if (e["reportingInstance"] is null) Copy(core["source"] as JsonObject, "host", e, "reportingInstance");
        Copy(core, "action", e, "action");
        Copy(core, "reason", e, "reason");
        Copy(core, "involvedObject", e, "regarding");
        Copy(core, "related", e, "related");
        Copy(core, "message", e, "note");
        Copy(core, "type", e, "type");
        Copy(core, "source", e, "deprecatedSource");
        Copy(core, "firstTimestamp", e, "deprecatedFirstTimestamp");
        Copy(core, "lastTimestamp", e, "deprecatedLastTimestamp");
        Copy(core, "count", e, "deprecatedCount");
        return e;
    }

    public static JsonObject ToCore(JsonObject v1)
    {
        var e = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Event",
            ["metadata"] = v1["metadata"]?.DeepClone(),
        };
        Copy(v1, "regarding", e, "involvedObject");
        Copy(v1, "reason", e, "reason");
        Copy(v1, "note", e, "message");
        e["source"] = v1["deprecatedSource"]?.DeepClone()
            ?? (v1["reportingController"] is { } controller ? new JsonObject { ["component"] = controller.DeepClone() } : new JsonObject());
        Copy(v1, "deprecatedFirstTimestamp", e, "firstTimestamp");
        Copy(v1, "deprecatedLastTimestamp", e, "lastTimestamp");
        Copy(v1, "deprecatedCount", e, "count");
        Copy(v1, "type", e, "type");
        Copy(v1, "eventTime", e, "eventTime");
        Copy(v1, "series", e, "series");
        Copy(v1, "action", e, "action");
        Copy(v1, "related", e, "related");
        Copy(v1, "reportingController", e, "reportingComponent");
        Copy(v1, "reportingInstance", e, "reportingInstance");
        return e;
    }

    private static void Copy(JsonObject? from, string field, JsonObject to, string as_)
    {
        if (from?[field] is { } value) to[as_] = value.DeepClone();
    }

    /// <summary>metav1.MicroTime from a metav1.Time (six fraction digits).</summary>
    private static JsonNode? MicroTime(JsonNode? time) =>
        (string?)time is { Length: 20 } t && t.EndsWith('Z') ? JsonValue.Create(t[..19] + ".000000Z") : time?.DeepClone();
}
