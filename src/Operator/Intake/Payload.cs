using System.Text.Json;
using System.Text.Json.Nodes;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Operator.Http;
using Microsoft.AspNetCore.Http;

namespace DoraOperator.Operator.Intake;

/// <summary>
/// A JSON request body and its fields, read with errors that name the field: 415 for a body that is
/// not JSON, 413 for one over the limit, 400 for malformed or missing fields (and, on the REST
/// endpoints, unknown ones).
/// </summary>
internal sealed class Payload(JsonObject body)
{
    public JsonObject Body { get; } = body;

    public static async Task<Payload> ReadAsync(HttpContext context, long maxBytes) => Parse(await ReadRawAsync(context, maxBytes));

    /// <summary>The body's bytes as sent (signatures are computed over them), after the media type and size checks.</summary>
    public static async Task<byte[]> ReadRawAsync(HttpContext context, long maxBytes)
    {
        var type = context.Request.ContentType ?? "";
        var mediaType = type.Split(';')[0].Trim();
        if (!mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) && !mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase))
        {
            throw new ProblemException(415, "Unsupported media type", $"the body must be JSON (Content-Type: application/json), not \"{(type.Length == 0 ? "none" : type)}\"");
        }
        if (context.Request.ContentLength > maxBytes) throw TooLarge(maxBytes);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            if (buffer.Length + read > maxBytes) throw TooLarge(maxBytes);
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    public static Payload Parse(byte[] raw)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(raw);
        }
        catch (JsonException e)
        {
            throw new ProblemException(415, "Body is not JSON", $"the body could not be parsed as JSON: {e.Message}");
        }
        return node is JsonObject o ? new Payload(o) : throw new ProblemException(400, "Body is not a JSON object", "the body must be a JSON object ({...})");
    }

    private static ProblemException TooLarge(long max) => new(413, "Body too large", $"the body is larger than {max:N0} bytes");

    public bool Has(string field) => Body[field] is not null;

    /// <summary>400 naming any field not in <paramref name="known"/>.</summary>
    public void OnlyFields(string shape, params string[] known)
    {
        var unknown = Body.Select(p => p.Key).Where(k => !known.Contains(k, StringComparer.Ordinal)).ToList();
        if (unknown.Count > 0)
            throw Bad(unknown[0], $"unknown field{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(u => $"\"{u}\""))} for {shape}; accepted: {string.Join(", ", known)}");
    }

    public string? String(string field, bool required = false, int maxLength = 253)
    {
        var node = Body[field];
        if (node is null) return required ? throw Bad(field, $"field \"{field}\" is required") : null;
        string? value = node.GetValueKind() switch
        {
            JsonValueKind.String => node.GetValue<string>(),
            JsonValueKind.Number => node.ToJsonString(),
            _ => throw Bad(field, $"field \"{field}\" must be a string"),
        };
        if (string.IsNullOrWhiteSpace(value)) return required ? throw Bad(field, $"field \"{field}\" must not be empty") : null;
        if (value.Length > maxLength) throw Bad(field, $"field \"{field}\" is longer than {maxLength} characters");
        return value.Trim();
    }

    public DateTimeOffset? Time(string field, bool required = false)
    {
        var node = Body[field];
        if (node is null) return required ? throw Bad(field, $"field \"{field}\" is required") : null;
        var text = node.GetValueKind() switch
        {
            JsonValueKind.String => node.GetValue<string>(),
            JsonValueKind.Number => node.ToJsonString(),
            _ => null,
        };
        return TryTime(text, out var t) ? t : throw Bad(field, $"field \"{field}\" must be a time: {CommitTimes.AcceptedForms}");
    }

    /// <summary>
    /// RFC 3339 or Unix seconds, and the forms vendors write besides: GitLab's <c>2021-04-28 21:50:00 +0200</c>
    /// and <c>2013-12-03 17:15:43 UTC</c>, Jira's <c>2018-05-07T16:23:57.123+0200</c>.
    /// </summary>
    public static bool TryTime(string? text, out DateTimeOffset value)
    {
        if (CommitTimes.TryParse(text, out value)) return true;
        if (string.IsNullOrWhiteSpace(text) || text.Length < 19) return false;
        var t = text.Trim();
        if (t.EndsWith(" UTC", StringComparison.Ordinal)) t = t[..^4] + "Z";
        if (t[10] == ' ') t = string.Concat(t.AsSpan(0, 10), "T", t.AsSpan(11));
        t = t.Replace(" +", "+", StringComparison.Ordinal).Replace(" -", "-", StringComparison.Ordinal);
        // +0200 -> +02:00
        if (t.Length > 5 && t[^5] is '+' or '-' && char.IsAsciiDigit(t[^4]) && char.IsAsciiDigit(t[^1]) && t[^3] != ':') t = string.Concat(t.AsSpan(0, t.Length - 2), ":", t.AsSpan(t.Length - 2));
        return CommitTimes.TryParse(t, out value);
    }

    /// <summary>A time in Unix milliseconds (Opsgenie's <c>createdAt</c>) or nanoseconds (its <c>updatedAt</c>).</summary>
    public DateTimeOffset? EpochTime(string field)
    {
        var node = Body[field];
        if (node is null) return null;
        if (node.GetValueKind() != JsonValueKind.Number || !node.AsValue().TryGetValue<long>(out var n) || n <= 0) throw Bad(field, $"field \"{field}\" must be a Unix time in milliseconds");
        return n > 100_000_000_000_000 ? DateTimeOffset.FromUnixTimeMilliseconds(n / 1_000_000) : DateTimeOffset.FromUnixTimeMilliseconds(n);
    }

    public bool? Bool(string field)
    {
        var node = Body[field];
        if (node is null) return null;
        return node.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Bad(field, $"field \"{field}\" must be true or false"),
        };
    }

    public static ProblemException Bad(string field, string detail) => new(400, $"Invalid field {field}", detail);
}
