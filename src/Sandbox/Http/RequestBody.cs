using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using DoraOperator.Sandbox.Resources;
using DoraOperator.Sandbox.Storage;
using YamlDotNet.RepresentationModel;

namespace DoraOperator.Sandbox.Http;

/// <summary>Request bodies as kube-apiserver decodes them: JSON, YAML or protobuf objects, DeleteOptions, size-limited.</summary>
internal static class RequestBody
{
    private const long MaxBodyBytes = 3 * 1024 * 1024;

    internal static async Task<DeleteOptions> ReadDeleteOptionsAsync(HttpContext context, ResourceType type)
    {
        var query = context.Request.Query;
        var propagation = query["propagationPolicy"].ToString();
        string? uid = null, rv = null;
        var dryRun = Query.IsDryRun(context);
        var raw = await ReadBodyAsync(context);
        if (raw.Length > 0)
        {
            var body = JsonNode.Parse(raw) as JsonObject ?? throw ApiException.BadRequest("DeleteOptions must be a JSON object");
            propagation = (string?)body["propagationPolicy"] ?? propagation;
            uid = (string?)body["preconditions"]?["uid"];
            rv = (string?)body["preconditions"]?["resourceVersion"];
            if (body["dryRun"] is JsonArray d && d.Any(x => (string?)x == "All")) dryRun = true;
            if ((bool?)body["orphanDependents"] == true) propagation = "Orphan";
        }
        if (string.IsNullOrEmpty(propagation)) propagation = "Background";
        if (propagation is not ("Background" or "Foreground" or "Orphan"))
        {
            throw ApiException.Invalid(type, "", [new FieldCause("FieldValueNotSupported", $"Unsupported value: \"{propagation}\": supported values: \"Foreground\", \"Background\", \"Orphan\"", "propagationPolicy")]);
        }
        return new DeleteOptions(uid, rv, propagation, dryRun);
    }

    internal static async Task<byte[]> ReadBodyAsync(HttpContext context)
    {
        if (context.Request.ContentLength > MaxBodyBytes) throw ApiException.RequestEntityTooLarge(MaxBodyBytes);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBodyBytes) throw ApiException.RequestEntityTooLarge(MaxBodyBytes);
        }
        return buffer.ToArray();
    }

    internal static async Task<JsonObject> ReadObjectAsync(HttpContext context, ResourceType? type, string version)
    {
        var contentType = context.Request.ContentType?.Split(';')[0].Trim() ?? "application/json";
        if (contentType is not ("application/json" or "application/yaml" or "" or "application/vnd.kubernetes.protobuf"))
            throw ApiException.UnsupportedMediaType(contentType, ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]);
        var raw = await ReadBodyAsync(context);
        if (raw.Length == 0) throw ApiException.BadRequest("the request body is empty; expected an object");
        var node = contentType switch
        {
            "application/yaml" => YamlToJson(raw),
            "application/vnd.kubernetes.protobuf" => ProtobufDecoder.Decode(raw),
            _ => JsonNode.Parse(raw),
        };
        if (node is not JsonObject obj) throw ApiException.BadRequest("the request body must be a JSON object");
        if (type is null) return obj;
        var apiVersion = (string?)obj["apiVersion"];
        var kind = (string?)obj["kind"];
        if (apiVersion is not null && apiVersion != type.ApiVersion(version))
            throw ApiException.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({type.ApiVersion(version)})");
        if (kind is not null && kind != type.Kind)
            throw ApiException.BadRequest($"the kind in the data ({kind}) does not match the expected kind ({type.Kind})");
        obj["apiVersion"] = type.ApiVersion(version);
        obj["kind"] = type.Kind;
        if (obj["metadata"] is not null and not JsonObject) throw ApiException.BadRequest("metadata must be an object");
        return obj;
    }

    internal static JsonNode? YamlToJson(byte[] raw)
    {
        var stream = new YamlStream();
        using var reader = new StringReader(Encoding.UTF8.GetString(raw));
        stream.Load(reader);
        return stream.Documents.Count == 0 ? null : Convert(stream.Documents[0].RootNode);
    }

    internal static JsonNode? Convert(YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode map:
                var obj = new JsonObject();
                foreach (var (k, v) in map.Children) obj[((YamlScalarNode)k).Value!] = Convert(v);
                return obj;
            case YamlSequenceNode seq:
                return new JsonArray(seq.Children.Select(Convert).ToArray());
            case YamlScalarNode scalar:
                var text = scalar.Value;
                if (scalar.Style is YamlDotNet.Core.ScalarStyle.SingleQuoted or YamlDotNet.Core.ScalarStyle.DoubleQuoted or YamlDotNet.Core.ScalarStyle.Literal or YamlDotNet.Core.ScalarStyle.Folded)
                    return JsonValue.Create(text);
                if (text is null or "null" or "~" or "") return null;
                if (text is "true" or "True") return true;
                if (text is "false" or "False") return false;
                if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return l;
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && text.Any(char.IsDigit)) return d;
                return JsonValue.Create(text);
            default:
                return null;
        }
    }
}
