using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using DoraOperator.Sandbox;

namespace DoraOperator.Testing;

/// <summary>A reply from the API server: status code, parsed body (null when not JSON) and headers.</summary>
public sealed record ApiReply(HttpStatusCode Status, JsonNode? Body, HttpResponseHeaders Headers, string Text)
{
    public int Code => (int)Status;
    public JsonObject Object => Body as JsonObject ?? throw new InvalidOperationException($"expected a JSON object, got {Code}: {Text}");
    public override string ToString() => $"{Code} {Text}";
}

/// <summary>Raw HTTP access to a Sandbox for protocol-level tests.</summary>
public sealed class ApiClient(SandboxApiServer server, string? token = null) : IDisposable
{
    private static int _namespaces;

    public HttpClient Http { get; } = server.CreateHttpClient(token);

    public SandboxApiServer Server => server;

    public async Task<ApiReply> SendAsync(HttpMethod method, string path, object? body = null, string contentType = "application/json", string? accept = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            var text = body switch
            {
                string s => s,
                JsonNode n => n.ToJsonString(),
                byte[] => null,
                _ => throw new ArgumentException("body must be a string, JsonNode or byte[]"),
            };
            request.Content = text is null ? new ByteArrayContent((byte[])body) : new StringContent(text, Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }
        if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await Http.SendAsync(request);
        var textBody = await response.Content.ReadAsStringAsync();
        JsonNode? parsed = null;
        try
        {
            parsed = textBody.Length > 0 ? JsonNode.Parse(textBody) : null;
        }
        catch (System.Text.Json.JsonException)
        {
        }
        return new ApiReply(response.StatusCode, parsed, response.Headers, textBody);
    }

    public Task<ApiReply> GetAsync(string path, string? accept = null) => SendAsync(HttpMethod.Get, path, accept: accept);
    public Task<ApiReply> PostAsync(string path, object body, string contentType = "application/json") => SendAsync(HttpMethod.Post, path, body, contentType);
    public Task<ApiReply> PutAsync(string path, object body) => SendAsync(HttpMethod.Put, path, body);
    public Task<ApiReply> PatchAsync(string path, object body, string contentType) => SendAsync(HttpMethod.Patch, path, body, contentType);
    public Task<ApiReply> DeleteAsync(string path, object? body = null) => SendAsync(HttpMethod.Delete, path, body);

    /// <summary>Creates a fresh namespace and returns its name.</summary>
    public async Task<string> NewNamespaceAsync(string prefix = "t")
    {
        var name = $"{prefix}-{Interlocked.Increment(ref _namespaces)}-{Guid.NewGuid().ToString("N")[..6]}";
        var reply = await PostAsync("/api/v1/namespaces", new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = name } });
        if (reply.Code != 201) throw new InvalidOperationException($"creating namespace {name} failed: {reply}");
        return name;
    }

    /// <summary>Opens a watch and yields decoded events as they arrive.</summary>
    public async IAsyncEnumerable<JsonObject> WatchAsync(string path, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"watch {path} failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(stream);
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0) continue;
            yield return JsonNode.Parse(line)!.AsObject();
        }
    }

    public void Dispose() => Http.Dispose();

    public static JsonObject ConfigMap(string name, Dictionary<string, string>? labels = null, Dictionary<string, string>? data = null)
    {
        var meta = new JsonObject { ["name"] = name };
        if (labels is not null) meta["labels"] = new JsonObject(labels.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
        var cm = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ConfigMap", ["metadata"] = meta };
        if (data is not null) cm["data"] = new JsonObject(data.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
        return cm;
    }

    public static JsonObject Deployment(string name, string image = "nginx:1.27", int replicas = 1, Dictionary<string, string>? templateAnnotations = null)
    {
        var templateMeta = new JsonObject { ["labels"] = new JsonObject { ["app"] = name } };
        if (templateAnnotations is not null)
            templateMeta["annotations"] = new JsonObject(templateAnnotations.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
        return new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "Deployment",
            ["metadata"] = new JsonObject { ["name"] = name },
            ["spec"] = new JsonObject
            {
                ["replicas"] = replicas,
                ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name } },
                ["template"] = new JsonObject
                {
                    ["metadata"] = templateMeta,
                    ["spec"] = new JsonObject
                    {
                        ["containers"] = new JsonArray(new JsonObject { ["name"] = "app", ["image"] = image }),
                    },
                },
            },
        };
    }
}
