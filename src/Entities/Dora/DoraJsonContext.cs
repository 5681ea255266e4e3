using System.Text.Json.Serialization;
using DoraOperator.Kube.Meta;

namespace DoraOperator.Entities.Dora;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, Converters = [typeof(KubeTimeConverter)])]
[JsonSerializable(typeof(DoraProject))]
[JsonSerializable(typeof(DeploymentRecord))]
[JsonSerializable(typeof(Incident))]
public sealed partial class DoraJsonContext : JsonSerializerContext;
