using System.Text;
using System.Text.Json;
using DoraOperator.Kube.Meta;
using DoraOperator.Kube.Rest;
using Xunit;

namespace DoraOperator.Kube.Tests;

/// <summary>List bodies decoded as they stream in, whatever the sizes of the reads that bring them.</summary>
public class ListStreamTests
{
    /// <summary>A stream that hands out at most <c>chunk</c> bytes a read, as a slow connection does.</summary>
    private sealed class Trickle(byte[] data, int chunk) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(chunk, buffer.Length)], cancellationToken);
    }

    private static string Item(int i, string value) =>
        "{\"metadata\":{\"name\":\"cm-" + i + "\",\"namespace\":\"a\",\"resourceVersion\":\"" + (i + 10)
        + "\",\"managedFields\":[{\"manager\":\"m\",\"fieldsV1\":{\"f:data\":{\"f:k\":{}}}}],\"labels\":{\"n\":\"" + i + "\"}},\"data\":{\"k\":\"" + value + "\"}}";

    private static string List(int count, string value, bool metadataLast = false)
    {
        var items = "\"items\":[" + string.Join(",", Enumerable.Range(0, count).Select(i => Item(i, value))) + "]";
        const string Meta = "\"metadata\":{\"resourceVersion\":\"99\",\"continue\":\"next\"}";
        return metadataLast
            ? "{\"kind\":\"ConfigMapList\",\"apiVersion\":\"v1\"," + items + "," + Meta + "}\n"
            : "{\"kind\":\"ConfigMapList\",\"apiVersion\":\"v1\"," + Meta + "," + items + "}\n";
    }

    private static Task<(ListMeta Meta, List<ConfigMap> Items)> Decode(string body, int chunk, int bufferSize, UnknownFields fields = UnknownFields.SkipInMetadata) =>
        KubeApiClient.DecodeListAsync(new Trickle(Encoding.UTF8.GetBytes(body), chunk), fields, UnknownFieldsContract<ConfigMap>.For(fields), (ConfigMap c) => c, CancellationToken.None, bufferSize);

    [Theory]
    [InlineData(1, 16, false)]
    [InlineData(7, 64, true)]
    [InlineData(4096, 1024, false)]
    [InlineData(100_000, 64 * 1024, true)]
    public async Task EveryItemAndTheListMetadata_ArriveWhole_HoweverTheBodyIsCut(int chunk, int bufferSize, bool metadataLast)
    {
        // Values long enough that some items are larger than the smaller buffers.
        var (meta, items) = await Decode(List(40, new string('x', 300), metadataLast), chunk, bufferSize);
        Assert.Equal(("99", "next"), (meta.ResourceVersion, meta.Continue));
        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"cm-{i}"), items.Select(c => c.Metadata.Name));
        Assert.All(items, c => Assert.Equal(new string('x', 300), c.Data!["k"]));
        Assert.Equal("12", items[2].Metadata.ResourceVersion);
        Assert.Equal("2", items[2].Metadata.Labels!["n"]);
    }

    [Fact]
    public async Task KeepingUnknownFields_KeepsManagedFields()
    {
        var (_, items) = await Decode(List(3, "v"), 5, 32, UnknownFields.Keep);
        Assert.Equal(3, items.Count);
        Assert.Contains("managedFields", items[0].Metadata.ExtensionData!.Keys);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{\"kind\":\"ConfigMapList\",\"items\":[")]
    [InlineData("[]")]
    public async Task ABodyThatIsNotAWholeList_IsAJsonError(string body)
    {
        await Assert.ThrowsAnyAsync<JsonException>(() => Decode(body, 3, 16));
    }
}
