using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DoraOperator.Kube.Meta;
using DoraOperator.Kube.Rest;

namespace DoraOperator.Kube.Tests;

/// <summary>managedFields cut out of the text before reads that skip them anyway, whatever they hold.</summary>
public sealed class ManagedFieldsCutTests
{
    private static string Cut(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        return Encoding.UTF8.GetString(bytes, 0, ManagedFieldsCut.Cut(bytes));
    }

    // Brackets, braces, quotes and backslashes inside the entries' strings must not end the member early.
    private const string Tricky = """[{"manager":"a]b[c","fieldsV1":{"f:metadata":{"f:annotations":{"f:x\"]":{}}},"f:spec":{"f:list":[[1],[2,{"k":"v\\"}]]}}},{"manager":"z"}]""";

    [Theory]
    [InlineData("""{"metadata":{"name":"a","managedFields":MF,"uid":"u"},"data":{"k":"v"}}""", """{"metadata":{"name":"a","uid":"u"},"data":{"k":"v"}}""")]
    [InlineData("""{"metadata":{"name":"a","managedFields":MF},"data":{}}""", """{"metadata":{"name":"a"},"data":{}}""")]
    [InlineData("""{"metadata":{"managedFields":MF}}""", """{"metadata":{}}""")]
    // Whitespace between the member and its comma, on either side.
    [InlineData("""{"metadata":{"managedFields":MF ,"name":"a"}}""", """{"metadata":{"name":"a"}}""")]
    [InlineData("""{"metadata":{"name":"a" , "managedFields":MF }}""", """{"metadata":{"name":"a"  }}""")]
    [InlineData("""{"items":[{"metadata":{"managedFields":MF,"name":"a"}},{"metadata":{"name":"b","managedFields":MF}}]}""", """{"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}""")]
    public void CutsEveryMember_AndTheCommaBesideIt(string json, string expected)
    {
        var cut = Cut(json.Replace("MF", Tricky, StringComparison.Ordinal));
        Assert.Equal(expected, cut);
        Assert.NotNull(JsonNode.Parse(cut));
    }

    [Theory]
    // No member; the text in a string value (its quotes escaped); not compact; never closed.
    [InlineData("""{"metadata":{"name":"a"}}""")]
    [InlineData("""{"metadata":{"annotations":{"note":"\"managedFields\":[1]"}}}""")]
    [InlineData("""{"metadata":{"managedFields": [{"manager":"a"}]}}""")]
    [InlineData("""{"metadata":{"managedFields":[{"manager":"a]"}""")]
    public void LeavesTextWithoutACompleteMemberAlone(string json)
    {
        Assert.Equal(json, Cut(json));
    }

    [Fact]
    public void AWatchEventReadsTheSameWithTheMemberCut()
    {
        var line = """{"type":"MODIFIED","object":{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"7","managedFields":MF,"labels":{"x":"y"}},"data":{"k":"v"}}}""".Replace("MF", Tricky, StringComparison.Ordinal);
        var bytes = Encoding.UTF8.GetBytes(line);
        var type = UnknownFieldsContract<ConfigMap>.For(UnknownFields.Skip);
        var whole = KubeApiClient.DecodeEvent(bytes, type);
        var cut = KubeApiClient.DecodeEvent(bytes.AsSpan(0, ManagedFieldsCut.Cut(bytes)), type);
        Assert.Equal(JsonSerializer.Serialize(whole.Object!, ConfigMap.JsonType), JsonSerializer.Serialize(cut.Object!, ConfigMap.JsonType));
        Assert.Equal("y", cut.Object!.Metadata.Labels!["x"]);
    }
}
