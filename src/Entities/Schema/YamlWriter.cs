using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DoraOperator.Entities.Schema;

/// <summary>Writes a JSON tree as block-style YAML, quoting only the strings that need it. Deterministic.</summary>
public static class YamlWriter
{
    public static string Write(JsonNode node)
    {
        var sb = new StringBuilder();
        WriteNode(sb, node, 0, inSequence: false);
        return sb.ToString();
    }

    private static void WriteNode(StringBuilder sb, JsonNode? node, int indent, bool inSequence)
    {
        switch (node)
        {
            case JsonObject o:
                var first = true;
                foreach (var (key, value) in o)
                {
                    if (!(first && inSequence)) sb.Append(' ', indent);
                    first = false;
                    sb.Append(Key(key)).Append(':');
                    WriteValue(sb, value, indent);
                }
                break;
            case JsonArray a:
                foreach (var item in a)
                {
                    sb.Append(' ', indent).Append("- ");
                    if (item is JsonObject { Count: > 0 } or JsonArray { Count: > 0 })
                    {
                        WriteNode(sb, item, indent + 2, inSequence: true);
                    }
                    else
                    {
                        sb.Append(Scalar(item)).Append('\n');
                    }
                }
                break;
            default:
                sb.Append(' ', indent).Append(Scalar(node)).Append('\n');
                break;
        }
    }

    private static void WriteValue(StringBuilder sb, JsonNode? value, int indent)
    {
        switch (value)
        {
            case JsonObject { Count: 0 }:
                sb.Append(" {}\n");
                break;
            case JsonArray { Count: 0 }:
                sb.Append(" []\n");
                break;
            case JsonObject o:
                sb.Append('\n');
                WriteNode(sb, o, indent + 2, inSequence: false);
                break;
            case JsonArray a:
                sb.Append('\n');
                WriteNode(sb, a, indent, inSequence: false);
                break;
            default:
                sb.Append(' ').Append(Scalar(value)).Append('\n');
                break;
        }
    }

    private static string Key(string key) => NeedsQuotes(key) ? Quote(key) : key;

    private static string Scalar(JsonNode? node)
    {
        if (node is null) return "null";
        var v = node.AsValue();
        return v.GetValueKind() switch
        {
            JsonValueKind.String => Text((string)v!),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.Number => v.ToJsonString(),
            _ => v.ToJsonString(),
        };
    }

    private static string Text(string s) => NeedsQuotes(s) ? Quote(s) : s;

    private static bool NeedsQuotes(string s)
    {
        if (s.Length == 0 || char.IsWhiteSpace(s[0]) || char.IsWhiteSpace(s[^1])) return true;
        if ("-?:,[]{}#&*!|>'\"%@`".Contains(s[0])) return true;
        if (s.Contains(": ", StringComparison.Ordinal) || s.Contains(" #", StringComparison.Ordinal) || s.Contains('\n') || s.EndsWith(':')) return true;
        if (s is "true" or "false" or "null" or "yes" or "no" or "on" or "off" or "~" or "True" or "False" or "Yes" or "No" or "On" or "Off" or "NULL" or "Null") return true;
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
    }

    private static string Quote(string s) => JsonSerializer.Serialize(s, SchemaJson.Relaxed.String);
}

/// <summary>JSON strings as YAML wants them quoted: only what JSON requires escaped. Source-generated, so trimming and AOT keep it.</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class SchemaJson : System.Text.Json.Serialization.JsonSerializerContext
{
    public static SchemaJson Relaxed { get; } = new(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
