using System.Text;
using System.Text.Json;
using DoraOperator.Kube.Meta;
using DoraOperator.Kube.Rest;

namespace DoraOperator.Kube.Tests;

/// <summary>Watch event lines as servers write them, and in the orders and shapes they may not.</summary>
public sealed class WatchEventTests
{
    private static WatchEvent<ConfigMap> Decode(string line, UnknownFields fields = UnknownFields.Keep) =>
        KubeApiClient.DecodeEvent(Encoding.UTF8.GetBytes(line), UnknownFieldsContract<ConfigMap>.For(fields));

    private const string Object = """{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"7","managedFields":[{"manager":"kubectl"}]},"data":{"k":"v"}}""";

    [Fact]
    public void TypeBeforeObject_AsServersWriteIt()
    {
        var e = Decode($$"""{"type":"MODIFIED","object":{{Object}}}""");
        Assert.Equal(WatchEventType.Modified, e.Type);
        Assert.Equal("v", e.Object!.Data!["k"]);
        Assert.True(e.Object.Metadata.ExtensionData!.ContainsKey("managedFields"));
    }

    [Fact]
    public void ObjectBeforeType_AndExtraProperties_DecodeTheSame()
    {
        var e = Decode($$"""{"extra":[1,{"x":2}],"object":{{Object}},"type":"DELETED"}""");
        Assert.Equal(WatchEventType.Deleted, e.Type);
        Assert.Equal("7", e.Object!.Metadata.ResourceVersion);
        Assert.Equal("v", e.Object.Data!["k"]);
    }

    [Fact]
    public void SkippedFieldsAreNeverMaterialized()
    {
        var e = Decode($$"""{"type":"ADDED","object":{{Object}}}""", UnknownFields.Skip);
        Assert.Null(e.Object!.Metadata.ExtensionData);
        Assert.Equal("a", e.Object.Metadata.Name);
    }

    [Fact]
    public void ErrorEventsCarryTheirStatus()
    {
        var e = Decode("""{"type":"ERROR","object":{"kind":"Status","status":"Failure","message":"too old resource version","reason":"Expired","code":410}}""");
        Assert.Equal(WatchEventType.Error, e.Type);
        Assert.Equal(410, e.Error!.Code);
        Assert.Null(e.Object);
    }

    [Theory]
    [InlineData("""{"type":"RENAMED","object":{}}""", "unknown watch event type \"RENAMED\"")]
    [InlineData("""{"object":{}}""", "the watch event has no type")]
    [InlineData("""{"type":"ADDED"}""", "the watch event has no object")]
    [InlineData("""[1]""", "a watch event is a JSON object")]
    public void MalformedEventsAreSpecificErrors(string line, string message)
    {
        var e = Assert.ThrowsAny<JsonException>(() => Decode(line));
        Assert.Equal(message, e.Message);
    }
}
