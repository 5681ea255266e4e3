using System.Text.Json;
using System.Text.Json.Nodes;
using DoraOperator.Kube.Meta;
using DoraOperator.Kube.Rest;

namespace DoraOperator.Kube.Tests;

/// <summary>ObjectMeta keeps its rarely set fields in a side object; as JSON it is the API's metadata, field for field.</summary>
public sealed class ObjectMetaTests
{
    private const string Full = """
        {"name":"a","generateName":"a-","namespace":"ns","uid":"u1","resourceVersion":"7","generation":3,
         "creationTimestamp":"2026-11-01T10:00:00Z","deletionTimestamp":"2026-11-02T10:00:00Z",
         "labels":{"k":"v"},"annotations":{"n":"m"},"ownerReferences":[{"apiVersion":"v1","kind":"X","name":"o","uid":"u0"}],
         "finalizers":["example.com/f"],"managedFields":[{"manager":"kubectl"}]}
        """;

    [Fact]
    public void EveryFieldRoundTrips_IncludingTheRareOnesAndUnknownFields()
    {
        var meta = JsonSerializer.Deserialize(Full, KubeJsonContext.Default.ObjectMeta)!;
        Assert.Equal("a-", meta.GenerateName);
        Assert.Equal(new DateTimeOffset(2026, 11, 2, 10, 0, 0, TimeSpan.Zero), meta.DeletionTimestamp);
        Assert.Equal(["example.com/f"], meta.Finalizers!);
        Assert.True(meta.ExtensionData!.ContainsKey("managedFields"));
        var written = JsonNode.Parse(JsonSerializer.Serialize(meta, KubeJsonContext.Default.ObjectMeta));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Full), written), written!.ToJsonString());
    }

    [Fact]
    public void RareFieldsAreWritable_AndClearable()
    {
        var meta = new ObjectMeta { Name = "a" };
        Assert.Null(meta.Finalizers);
        meta.DeletionTimestamp = null;
        meta.Finalizers = ["f"];
        meta.Finalizers.Add("g");
        meta.GenerateName = "a-";
        Assert.Equal(["f", "g"], meta.Finalizers);
        meta.Finalizers = null;
        meta.GenerateName = null;
        Assert.Null(meta.Finalizers);
        Assert.Equal("""{"name":"a"}""", JsonSerializer.Serialize(meta, KubeJsonContext.Default.ObjectMeta));
    }

    [Fact]
    public void SkippingUnknownFields_LeavesTheRareNamedOnes()
    {
        var skipped = JsonSerializer.Deserialize("""{"kind":"ConfigMap","metadata":""" + Full + "}", UnknownFieldsContract<ConfigMap>.For(UnknownFields.Skip))!;
        Assert.Null(skipped.Metadata.ExtensionData);
        Assert.Equal(["example.com/f"], skipped.Metadata.Finalizers!);
        Assert.Equal("a-", skipped.Metadata.GenerateName);
    }
}
