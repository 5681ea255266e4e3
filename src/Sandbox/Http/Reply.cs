using System.Buffers;
using System.Globalization;
using System.Text.Json.Nodes;
using DoraOperator.Sandbox.Resources;
using DoraOperator.Sandbox.Storage;

namespace DoraOperator.Sandbox.Http;

/// <summary>Writing responses: objects in the requested version, Status errors, warnings.</summary>
internal static class Reply
{
    internal static byte[] Versioned(ResourceType type, string version, StoredObject obj)
    {
        if (type.Versions.Count == 1) return obj.Json;
        var node = obj.ToNode();
        node["apiVersion"] = type.ApiVersion(version);
        return SandboxJson.Serialize(node);
    }

    internal static bool WantsTable(HttpContext context) =>
        context.Request.Headers.Accept.ToString().Contains("as=Table", StringComparison.Ordinal);

    internal static void AddWarnings(HttpContext context, List<string> warnings)
    {
        foreach (var w in warnings.Distinct())
        {
            context.Response.Headers.Append("Warning", $"299 - \"{w.Replace("\"", "\\\"", StringComparison.Ordinal)}\"");
        }
    }

    internal static async Task WriteErrorAsync(HttpContext context, ApiException e)
    {
        if (context.Response.HasStarted) return;
        if (e.RetryAfterSeconds is { } seconds) context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await WriteJsonAsync(context, e.Code, e.ToStatus());
    }

    internal static Task WriteJsonAsync(HttpContext context, int code, JsonNode body) => WriteBytesAsync(context, code, SandboxJson.Serialize(body));

    private const int ChunkingThreshold = 2048;

    internal static Task WriteBytesAsync(HttpContext context, int code, byte[] body) => WritePartsAsync(context, code, [body]);

    /// <summary>
    /// Writes a body made of <paramref name="parts"/> (a list page: its head, each item's stored JSON,
    /// the separators) straight to the response, never joined into one array: a page is megabytes,
    /// and an array per page would be a large-object-heap allocation each time.
    /// </summary>
    internal static async Task WritePartsAsync(HttpContext context, int code, IReadOnlyList<ReadOnlyMemory<byte>> parts)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        // As Go's net/http serves the API server's responses: a length for a body that fits its
        // 2 KB chunking buffer, chunked (no Content-Length) for anything larger, such as a list page.
        long length = 0;
        foreach (var part in parts) length += part.Length;
        if (length <= ChunkingThreshold) context.Response.ContentLength = length;
        var writer = context.Response.BodyWriter;
        long unflushed = 0;
        foreach (var part in parts)
        {
            writer.Write(part.Span);
            if ((unflushed += part.Length) < 64 * 1024) continue;
            unflushed = 0;
            await writer.FlushAsync(context.RequestAborted);
        }
        await writer.FlushAsync(context.RequestAborted);
    }
}
