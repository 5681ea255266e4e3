using System.Text;
using System.Text.Json.Nodes;

namespace DoraOperator.Sandbox.Http;

/// <summary>
/// Decodes Kubernetes protobuf request bodies (<c>application/vnd.kubernetes.protobuf</c>: the
/// <c>k8s\0</c> magic, then a runtime.Unknown envelope) into JSON, for the built-in kinds that
/// kubectl's typed commands create (Deployment, ReplicaSet, Namespace, ConfigMap, Secret,
/// ServiceAccount, Lease, and the RBAC kinds). Field numbers follow the published k8s.io/api generated.proto files.
/// Fields outside this table are skipped, like unknown fields. Responses are always JSON, which
/// every client that sends protobuf also accepts.
/// </summary>
internal static class ProtobufDecoder
{
    private enum K { String, Int, Bool, Bytes, Message, StringMap, BytesMap, QuantityMap, Time, IntOrString, Quantity }

    private sealed record F(string Name, K Kind, bool Repeated = false, string? Type = null);

    private static readonly Dictionary<string, Dictionary<int, F>> Messages = new()
    {
        ["ObjectMeta"] = new()
        {
            [1] = new("name", K.String), [2] = new("generateName", K.String), [3] = new("namespace", K.String),
            [5] = new("uid", K.String), [6] = new("resourceVersion", K.String), [7] = new("generation", K.Int),
            [8] = new("creationTimestamp", K.Time), [11] = new("labels", K.StringMap), [12] = new("annotations", K.StringMap),
            [13] = new("ownerReferences", K.Message, true, "OwnerReference"), [14] = new("finalizers", K.String, true),
        },
        ["OwnerReference"] = new()
        {
            [1] = new("kind", K.String), [3] = new("name", K.String), [4] = new("uid", K.String), [5] = new("apiVersion", K.String),
            [6] = new("controller", K.Bool), [7] = new("blockOwnerDeletion", K.Bool),
        },
        ["LabelSelector"] = new() { [1] = new("matchLabels", K.StringMap), [2] = new("matchExpressions", K.Message, true, "LabelSelectorRequirement") },
        ["LabelSelectorRequirement"] = new() { [1] = new("key", K.String), [2] = new("operator", K.String), [3] = new("values", K.String, true) },
        ["Deployment"] = new() { [1] = new("metadata", K.Message, Type: "ObjectMeta"), [2] = new("spec", K.Message, Type: "DeploymentSpec") },
        ["DeploymentSpec"] = new()
        {
            [1] = new("replicas", K.Int), [2] = new("selector", K.Message, Type: "LabelSelector"), [3] = new("template", K.Message, Type: "PodTemplateSpec"),
            [4] = new("strategy", K.Message, Type: "DeploymentStrategy"), [5] = new("minReadySeconds", K.Int), [6] = new("revisionHistoryLimit", K.Int),
            [7] = new("paused", K.Bool), [9] = new("progressDeadlineSeconds", K.Int),
        },
        ["DeploymentStrategy"] = new() { [1] = new("type", K.String), [2] = new("rollingUpdate", K.Message, Type: "RollingUpdateDeployment") },
        ["RollingUpdateDeployment"] = new() { [1] = new("maxUnavailable", K.IntOrString), [2] = new("maxSurge", K.IntOrString) },
        ["ReplicaSet"] = new() { [1] = new("metadata", K.Message, Type: "ObjectMeta"), [2] = new("spec", K.Message, Type: "ReplicaSetSpec") },
        ["ReplicaSetSpec"] = new()
        {
            [1] = new("replicas", K.Int), [2] = new("selector", K.Message, Type: "LabelSelector"), [3] = new("template", K.Message, Type: "PodTemplateSpec"),
            [4] = new("minReadySeconds", K.Int),
        },
        ["PodTemplateSpec"] = new() { [1] = new("metadata", K.Message, Type: "ObjectMeta"), [2] = new("spec", K.Message, Type: "PodSpec") },
        ["PodSpec"] = new()
        {
            [2] = new("containers", K.Message, true, "Container"), [3] = new("restartPolicy", K.String), [4] = new("terminationGracePeriodSeconds", K.Int),
            [6] = new("dnsPolicy", K.String), [7] = new("nodeSelector", K.StringMap), [8] = new("serviceAccountName", K.String),
            [19] = new("schedulerName", K.String), [20] = new("initContainers", K.Message, true, "Container"),
        },
        ["Container"] = new()
        {
            [1] = new("name", K.String), [2] = new("image", K.String), [3] = new("command", K.String, true), [4] = new("args", K.String, true),
            [5] = new("workingDir", K.String), [6] = new("ports", K.Message, true, "ContainerPort"), [7] = new("env", K.Message, true, "EnvVar"),
            [8] = new("resources", K.Message, Type: "ResourceRequirements"), [13] = new("terminationMessagePath", K.String),
            [14] = new("imagePullPolicy", K.String), [20] = new("terminationMessagePolicy", K.String),
        },
        ["ContainerPort"] = new() { [1] = new("name", K.String), [2] = new("hostPort", K.Int), [3] = new("containerPort", K.Int), [4] = new("protocol", K.String) },
        ["EnvVar"] = new() { [1] = new("name", K.String), [2] = new("value", K.String) },
        ["ResourceRequirements"] = new() { [1] = new("limits", K.QuantityMap), [2] = new("requests", K.QuantityMap) },
        ["Namespace"] = new() { [1] = new("metadata", K.Message, Type: "ObjectMeta"), [2] = new("spec", K.Message, Type: "NamespaceSpec") },
        ["NamespaceSpec"] = new() { [1] = new("finalizers", K.String, true) },
        ["ConfigMap"] = new()
        {
            [1] = new("metadata", K.Message, Type: "ObjectMeta"), [2] = new("data", K.StringMap), [3] = new("binaryData", K.BytesMap), [4] = new("immutable", K.Bool),
        },
        ["Secret"] = new()
        {
            [1] = new("metadata", K.Message, Type: "ObjectMeta"), [2] = new("data", K.BytesMap), [3] = new("type", K.String),
            [4] = new("stringData", K.StringMap), [5] = new("immutable", K.Bool),
        },
        ["ServiceAccount"] = new() { [1] = new("metadata", K.Message, Type: "ObjectMeta") },
        ["Role"] = new() { [1] = new("metadata", K.Message, Type: "ObjectMeta"), [2] = new("rules", K.Message, true, "PolicyRule") },
        ["ClusterRole"] = new() { [1] = new("metadata", K.Message, Type: "ObjectMeta"), [2] = new("rules", K.Message, true, "PolicyRule") },
        ["PolicyRule"] = new()
        {
            [1] = new("verbs", K.String, true), [2] = new("apiGroups", K.String, true), [3] = new("resources", K.String, true),
            [4] = new("resourceNames", K.String, true), [5] = new("nonResourceURLs", K.String, true),
        },
        ["RoleBinding"] = new() { [1] = new("metadata", K.Message, Type: "ObjectMeta"), [2] = new("subjects", K.Message, true, "Subject"), [3] = new("roleRef", K.Message, Type: "RoleRef") },
        ["ClusterRoleBinding"] = new() { [1] = new("metadata", K.Message, Type: "ObjectMeta"), [2] = new("subjects", K.Message, true, "Subject"), [3] = new("roleRef", K.Message, Type: "RoleRef") },
        ["Subject"] = new() { [1] = new("kind", K.String), [2] = new("apiGroup", K.String), [3] = new("name", K.String), [4] = new("namespace", K.String) },
        ["RoleRef"] = new() { [1] = new("apiGroup", K.String), [2] = new("kind", K.String), [3] = new("name", K.String) },
        ["Lease"] = new() { [1] = new("metadata", K.Message, Type: "ObjectMeta"), [2] = new("spec", K.Message, Type: "LeaseSpec") },
        ["LeaseSpec"] = new()
        {
            [1] = new("holderIdentity", K.String), [2] = new("leaseDurationSeconds", K.Int), [3] = new("acquireTime", K.Time),
            [4] = new("renewTime", K.Time), [5] = new("leaseTransitions", K.Int),
        },
    };

    /// <summary>Go pointer fields: present when set, even to zero. Other zero values are omitted, as in the JSON encoding.</summary>
    private static readonly HashSet<string> PointerFields =
    [
        "replicas", "revisionHistoryLimit", "progressDeadlineSeconds", "terminationGracePeriodSeconds",
        "leaseDurationSeconds", "leaseTransitions", "controller", "blockOwnerDeletion", "immutable",
    ];

    private static bool IsZero(JsonNode? value) => value switch
    {
        null => true,
        JsonValue v when v.TryGetValue<string>(out var s) => s.Length == 0,
        JsonValue v when v.TryGetValue<long>(out var l) => l == 0,
        JsonValue v when v.TryGetValue<bool>(out var b) => !b,
        _ => false,
    };

    public static bool IsProtobuf(string contentType) => contentType == "application/vnd.kubernetes.protobuf";

    public static JsonObject Decode(byte[] body)
    {
        if (body.Length < 4 || body[0] != (byte)'k' || body[1] != (byte)'8' || body[2] != (byte)'s' || body[3] != 0)
            throw ApiException.BadRequest("provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]");
        string? apiVersion = null, kind = null;
        ReadOnlyMemory<byte> raw = default;
        var reader = new Reader(body.AsMemory(4));
        while (reader.More)
        {
            var (field, wire) = reader.Tag();
            if (field == 1 && wire == 2)
            {
                var typeMeta = new Reader(reader.Bytes());
                while (typeMeta.More)
                {
                    var (f, w) = typeMeta.Tag();
                    if (f == 1 && w == 2) apiVersion = typeMeta.String();
                    else if (f == 2 && w == 2) kind = typeMeta.String();
                    else typeMeta.Skip(w);
                }
            }
            else if (field == 2 && wire == 2)
            {
                raw = reader.Bytes();
            }
            else
            {
                reader.Skip(wire);
            }
        }
        if (kind is null || !Messages.ContainsKey(kind))
            throw ApiException.UnsupportedMediaType($"application/vnd.kubernetes.protobuf ({kind ?? "unknown kind"})", ["application/json", "application/yaml"]);
        var obj = DecodeMessage(raw, kind);
        obj["apiVersion"] = apiVersion;
        obj["kind"] = kind;
        return obj;
    }

    private static JsonObject DecodeMessage(ReadOnlyMemory<byte> data, string type)
    {
        var schema = Messages[type];
        var obj = new JsonObject();
        var reader = new Reader(data);
        while (reader.More)
        {
            var (field, wire) = reader.Tag();
            if (!schema.TryGetValue(field, out var f))
            {
                reader.Skip(wire);
                continue;
            }
            JsonNode? value = f.Kind switch
            {
                K.String => reader.String(),
                K.Int => reader.Varint(),
                K.Bool => reader.Varint() != 0,
                K.Bytes => Convert.ToBase64String(reader.Bytes().Span),
                K.Message => DecodeMessage(reader.Bytes(), f.Type!),
                K.Time => DecodeTime(reader.Bytes()),
                K.IntOrString => DecodeIntOrString(reader.Bytes()),
                K.Quantity => DecodeQuantity(reader.Bytes()),
                K.StringMap or K.BytesMap or K.QuantityMap => null,
                _ => null,
            };
            if (f.Kind is K.StringMap or K.BytesMap or K.QuantityMap)
            {
                var map = obj[f.Name] as JsonObject ?? [];
                obj[f.Name] = map;
                var entry = new Reader(reader.Bytes());
                string key = "";
                JsonNode? v = null;
                while (entry.More)
                {
                    var (ef, ew) = entry.Tag();
                    if (ef == 1) key = entry.String();
                    else if (ef == 2)
                    {
                        v = f.Kind switch
                        {
                            K.StringMap => entry.String(),
                            K.BytesMap => Convert.ToBase64String(entry.Bytes().Span),
                            _ => DecodeQuantity(entry.Bytes()),
                        };
                    }
                    else entry.Skip(ew);
                }
                map[key] = v;
                continue;
            }
            if (!f.Repeated && IsZero(value) && !PointerFields.Contains(f.Name)) continue;
            if (f.Repeated)
            {
                var list = obj[f.Name] as JsonArray ?? [];
                obj[f.Name] = list;
                list.Add(value);
            }
            else
            {
                obj[f.Name] = value;
            }
        }
        return obj;
    }

    private static JsonNode? DecodeTime(ReadOnlyMemory<byte> data)
    {
        var reader = new Reader(data);
        long seconds = 0;
        while (reader.More)
        {
            var (f, w) = reader.Tag();
            if (f == 1) seconds = reader.Varint();
            else reader.Skip(w);
        }
        if (seconds == 0) return null;
        return DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
    }

    private static JsonNode? DecodeIntOrString(ReadOnlyMemory<byte> data)
    {
        var reader = new Reader(data);
        long type = 0, intVal = 0;
        string strVal = "";
        while (reader.More)
        {
            var (f, w) = reader.Tag();
            switch (f)
            {
                case 1: type = reader.Varint(); break;
                case 2: intVal = reader.Varint(); break;
                case 3: strVal = reader.String(); break;
                default: reader.Skip(w); break;
            }
        }
        return type == 1 ? JsonValue.Create(strVal) : JsonValue.Create(intVal);
    }

    private static JsonNode DecodeQuantity(ReadOnlyMemory<byte> data)
    {
        var reader = new Reader(data);
        var s = "";
        while (reader.More)
        {
            var (f, w) = reader.Tag();
            if (f == 1) s = reader.String();
            else reader.Skip(w);
        }
        return s;
    }

    private sealed class Reader(ReadOnlyMemory<byte> data)
    {
        private int _pos;

        public bool More => _pos < data.Length;

        public (int Field, int Wire) Tag()
        {
            var tag = Varint();
            return ((int)(tag >> 3), (int)(tag & 7));
        }

        public long Varint()
        {
            ulong result = 0;
            var shift = 0;
            var span = data.Span;
            while (true)
            {
                if (_pos >= span.Length || shift > 63) throw ApiException.BadRequest("malformed protobuf body: truncated varint");
                var b = span[_pos++];
                result |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0) return (long)result;
                shift += 7;
            }
        }

        public ReadOnlyMemory<byte> Bytes()
        {
            var length = (int)Varint();
            if (length < 0 || _pos + length > data.Length) throw ApiException.BadRequest("malformed protobuf body: length out of range");
            var slice = data.Slice(_pos, length);
            _pos += length;
            return slice;
        }

        public string String() => Encoding.UTF8.GetString(Bytes().Span);

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: Varint(); break;
                case 1: _pos += 8; break;
                case 2: Bytes(); break;
                case 5: _pos += 4; break;
                default: throw ApiException.BadRequest($"malformed protobuf body: unsupported wire type {wire}");
            }
        }
    }
}
