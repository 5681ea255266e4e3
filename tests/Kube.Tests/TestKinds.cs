using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using DoraOperator.Kube.Meta;

namespace DoraOperator.Kube.Tests;

/// <summary>A lean apps/v1 Deployment for client tests (the product's own lives in src/Entities).</summary>
public sealed class TestDeployment : KubeObject, IKubeResource<TestDeployment>
{
    public static ResourceInfo Resource { get; } = new("apps", "v1", "deployments", "Deployment", true);
    public static JsonTypeInfo<TestDeployment> JsonType => TestJsonContext.Default.TestDeployment;

    public TestDeploymentSpec? Spec { get; set; }
    public TestDeploymentStatus? Status { get; set; }
}

public sealed class TestDeploymentSpec
{
    public int? Replicas { get; set; }
    public LabelSelector? Selector { get; set; }
    public System.Text.Json.Nodes.JsonObject? Template { get; set; }
}

public sealed class TestDeploymentStatus
{
    public long? ObservedGeneration { get; set; }
    public int? Replicas { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, Converters = [typeof(KubeTimeConverter)])]
[JsonSerializable(typeof(TestDeployment))]
public sealed partial class TestJsonContext : JsonSerializerContext;
