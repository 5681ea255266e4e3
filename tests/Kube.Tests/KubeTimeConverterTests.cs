using System.Text;
using System.Text.Json;
using DoraOperator.Kube.Meta;

namespace DoraOperator.Kube.Tests;

public sealed class KubeTimeConverterTests
{
    private static readonly JsonSerializerOptions Options = new() { Converters = { new KubeTimeConverter() } };

    private static DateTimeOffset Read(string json) => JsonSerializer.Deserialize<DateTimeOffset>(json, Options);

    private static string Write(DateTimeOffset value) => JsonSerializer.Serialize(value, Options);

    [Theory]
    [InlineData("\"2026-11-01T10:00:00Z\"", "2026-11-01T10:00:00.0000000+00:00")]
    [InlineData("\"2026-11-01T10:00:00.123456Z\"", "2026-11-01T10:00:00.1234560+00:00")]
    // Another offset, and none at all (read as UTC), take the general parser.
    [InlineData("\"2026-11-01T12:00:00+02:00\"", "2026-11-01T10:00:00.0000000+00:00")]
    [InlineData("\"2026-11-01T10:00:00\"", "2026-11-01T10:00:00.0000000+00:00")]
    // An escaped Z is still a Z.
    [InlineData("\"2026-11-01T10:00:00\\u005A\"", "2026-11-01T10:00:00.0000000+00:00")]
    [InlineData("\"\"", "0001-01-01T00:00:00.0000000+00:00")]
    public void Read_GivesUtc(string json, string expected)
    {
        var value = Read(json);
        Assert.Equal(expected, value.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(TimeSpan.Zero, value.Offset);
    }

    [Fact]
    public void Read_RejectsWhatIsNoTime() => Assert.ThrowsAny<FormatException>(() => Read("\"yesterday Z\""));

    [Fact]
    public void Write_UsesSecondsUnlessThereIsAFraction_AlwaysInUtc()
    {
        Assert.Equal("\"2026-11-01T10:00:00Z\"", Write(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.FromHours(2))));
        Assert.Equal("\"2026-11-01T10:00:00.250000Z\"", Write(new DateTimeOffset(2026, 11, 1, 10, 0, 0, 250, TimeSpan.Zero)));
        Assert.Equal(KubeTimeConverter.Format(new DateTimeOffset(2026, 11, 1, 10, 0, 0, 250, TimeSpan.Zero)), JsonSerializer.Deserialize<string>(Write(new DateTimeOffset(2026, 11, 1, 10, 0, 0, 250, TimeSpan.Zero))));
    }
}
