using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using DoraOperator.Kube.Meta;

namespace DoraOperator.Entities.BuiltIn;

/// <summary>
/// apps/v1 Deployment with only the fields the operator reads. Everything else is kept in the
/// <c>ExtensionData</c> bags, so nothing is lost on a write; an informer transform drops what the
/// operator never reads (see <see cref="Workloads.Lean(Deployment)"/>) when the object is only read.
/// </summary>
public sealed class Deployment : KubeObject, IKubeResource<Deployment>
{
    public static ResourceInfo Resource { get; } = new("apps", "v1", "deployments", "Deployment", true);
    public static JsonTypeInfo<Deployment> JsonType => EntitiesJsonContext.Default.Deployment;

    public DeploymentSpec? Spec { get; set; }
    public DeploymentStatus? Status { get; set; }
}

public sealed class DeploymentSpec
{
    public int? Replicas { get; set; }
    public LabelSelector? Selector { get; set; }
    public PodTemplateSpec? Template { get; set; }
    public bool? Paused { get; set; }
    public int? ProgressDeadlineSeconds { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed class PodTemplateSpec
{
    /// <summary>Set by <see cref="Workloads.Lean(ReplicaSet)"/>: the template's <see cref="Workloads.Fingerprint(PodTemplateSpec)"/>, computed before the template was stripped. Never serialized.</summary>
    [JsonIgnore]
    public TemplateFingerprint? Fingerprint { get; set; }

    /// <summary>
    /// Set by the lean transforms instead of <see cref="Metadata"/>: the template's
    /// <c>dora-operator.io/*</c> and <c>kubectl.kubernetes.io/restartedAt</c> annotations, as
    /// key/value pairs. Read them through <see cref="Workloads.TemplateAnnotation"/>. Never serialized.
    /// </summary>
    [JsonIgnore]
    public KeyValuePair<string, string>[]? LeanAnnotations { get; set; }

    /// <summary>Set by the lean transforms instead of <see cref="Spec"/>: the first container's image. Read it through <see cref="Workloads.Image"/>. Never serialized.</summary>
    [JsonIgnore]
    public string? LeanImage { get; set; }

    public ObjectMeta? Metadata { get; set; }
    public PodSpec? Spec { get; set; }
}

public sealed class PodSpec
{
    public List<Container>? Containers { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed class Container
{
    public string? Name { get; set; }
    public string? Image { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed class DeploymentStatus
{
    public long? ObservedGeneration { get; set; }
    public int? Replicas { get; set; }
    public int? UpdatedReplicas { get; set; }
    public int? ReadyReplicas { get; set; }
    public int? AvailableReplicas { get; set; }
    public int? UnavailableReplicas { get; set; }
    public List<DeploymentCondition>? Conditions { get; set; }
}

/// <summary>apps/v1 DeploymentCondition (has lastUpdateTime, unlike metav1.Condition).</summary>
/// <remarks>The two times are packed (<see cref="PackedTime"/>): every cached Deployment keeps its Progressing condition.</remarks>
public sealed class DeploymentCondition
{
    private PackedTime _lastUpdate;
    private PackedTime _lastTransition;

    public string Type { get; set; } = "";
    public string Status { get; set; } = "";
    public DateTimeOffset? LastUpdateTime { get => _lastUpdate.Value; set => _lastUpdate = new(value); }
    public DateTimeOffset? LastTransitionTime { get => _lastTransition.Value; set => _lastTransition = new(value); }
    public string? Reason { get; set; }
    public string? Message { get; set; }
}

/// <summary>apps/v1 ReplicaSet, lean like <see cref="Deployment"/>; the operator caches it as a <see cref="LeanReplicaSet"/>.</summary>
public sealed class ReplicaSet : KubeObject, IKubeResource<ReplicaSet>
{
    public static ResourceInfo Resource { get; } = new("apps", "v1", "replicasets", "ReplicaSet", true);
    public static JsonTypeInfo<ReplicaSet> JsonType => EntitiesJsonContext.Default.ReplicaSet;

    /// <summary>Reads for caches take the pod template straight into its lean form (<see cref="Workloads.LeanTemplateConverter"/>).</summary>
    public static void ModifySkippingContract(JsonTypeInfo info) => Workloads.ReadTemplatesLean(info);

    public ReplicaSetSpec? Spec { get; set; }
    public ReplicaSetStatus? Status { get; set; }
}

public sealed class ReplicaSetSpec
{
    public int? Replicas { get; set; }
    public LabelSelector? Selector { get; set; }
    public PodTemplateSpec? Template { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed class ReplicaSetStatus
{
    public int? Replicas { get; set; }
    public int? ReadyReplicas { get; set; }
    public int? AvailableReplicas { get; set; }
    public long? ObservedGeneration { get; set; }
}

/// <summary>
/// Informer transforms for read-only caches of Deployments and ReplicaSets. They keep exactly what
/// the rollout tracker reads (DESIGN.md, "Rollout semantics" and "Workload annotations") and drop the
/// rest, so 10,000 cached Deployments stay small:
/// <list type="bullet">
/// <item>metadata: name, namespace, uid, resourceVersion, generation, creation and deletion times,
/// labels (DoraProject selectors match them), ownerReferences, and only the <c>dora-operator.io/</c>
/// annotations and <c>deployment.kubernetes.io/revision</c> and <c>revision-history</c>;</item>
/// <item>spec: replicas, paused, progressDeadlineSeconds; the pod template reduced to its
/// <c>dora-operator.io/</c> and <c>kubectl.kubernetes.io/restartedAt</c> annotations (lifted into
/// <see cref="PodTemplateSpec.LeanAnnotations"/>; read them with <see cref="TemplateAnnotation"/>) and the first
/// container's image; for ReplicaSets also <see cref="PodTemplateSpec.Fingerprint"/>, computed
/// before stripping (restart detection compares consecutive ReplicaSets);</item>
/// <item>status: counts, observedGeneration and the Progressing condition without its message.</item>
/// </list>
/// Never write a leaned object back to the API server: it lost fields. Patch instead.
/// </summary>
public static class Workloads
{
    /// <summary>kubectl's copy of the whole applied manifest: large, and never read by the operator.</summary>
    public const string LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";
    public const string RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt";
    public const string PodTemplateHashLabel = "pod-template-hash";
    public const string RevisionAnnotation = "deployment.kubernetes.io/revision";
    public const string RevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history";

    public static Deployment Lean(Deployment d)
    {
        d.ExtensionData = null;
        d.ApiVersion = StringPool.Intern(d.ApiVersion);
        d.Kind = StringPool.Intern(d.Kind);
        LeanMeta(d.Metadata);
        if (d.Spec is { } spec)
        {
            spec.ExtensionData = null;
            spec.Selector = null;
            spec.Template = LeanTemplate(spec.Template, fingerprint: false);
        }
        LeanConditions(d.Status?.Conditions);
        return d;
    }

    /// <summary>
    /// For ReplicaSets the tracker reads even less: which Deployment owns it, its revision (and
    /// revision history), its creation time and its pod template (fingerprint, DORA annotations,
    /// image). The cache holds them as one <see cref="LeanReplicaSet"/>: labels, uid, spec and status
    /// are dropped.
    /// </summary>
    public static LeanReplicaSet Lean(ReplicaSet rs)
    {
        var meta = rs.Metadata;
        meta.Labels = null;
        LeanMeta(meta);
        // Annotations that hold only revision numbers and replica counts repeat whole across the
        // ReplicaSets of every Deployment: one shared map. Ones with a value of their own (a commit
        // SHA copied from the Deployment) stay unshared, as a pool entry would cost more than it saves.
        var annotations = meta.Annotations is { } all && all.Keys.All(k => k is RevisionHistoryAnnotation || SharedValue(k)) ? SharedContent.Map(all) : meta.Annotations;
        var template = LeanTemplate(rs.Spec?.Template, fingerprint: true);
        return new LeanReplicaSet
        {
            Name = meta.Name ?? "",
            Namespace = meta.Namespace,
            ResourceVersion = meta.ResourceVersion,
            CreationTimestamp = meta.CreationTimestamp,
            DeletionTimestamp = meta.DeletionTimestamp,
            Annotations = annotations,
            // The owner reference repeats across the Deployment's whole history (revisionHistoryLimit
            // keeps 10 old ReplicaSets), so they all share one list.
            OwnerReferences = SharedContent.OwnerReferences(meta.OwnerReferences),
            HasTemplate = template is not null,
            Fingerprint = template?.Fingerprint,
            TemplateAnnotations = template?.LeanAnnotations,
            Image = template?.LeanImage,
        };
    }

    /// <summary>
    /// True when two cached ReplicaSets are the same revision as the rollout planner reads it: name,
    /// creation, annotations (revision, history, DORA), owners and pod template (fingerprint, DORA
    /// annotations, image). What a rollout changes on a ReplicaSet, its scale and status, is not kept.
    /// </summary>
    public static bool SameRevision(LeanReplicaSet a, LeanReplicaSet b)
    {
        if (ReferenceEquals(a, b)) return true;
        if (a.Name != b.Name || a.Namespace != b.Namespace || a.CreationTimestamp != b.CreationTimestamp || a.DeletionTimestamp != b.DeletionTimestamp) return false;
        if (!SharedContent.SameMap(a.Annotations, b.Annotations) || !SharedContent.SameOwners(a.OwnerReferences, b.OwnerReferences)) return false;
        return a.HasTemplate == b.HasTemplate && a.Fingerprint == b.Fingerprint && a.Image == b.Image
            && (a.TemplateAnnotations ?? []).SequenceEqual(b.TemplateAnnotations ?? []);
    }

    /// <summary>A pod template annotation, from a full template or a leaned one.</summary>
    public static string? TemplateAnnotation(PodTemplateSpec? template, string key)
    {
        if (template is null) return null;
        if (template.Metadata?.Annotations is { } full && full.TryGetValue(key, out var value)) return value;
        return LeanAnnotation(template.LeanAnnotations, key);
    }

    /// <summary>An annotation from a lean template's (or a <see cref="LeanReplicaSet"/>'s) key/value pairs.</summary>
    public static string? LeanAnnotation(KeyValuePair<string, string>[]? annotations, string key)
    {
        foreach (var (k, v) in annotations ?? []) if (k == key) return v;
        return null;
    }

    /// <summary>The first container's image, from a full template or a leaned one.</summary>
    public static string? Image(PodTemplateSpec? template) =>
        template?.Spec?.Containers is { Count: > 0 } containers ? containers[0].Image : template?.LeanImage;

    /// <summary>
    /// A digest of a pod template that ignores the <c>kubectl.kubernetes.io/restartedAt</c> annotation
    /// and the <c>pod-template-hash</c> label: two revisions with equal fingerprints differ only by a
    /// restart. The template is written as canonical JSON (object keys sorted; nulls, empty objects
    /// and the two ignored entries left out), so field order does not matter, and hashed, straight
    /// from a parsed document into one buffer instead of building and sorting a node tree. The
    /// ReplicaSets the cache reads are digested from the served JSON (<see cref="LeanTemplateConverter"/>);
    /// this overload writes a decoded template back to JSON first.
    /// </summary>
    public static TemplateFingerprint Fingerprint(PodTemplateSpec template)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(template, EntitiesJsonContext.Default.PodTemplateSpec);
        using var document = JsonDocument.Parse(json);
        return Fingerprint(document.RootElement, json.Length);
    }

    /// <summary>The fingerprint of a template as JSON (the canonical form of the element).</summary>
    internal static TemplateFingerprint Fingerprint(JsonElement template, int sizeHint)
    {
        var canonical = new System.Buffers.ArrayBufferWriter<byte>(Math.Max(256, sizeHint));
        using (var writer = new Utf8JsonWriter(canonical)) WriteCanonical(writer, template, TemplatePlace.Root);
        Span<byte> hash = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(canonical.WrittenSpan, hash);
        return TemplateFingerprint.Of(hash);
    }

    /// <summary>Sets <see cref="LeanTemplateConverter"/> on the template of a ReplicaSet's spec.</summary>
    internal static void ReadTemplatesLean(JsonTypeInfo info)
    {
        if (info.Type != typeof(ReplicaSetSpec)) return;
        foreach (var property in info.Properties)
        {
            if (property.PropertyType == typeof(PodTemplateSpec)) property.CustomConverter = LeanTemplateConverter.Instance;
        }
    }

    /// <summary>
    /// Reads a pod template into the lean form a cached ReplicaSet keeps (<see cref="LeanTemplate(PodTemplateSpec?, bool)"/>:
    /// fingerprint, DORA annotations, first image) straight from the JSON: the template is parsed
    /// once, not decoded into objects, written back and parsed again to be fingerprinted. Reading
    /// only: a lean template is never written.
    /// </summary>
    internal sealed class LeanTemplateConverter : JsonConverter<PodTemplateSpec>
    {
        public static readonly LeanTemplateConverter Instance = new();

        public override PodTemplateSpec? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.Null) return null;
            var start = reader.TokenStartIndex;
            using var document = JsonDocument.ParseValue(ref reader);
            var template = document.RootElement;
            if (template.ValueKind != JsonValueKind.Object) throw new JsonException($"a pod template is an object, not {template.ValueKind}");
            KeyValuePair<string, string>[]? annotations = null;
            if (template.TryGetProperty("metadata"u8, out var meta) && meta.ValueKind == JsonValueKind.Object
                && meta.TryGetProperty("annotations"u8, out var all) && all.ValueKind == JsonValueKind.Object)
            {
                annotations = [.. all.EnumerateObject()
                    .Where(a => a.Value.ValueKind == JsonValueKind.String && KeptTemplateAnnotation(a.Name))
                    .Select(a => KeptAnnotation(a.Name, a.Value.GetString()!))];
            }
            string? image = null;
            if (template.TryGetProperty("spec"u8, out var spec) && spec.ValueKind == JsonValueKind.Object
                && spec.TryGetProperty("containers"u8, out var containers) && containers.ValueKind == JsonValueKind.Array
                && containers.EnumerateArray().FirstOrDefault() is { ValueKind: JsonValueKind.Object } first
                && first.TryGetProperty("image"u8, out var firstImage) && firstImage.ValueKind == JsonValueKind.String)
            {
                image = firstImage.GetString();
            }
            return new PodTemplateSpec
            {
                Fingerprint = Fingerprint(template, (int)Math.Min(int.MaxValue, reader.BytesConsumed - start)),
                LeanAnnotations = annotations is { Length: > 0 } ? annotations : null,
                LeanImage = image,
            };
        }

        public override void Write(Utf8JsonWriter writer, PodTemplateSpec value, JsonSerializerOptions options) =>
            throw new NotSupportedException("a lean pod template is read for a cache and never written");
    }

    private static bool KeptTemplateAnnotation(string key) => key.StartsWith("dora-operator.io/", StringComparison.Ordinal) || key == RestartedAtAnnotation;

    /// <summary>A kept template annotation as the cache holds it: the key pooled, the value pooled when it repeats across workloads.</summary>
    private static KeyValuePair<string, string> KeptAnnotation(string key, string value) =>
        KeyValuePair.Create(StringPool.Intern(key)!, SharedValue(key) ? StringPool.Intern(value)! : value);

    /// <summary>Where in the template a JSON object sits, for the two entries the fingerprint ignores.</summary>
    private enum TemplatePlace { Root, Metadata, Annotations, Labels, Other }

    // Names are read as the raw UTF-8 the document holds, without making a string each.
    private static TemplatePlace Child(TemplatePlace place, JsonProperty p) => place switch
    {
        TemplatePlace.Root when p.NameEquals("metadata"u8) => TemplatePlace.Metadata,
        TemplatePlace.Metadata when p.NameEquals("annotations"u8) => TemplatePlace.Annotations,
        TemplatePlace.Metadata when p.NameEquals("labels"u8) => TemplatePlace.Labels,
        _ => TemplatePlace.Other,
    };

    private static bool Ignored(TemplatePlace place, JsonProperty p) =>
        (place == TemplatePlace.Annotations && p.NameEquals(RestartedAtUtf8)) || (place == TemplatePlace.Labels && p.NameEquals(PodTemplateHashUtf8));

    // RestartedAtAnnotation and PodTemplateHashLabel as UTF-8, for comparing with raw names.
    private static ReadOnlySpan<byte> RestartedAtUtf8 => "kubectl.kubernetes.io/restartedAt"u8;
    private static ReadOnlySpan<byte> PodTemplateHashUtf8 => "pod-template-hash"u8;

    /// <summary>True when an object property adds nothing: null, or an object with nothing in it once ignored entries are left out.</summary>
    private static bool Empty(JsonElement value, TemplatePlace place)
    {
        if (value.ValueKind == JsonValueKind.Null) return true;
        if (value.ValueKind != JsonValueKind.Object) return false;
        foreach (var p in value.EnumerateObject())
        {
            if (!Ignored(place, p) && !Empty(p.Value, Child(place, p))) return false;
        }
        return true;
    }

    /// <summary>
    /// Orders property names as <see cref="string.CompareOrdinal(string, string)"/> does. For names in
    /// plain ASCII without escapes (all a pod template has in practice) the raw UTF-8 bytes compare the
    /// same way, with no string made; any other name is compared as a string.
    /// </summary>
    private sealed class NameOrder : IComparer<JsonProperty>
    {
        public static readonly NameOrder Instance = new();

        public int Compare(JsonProperty a, JsonProperty b)
        {
            var x = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8PropertyName(a);
            var y = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8PropertyName(b);
            return PlainAscii(x) && PlainAscii(y) ? x.SequenceCompareTo(y) : string.CompareOrdinal(a.Name, b.Name);
        }
    }

    private static bool PlainAscii(ReadOnlySpan<byte> name) => System.Text.Ascii.IsValid(name) && !name.Contains((byte)'\\');

    private static void WriteCanonical(Utf8JsonWriter writer, JsonElement value, TemplatePlace place)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                var kept = System.Buffers.ArrayPool<JsonProperty>.Shared.Rent(value.GetPropertyCount());
                try
                {
                    var count = 0;
                    var sorted = true;
                    foreach (var p in value.EnumerateObject())
                    {
                        if (Ignored(place, p) || Empty(p.Value, Child(place, p))) continue;
                        if (sorted && count > 0 && NameOrder.Instance.Compare(kept[count - 1], p) > 0) sorted = false;
                        kept[count++] = p;
                    }
                    if (!sorted) Array.Sort(kept, 0, count, NameOrder.Instance);
                    writer.WriteStartObject();
                    for (var i = 0; i < count; i++)
                    {
                        var p = kept[i];
                        var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8PropertyName(p);
                        if (PlainAscii(raw)) writer.WritePropertyName(raw);
                        else writer.WritePropertyName(p.Name);
                        WriteCanonical(writer, p.Value, Child(place, p));
                    }
                    writer.WriteEndObject();
                }
                finally
                {
                    System.Buffers.ArrayPool<JsonProperty>.Shared.Return(kept, clearArray: true);
                }
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in value.EnumerateArray()) WriteCanonical(writer, item, TemplatePlace.Other);
                writer.WriteEndArray();
                break;
            default:
                value.WriteTo(writer);
                break;
        }
    }

    internal static void LeanMeta(ObjectMeta meta)
    {
        meta.ExtensionData = null;
        meta.Finalizers = null;
        meta.Namespace = StringPool.Intern(meta.Namespace);
        meta.Labels = LeanMap(meta.Labels, null);
        meta.Annotations = LeanMap(meta.Annotations, k => k.StartsWith("dora-operator.io/", StringComparison.Ordinal) || k is RevisionAnnotation or RevisionHistoryAnnotation or ArgoRollout.RevisionAnnotation);
    }

    /// <summary>
    /// A label or annotation map with pooled keys (and values where they repeat). One whose every value
    /// repeats across workloads (a team label, a revision number) is shared whole: most workloads'
    /// leaned annotations are just their revision. Empty maps become null.
    /// </summary>
    private static Dictionary<string, string>? LeanMap(Dictionary<string, string>? map, Func<string, bool>? keep)
    {
        var lean = StringPool.InternMap(map, keep, SharedValue);
        if (lean is not { Count: > 0 }) return null;
        foreach (var key in lean.Keys)
        {
            if (!SharedValue(key)) return lean;
        }
        return SharedContent.Map(lean);
    }

    /// <summary>Values that repeat across workloads (team, tier, project, change type, small counters) are worth pooling; names and SHAs are not.</summary>
    private static bool SharedValue(string key) => key is RevisionAnnotation or "dora-operator.io/project" or "dora-operator.io/change-type" or "deployment.kubernetes.io/desired-replicas"
        or "deployment.kubernetes.io/max-replicas" or "team" or "tier" or "environment" or "app.kubernetes.io/part-of" or "app.kubernetes.io/managed-by" or "app.kubernetes.io/component";

    internal static PodTemplateSpec? LeanTemplate(PodTemplateSpec? template, bool fingerprint)
    {
        if (template is null) return null;
        // Already lean: read straight from the JSON (LeanTemplateConverter).
        if (template is { Metadata: null, Spec: null } && (template.Fingerprint is not null || !fingerprint)) return template;
        var annotations = template.Metadata?.Annotations?
            .Where(kv => KeptTemplateAnnotation(kv.Key))
            .Select(kv => KeptAnnotation(kv.Key, kv.Value))
            .ToArray();
        return new PodTemplateSpec
        {
            Fingerprint = fingerprint ? Fingerprint(template) : null,
            LeanAnnotations = annotations is { Length: > 0 } ? annotations : null,
            LeanImage = Image(template),
        };
    }

    /// <summary>Only the Progressing condition is read (its reason and time say when a rollout completed or missed its deadline); Available and ReplicaFailure are dropped.</summary>
    private static void LeanConditions(List<DeploymentCondition>? conditions)
    {
        if (conditions is null) return;
        conditions.RemoveAll(c => c.Type != "Progressing");
        foreach (var c in conditions)
        {
            c.Message = null;
            c.Type = StringPool.Intern(c.Type)!;
            c.Status = StringPool.Intern(c.Status)!;
            c.Reason = StringPool.Intern(c.Reason);
        }
        conditions.TrimExcess();
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, Converters = [typeof(KubeTimeConverter)])]
[JsonSerializable(typeof(Deployment))]
[JsonSerializable(typeof(ReplicaSet))]
[JsonSerializable(typeof(PodTemplateSpec))]
[JsonSerializable(typeof(StatefulSet))]
[JsonSerializable(typeof(DaemonSet))]
[JsonSerializable(typeof(ControllerRevision))]
[JsonSerializable(typeof(ArgoRollout))]
public sealed partial class EntitiesJsonContext : JsonSerializerContext;
