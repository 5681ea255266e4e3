using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DoraOperator.Kube.Meta;

/// <summary>
/// Kubernetes times: metav1.Time is RFC 3339 in UTC with second precision ("2026-11-01T10:00:00Z"),
/// metav1.MicroTime adds six fraction digits. Reads either (and any offset); writes seconds
/// precision unless the value has sub-second parts, then microseconds, always in UTC.
/// </summary>
public sealed class KubeTimeConverter : JsonConverter<DateTimeOffset>
{
    private const string Seconds = "yyyy-MM-dd'T'HH:mm:ss'Z'";
    private const string Micros = "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";

    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        // Every time a server sends is UTC ("...Z"): the reader's own ISO 8601 parser takes those
        // without a string. Anything else (another offset, no offset, which counts as UTC) goes the long way.
        if (!reader.ValueIsEscaped && reader.ValueSpan is [.., (byte)'Z'] && reader.TryGetDateTimeOffset(out var utc)) return utc.ToUniversalTime();
        var text = reader.GetString();
        if (string.IsNullOrEmpty(text)) return default;
        return DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        Span<byte> text = stackalloc byte[32];
        var utc = value.UtcDateTime;
        writer.WriteStringValue(utc.TryFormat(text, out var length, WholeSeconds(utc) ? Seconds : Micros, CultureInfo.InvariantCulture) ? text[..length] : Encoding.UTF8.GetBytes(Format(value)));
    }

    public static string Format(DateTimeOffset value)
    {
        var utc = value.UtcDateTime;
        return utc.ToString(WholeSeconds(utc) ? Seconds : Micros, CultureInfo.InvariantCulture);
    }

    private static bool WholeSeconds(DateTime utc) => utc.Ticks % TimeSpan.TicksPerSecond == 0;
}
