using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace DoraOperator.Kube.Meta;

/// <summary>coordination.k8s.io/v1 Lease, used for leader election.</summary>
public sealed class Lease : KubeObject, IKubeResource<Lease>
{
    public static ResourceInfo Resource { get; } = new("coordination.k8s.io", "v1", "leases", "Lease", true);
    public static JsonTypeInfo<Lease> JsonType => KubeJsonContext.Default.Lease;

    public LeaseSpec Spec { get; set; } = new();
}

public sealed class LeaseSpec
{
    public string? HolderIdentity { get; set; }
    public int? LeaseDurationSeconds { get; set; }
    /// <summary>MicroTime on the wire (RFC 3339 with microseconds).</summary>
    public DateTimeOffset? AcquireTime { get; set; }
    public DateTimeOffset? RenewTime { get; set; }
    public int? LeaseTransitions { get; set; }
}

/// <summary>v1 ConfigMap.</summary>
public sealed class ConfigMap : KubeObject, IKubeResource<ConfigMap>
{
    public static ResourceInfo Resource { get; } = new("", "v1", "configmaps", "ConfigMap", true);
    public static JsonTypeInfo<ConfigMap> JsonType => KubeJsonContext.Default.ConfigMap;

    public Dictionary<string, string>? Data { get; set; }
}

/// <summary>v1 Namespace.</summary>
public sealed class Namespace : KubeObject, IKubeResource<Namespace>
{
    public static ResourceInfo Resource { get; } = new("", "v1", "namespaces", "Namespace", false);
    public static JsonTypeInfo<Namespace> JsonType => KubeJsonContext.Default.Namespace;
}

/// <summary>A reference to the object an Event is about.</summary>
public sealed class ObjectReference
{
    public string? ApiVersion { get; set; }
    public string? Kind { get; set; }
    public string? Name { get; set; }
    public string? Namespace { get; set; }
    public string? Uid { get; set; }
    public string? ResourceVersion { get; set; }
    public string? FieldPath { get; set; }
}

/// <summary>events.k8s.io/v1 Event.</summary>
public sealed class Event : KubeObject, IKubeResource<Event>
{
    public static ResourceInfo Resource { get; } = new("events.k8s.io", "v1", "events", "Event", true);
    public static JsonTypeInfo<Event> JsonType => KubeJsonContext.Default.Event;

    /// <summary>MicroTime: when the event was first observed.</summary>
    public DateTimeOffset? EventTime { get; set; }
    public EventSeries? Series { get; set; }
    public string? ReportingController { get; set; }
    public string? ReportingInstance { get; set; }
    public string? Action { get; set; }
    public string? Reason { get; set; }
    public ObjectReference? Regarding { get; set; }
    public string? Note { get; set; }
    public string? Type { get; set; }
}

public sealed class EventSeries
{
    public int Count { get; set; }
    public DateTimeOffset LastObservedTime { get; set; }
}

/// <summary>core/v1 Event (the fallback when events.k8s.io is not served).</summary>
public sealed class CoreEvent : KubeObject, IKubeResource<CoreEvent>
{
    public static ResourceInfo Resource { get; } = new("", "v1", "events", "Event", true);
    public static JsonTypeInfo<CoreEvent> JsonType => KubeJsonContext.Default.CoreEvent;

    public ObjectReference? InvolvedObject { get; set; }
    public string? Reason { get; set; }
    public string? Message { get; set; }
    public string? Type { get; set; }
    public int? Count { get; set; }
    public DateTimeOffset? FirstTimestamp { get; set; }
    public DateTimeOffset? LastTimestamp { get; set; }
    public EventSource? Source { get; set; }
    public string? ReportingComponent { get; set; }
    public string? ReportingInstance { get; set; }
}

public sealed class EventSource
{
    public string? Component { get; set; }
    public string? Host { get; set; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(KubeTimeConverter)])]
[JsonSerializable(typeof(Lease))]
[JsonSerializable(typeof(TokenReview))]
[JsonSerializable(typeof(SubjectAccessReview))]
[JsonSerializable(typeof(ConfigMap))]
[JsonSerializable(typeof(Namespace))]
[JsonSerializable(typeof(Event))]
[JsonSerializable(typeof(CoreEvent))]
[JsonSerializable(typeof(Status))]
[JsonSerializable(typeof(ListMeta))]
[JsonSerializable(typeof(ObjectMeta))]
[JsonSerializable(typeof(Condition))]
[JsonSerializable(typeof(LabelSelector))]
public sealed partial class KubeJsonContext : JsonSerializerContext;
