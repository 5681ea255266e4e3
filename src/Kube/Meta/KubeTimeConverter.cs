using System.Globalization;
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
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.GetString();
        if (string.IsNullOrEmpty(text)) return default;
        return DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(Format(value));

    public static string Format(DateTimeOffset value)
    {
        var utc = value.UtcDateTime;
        return utc.Ticks % TimeSpan.TicksPerSecond == 0
            ? utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : utc.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
    }
}
