using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DoraOperator.Sandbox.Printing;
using DoraOperator.Sandbox.Resources;
using DoraOperator.Sandbox.Selectors;
using DoraOperator.Sandbox.Storage;

namespace DoraOperator.Sandbox.Http;

/// <summary>
/// Lists: label and field selectors, limit/continue pages, the resourceVersion and
/// resourceVersionMatch rules, and Table output.
/// </summary>
internal sealed class ListServer(ObjectStore store, SandboxOptions options)
{
    private static readonly byte[] Comma = ","u8.ToArray();
    private static readonly byte[] End = "]}"u8.ToArray();

    public async Task ServeAsync(HttpContext context, ResourceType type, RequestPath request, string? ns)
    {
        var query = context.Request.Query;
        var labels = LabelSelector.Parse(query["labelSelector"]);
        var fields = FieldSelector.Parse(query["fieldSelector"], type);
        var limit = Query.ParseInt(query["limit"], "limit") ?? 0;
        var (continueKey, continueRv) = DecodeContinue(query["continue"]);
        var result = await ListAtResourceVersionAsync(type, ns, labels, fields, limit, continueKey, continueRv, query["resourceVersion"], query["resourceVersionMatch"], context.RequestAborted)
            ?? store.List(type, ns, labels, fields, limit, continueKey, continueRv);
        var rv = result.ResourceVersion.ToString(CultureInfo.InvariantCulture);
        var token = result.ContinueKey is null ? null : EncodeContinue(result.ContinueKey, result.ResourceVersion);
        if (Reply.WantsTable(context))
        {
            await Reply.WriteJsonAsync(context, 200, TablePrinter.Table(type, request.Version, result.Items, options.TimeProvider.GetUtcNow(), true, rv, token));
            return;
        }
        var head = new StringBuilder();
        head.Append(CultureInfo.InvariantCulture, $"{{\"kind\":\"{type.ListKind}\",\"apiVersion\":\"{type.ApiVersion(request.Version)}\",\"metadata\":{{\"resourceVersion\":\"{rv}\"");
        if (token is not null) head.Append(CultureInfo.InvariantCulture, $",\"continue\":\"{token}\"");
        if (result.Remaining is { } remaining) head.Append(CultureInfo.InvariantCulture, $",\"remainingItemCount\":{remaining}");
        head.Append("},\"items\":[");
        var parts = new List<ReadOnlyMemory<byte>>(2 * result.Items.Count + 2) { Encoding.UTF8.GetBytes(head.ToString()) };
        for (var i = 0; i < result.Items.Count; i++)
        {
            if (i > 0) parts.Add(Comma);
            parts.Add(Reply.Versioned(type, request.Version, result.Items[i]));
        }
        parts.Add(End);
        await Reply.WritePartsAsync(context, 200, parts);
    }

    /// <summary>
    /// The resourceVersion and resourceVersionMatch rules of a list, as kube-apiserver applies them:
    /// Exact gives the snapshot at that version (410 once compacted); NotOlderThan (or a version
    /// without a match) any state at least that new; a version the server has not reached is waited
    /// for (3 s of its clock), then 504. Null when the current state answers.
    /// </summary>
    private async Task<ListResult?> ListAtResourceVersionAsync(ResourceType type, string? ns, LabelSelector labels, FieldSelector fields, int limit,
        string? continueKey, long? continueRv, string? resourceVersion, string? match, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(match) && string.IsNullOrEmpty(resourceVersion))
            throw ApiException.BadRequest("resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided");
        if (!string.IsNullOrEmpty(match) && match is not ("Exact" or "NotOlderThan"))
            throw ApiException.BadRequest($"resourceVersionMatch: Unsupported value: \"{match}\": supported values: \"Exact\", \"NotOlderThan\"");
        if (string.IsNullOrEmpty(resourceVersion)) return null;
        if (continueRv is not null) throw ApiException.BadRequest("specifying resource version is not allowed when using continue");
        if (!long.TryParse(resourceVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var rv))
            throw ApiException.BadRequest($"resourceVersion: Invalid value: \"{resourceVersion}\": must be a number");
        if (rv == 0)
        {
            if (match == "Exact") throw ApiException.BadRequest("resourceVersionMatch: Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"");
            return null;
        }
        var deadline = options.TimeProvider.GetUtcNow() + TimeSpan.FromSeconds(3);
        while (store.CurrentResourceVersion < rv)
        {
            if (options.TimeProvider.GetUtcNow() >= deadline) throw ApiException.TooLargeResourceVersion(rv, store.CurrentResourceVersion);
            await Task.Delay(TimeSpan.FromMilliseconds(50), options.TimeProvider, cancellationToken);
        }
        return match == "Exact" ? store.ListAt(type, ns, labels, fields, limit, continueKey, rv) : null;
    }

    internal static (string? Key, long? Rv) DecodeContinue(string? token)
    {
        if (string.IsNullOrEmpty(token)) return (null, null);
        try
        {
            var padded = token.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - padded.Length % 4) % 4);
            var node = JsonNode.Parse(System.Convert.FromBase64String(padded))!;
            return ((string)node["start"]!, J.Long(node["rv"])!.Value);
        }
        catch (Exception e) when (e is FormatException or JsonException or InvalidOperationException or NullReferenceException)
        {
            throw ApiException.BadRequest("continue key is not valid: " + e.Message);
        }
    }

    internal static string EncodeContinue(string key, long rv)
    {
        var json = new JsonObject { ["v"] = "meta.k8s.io/v1", ["rv"] = rv, ["start"] = key }.ToJsonString();
        return System.Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}
