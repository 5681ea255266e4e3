using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using DoraOperator.Kube.Config;
using DoraOperator.Kube.Meta;

namespace DoraOperator.Kube.Rest;

/// <summary>
/// A typed Kubernetes REST client: get, list (auto-paged), create, replace, merge/JSON/strategic
/// patch, server-side apply, delete (preconditions, propagation), the status subresource, and watch
/// as a stream. Errors are <see cref="KubeApiException"/> carrying the server's Status. Requests go
/// through a client-side token bucket (lifted, when asked, on servers that apply API Priority and
/// Fairness) and are retried with jittered backoff on 429, 5xx and connection errors (honouring
/// Retry-After), never on other 4xx.
/// </summary>
public sealed class KubeApiClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly Credentials _credentials;
    private readonly TokenBucket _limiter;
    private readonly TimeProvider _time;

    public KubeApiClient(KubeConnection connection, KubeClientOptions? options = null, TimeProvider? time = null)
    {
        Connection = connection;
        Options = options ?? new KubeClientOptions();
        _time = time ?? TimeProvider.System;
        _credentials = new Credentials(connection, _time);
        _limiter = new TokenBucket(Options.Qps, Options.Burst, _time);
        _http = new HttpClient(CreateHandler(connection), disposeHandler: true)
        {
            BaseAddress = connection.Server,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd(Options.UserAgent);
    }

    public KubeConnection Connection { get; }
    public KubeClientOptions Options { get; }
    public string DefaultNamespace => Connection.Namespace;

    /// <summary>How many times an exec credential plugin ran.</summary>
    public int CredentialRefreshes => _credentials.ExecRuns;

    /// <summary>True once an answer carried API Priority and Fairness's headers.</summary>
    public bool ServerAppliesPriorityAndFairness => _priorityAndFairness;

    /// <summary>Whether requests wait for the client-side limit now.</summary>
    public bool RateLimited => _limiter.Enabled;

    /// <summary>The header API Priority and Fairness puts on every answer (with X-Kubernetes-PF-PriorityLevel-UID).</summary>
    public const string FlowSchemaHeader = "X-Kubernetes-PF-FlowSchema-UID";

    private volatile bool _priorityAndFairness;

    private void Observe(HttpResponseMessage response)
    {
        if (_priorityAndFairness || !response.Headers.Contains(FlowSchemaHeader)) return;
        _priorityAndFairness = true;
        if (Options.LiftLimitUnderPriorityAndFairness) _limiter.Lift();
    }

    /// <summary>The server's version (<c>/version</c> gitVersion): a cheap reachability and credentials check.</summary>
    public async Task<string> GetServerVersionAsync(CancellationToken cancellationToken = default)
    {
        var body = await SendAsync("get", HttpMethod.Get, "/version", null, null, cancellationToken);
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.TryGetProperty("gitVersion", out var v) ? v.GetString() ?? "" : "";
    }

    /// <summary>
    /// Whether the server serves a resource, from discovery (<c>/apis/{group}/{version}</c>, readable by
    /// every authenticated user): how an optional kind such as a CRD that may be installed later is found.
    /// </summary>
    public async Task<bool> ServesAsync(ResourceInfo resource, CancellationToken cancellationToken = default)
    {
        var path = resource.Group.Length == 0 ? $"/api/{resource.Version}" : $"/apis/{resource.Group}/{resource.Version}";
        byte[] body;
        try
        {
            body = await SendAsync("get", HttpMethod.Get, path, null, null, cancellationToken);
        }
        catch (KubeApiException e) when (e.IsNotFound)
        {
            return false;
        }
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.TryGetProperty("resources", out var resources) && resources.ValueKind == JsonValueKind.Array
            && resources.EnumerateArray().Any(r => r.TryGetProperty("name", out var n) && n.GetString() == resource.Plural);
    }

    public async Task<T> GetAsync<T>(string name, string? ns = null, CancellationToken cancellationToken = default)
        where T : KubeObject, IKubeResource<T>
    {
        var path = T.Resource.ItemPath(Ns<T>(ns), name);
        return Decode<T>(await SendAsync("get", HttpMethod.Get, path, null, null, cancellationToken), "get", path);
    }

    /// <summary>The object, or null when it does not exist.</summary>
    public async Task<T?> TryGetAsync<T>(string name, string? ns = null, CancellationToken cancellationToken = default)
        where T : KubeObject, IKubeResource<T>
    {
        try
        {
            return await GetAsync<T>(name, ns, cancellationToken);
        }
        catch (KubeApiException e) when (e.IsNotFound)
        {
            return null;
        }
    }

    /// <summary>Lists every matching object, following <c>continue</c> tokens page by page.</summary>
    public Task<KubeList<T>> ListAsync<T>(string? ns = null, ListOptions? options = null, CancellationToken cancellationToken = default)
        where T : KubeObject, IKubeResource<T> => ListAsync<T>(ns, options, null, cancellationToken);

    /// <summary>
    /// Lists in pages of <see cref="ListOptions.Limit"/>, passing each item through <paramref name="transform"/>
    /// as its page is decoded: only one page of whole objects is alive at a time, so a cache that keeps
    /// lean copies never holds the whole collection at full size.
    /// </summary>
    public Task<KubeList<T>> ListAsync<T>(string? ns, ListOptions? options, Func<T, T>? transform, CancellationToken cancellationToken = default)
        where T : KubeObject, IKubeResource<T> => ListAsync<T, T>(ns, options, transform ?? Same, cancellationToken);

    private static T Same<T>(T item) => item;

    /// <summary>Like <see cref="ListAsync{T}(string?, ListOptions?, Func{T, T}?, CancellationToken)"/>, with each item made into what the caller keeps.</summary>
    public async Task<KubeList<TItem>> ListAsync<T, TItem>(string? ns, ListOptions? options, Func<T, TItem> transform, CancellationToken cancellationToken = default)
        where T : KubeObject, IKubeResource<T>
    {
        options ??= new ListOptions();
        var items = new List<TItem>();
        string? token = null;
        string? resourceVersion = null;
        do
        {
            var query = Query(("labelSelector", options.LabelSelector), ("fieldSelector", options.FieldSelector),
                ("limit", options.Limit > 0 ? options.Limit.ToString(CultureInfo.InvariantCulture) : null), ("continue", token));
            var path = T.Resource.CollectionPath(ns is null && T.Resource.Namespaced ? null : Ns<T>(ns)) + query;
            // A page is megabytes: its items are decoded as the body streams in, from a small buffer.
            var contract = UnknownFieldsContract<T>.For(options.UnknownFields);
            var unknownFields = options.UnknownFields;
            var (meta, page) = await SendAsync("list", HttpMethod.Get, path, null, null,
                (content, ct) => DecodeListAsync(content, unknownFields, contract, transform, ct), cancellationToken);
            items.AddRange(page);
            resourceVersion ??= meta.ResourceVersion;
            token = meta.Continue;
        }
        while (!string.IsNullOrEmpty(token));
        return new KubeList<TItem>(items, resourceVersion ?? "");
    }

    public Task<T> CreateAsync<T>(T obj, CancellationToken cancellationToken = default)
        where T : KubeObject, IKubeResource<T> => CreateAsync(obj, UnknownFields.Keep, cancellationToken);

    /// <summary>
    /// Creates <paramref name="obj"/>; <paramref name="response"/> says what decoding the created object
    /// does with the fields the types do not name: skip them when the result is only read (its name,
    /// resourceVersion, status), never when it is written back whole.
    /// </summary>
    public async Task<T> CreateAsync<T>(T obj, UnknownFields response, CancellationToken cancellationToken = default)
        where T : KubeObject, IKubeResource<T>
    {
        Stamp(obj);
        var path = T.Resource.CollectionPath(Ns<T>(obj.Metadata.Namespace));
        return Decode<T>(await SendAsync("create", HttpMethod.Post, path, JsonSerializer.SerializeToUtf8Bytes(obj, T.JsonType), "application/json", cancellationToken), "create", path, response);
    }

    /// <summary>PUT the whole object; its resourceVersion is the optimistic-concurrency precondition.</summary>
    public Task<T> ReplaceAsync<T>(T obj, CancellationToken cancellationToken = default)
        where T : KubeObject, IKubeResource<T> => PutAsync(obj, null, cancellationToken);

    /// <summary>PUT to the status subresource.</summary>
    public Task<T> ReplaceStatusAsync<T>(T obj, CancellationToken cancellationToken = default)
        where T : KubeObject, IKubeResource<T> => PutAsync(obj, "status", cancellationToken);

    public Task<T> PatchAsync<T>(string name, string? ns, PatchType type, string patch, string? subresource = null, CancellationToken cancellationToken = default)
        where T : KubeObject, IKubeResource<T> => PatchAsync<T>(name, ns, type, patch, subresource, UnknownFields.Keep, cancellationToken);

    /// <summary>Patches; <paramref name="response"/> as for <see cref="CreateAsync{T}(T, UnknownFields, CancellationToken)"/>.</summary>
    public async Task<T> PatchAsync<T>(string name, string? ns, PatchType type, string patch, string? subresource, UnknownFields response, CancellationToken cancellationToken = default)
        where T : KubeObject, IKubeResource<T>
    {
        var path = T.Resource.ItemPath(Ns<T>(ns), name, subresource);
        var contentType = type switch
        {
            PatchType.Json => "application/json-patch+json",
            PatchType.Strategic => "application/strategic-merge-patch+json",
            _ => "application/merge-patch+json",
        };
        return Decode<T>(await SendAsync("patch", HttpMethod.Patch, path, Encoding.UTF8.GetBytes(patch), contentType, cancellationToken), "patch", path, response);
    }

    /// <summary>Server-side apply of <paramref name="obj"/> as <paramref name="fieldManager"/>.</summary>
    public async Task<T> ApplyAsync<T>(T obj, string fieldManager, bool force = false, string? subresource = null, CancellationToken cancellationToken = default)
        where T : KubeObject, IKubeResource<T>
    {
        Stamp(obj);
        var path = T.Resource.ItemPath(Ns<T>(obj.Metadata.Namespace), obj.Metadata.Name ?? throw new ArgumentException("apply needs metadata.name", nameof(obj)), subresource)
            + Query(("fieldManager", fieldManager), ("force", force ? "true" : null));
        var body = JsonSerializer.SerializeToUtf8Bytes(obj, T.JsonType);
        return Decode<T>(await SendAsync("apply", HttpMethod.Patch, path, body, "application/apply-patch+yaml", cancellationToken), "apply", path);
    }

    public async Task DeleteAsync<T>(string name, string? ns = null, DeleteOptions? options = null, CancellationToken cancellationToken = default)
        where T : KubeObject, IKubeResource<T>
    {
        var path = T.Resource.ItemPath(Ns<T>(ns), name);
        byte[]? body = null;
        if (options is not null)
        {
            using var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteString("kind", "DeleteOptions");
                w.WriteString("apiVersion", "v1");
                if (options.PropagationPolicy is not null) w.WriteString("propagationPolicy", options.PropagationPolicy);
                if (options.PreconditionUid is not null || options.PreconditionResourceVersion is not null)
                {
                    w.WriteStartObject("preconditions");
                    if (options.PreconditionUid is not null) w.WriteString("uid", options.PreconditionUid);
                    if (options.PreconditionResourceVersion is not null) w.WriteString("resourceVersion", options.PreconditionResourceVersion);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }
            body = buffer.ToArray();
        }
        await SendAsync("delete", HttpMethod.Delete, path, body, body is null ? null : "application/json", cancellationToken);
    }

    /// <summary>
    /// Read-modify-write with optimistic concurrency: fetches the object, lets <paramref name="mutate"/>
    /// change it (return false to write nothing), replaces it, and on 409 Conflict starts over from a fresh read.
    /// </summary>
    public async Task<T> UpdateWithRetryAsync<T>(string name, string? ns, Func<T, bool> mutate, bool status = false, int attempts = 10, CancellationToken cancellationToken = default)
        where T : KubeObject, IKubeResource<T>
    {
        for (var attempt = 1; ; attempt++)
        {
            var current = await GetAsync<T>(name, ns, cancellationToken);
            if (!mutate(current)) return current;
            try
            {
                return status ? await ReplaceStatusAsync(current, cancellationToken) : await ReplaceAsync(current, cancellationToken);
            }
            catch (KubeApiException e) when (e.IsConflict && attempt < attempts)
            {
                // Someone else wrote first: read again and re-apply the change.
            }
        }
    }

    /// <summary>Opens one watch and yields its events as they arrive. Ends when the server ends the stream.</summary>
    public async IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(string? ns, WatchOptions options, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        where T : KubeObject, IKubeResource<T>
    {
        var query = Query(("watch", "true"), ("resourceVersion", options.ResourceVersion), ("allowWatchBookmarks", options.AllowBookmarks ? "true" : null),
            ("labelSelector", options.LabelSelector), ("fieldSelector", options.FieldSelector),
            ("timeoutSeconds", options.Timeout is { } t ? ((int)t.TotalSeconds).ToString(CultureInfo.InvariantCulture) : null));
        var path = T.Resource.CollectionPath(ns is null && T.Resource.Namespaced ? null : Ns<T>(ns)) + query;
        await _limiter.WaitAsync(cancellationToken);
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = await _credentials.GetAsync(cancellationToken);
        HttpResponseMessage response;
        try
        {
            idle.CancelAfter(Options.RequestTimeout);
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, idle.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Options.OnResponse?.Invoke("watch", 0);
            throw new WatchStalledException(Options.RequestTimeout);
        }
        using (response)
        {
            Observe(response);
            Options.OnResponse?.Invoke("watch", (int)response.StatusCode);
            if (!response.IsSuccessStatusCode)
            {
                if (response.StatusCode == HttpStatusCode.Unauthorized) _credentials.Invalidate();
                throw Failure(response.StatusCode, await response.Content.ReadAsByteArrayAsync(cancellationToken), "watch", path);
            }
            using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var reader = new WatchStreamReader(stream);
            while (true)
            {
                Memory<byte>? line;
                idle.CancelAfter(Options.WatchIdleTimeout);
                try
                {
                    line = await reader.ReadLineAsync(idle.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new WatchStalledException(Options.WatchIdleTimeout);
                }
                if (line is not { } text) yield break;
                if (text.Length == 0) continue;
                yield return DecodeEvent(Readable(text.Span, options.UnknownFields), UnknownFieldsContract<T>.For(options.UnknownFields));
            }
        }
    }

    private async Task<T> PutAsync<T>(T obj, string? subresource, CancellationToken cancellationToken)
        where T : KubeObject, IKubeResource<T>
    {
        Stamp(obj);
        var path = T.Resource.ItemPath(Ns<T>(obj.Metadata.Namespace), obj.Metadata.Name ?? throw new ArgumentException("replace needs metadata.name", nameof(obj)), subresource);
        return Decode<T>(await SendAsync("update", HttpMethod.Put, path, JsonSerializer.SerializeToUtf8Bytes(obj, T.JsonType), "application/json", cancellationToken), "update", path);
    }

    private static void Stamp<T>(T obj)
        where T : KubeObject, IKubeResource<T>
    {
        obj.ApiVersion ??= T.Resource.ApiVersion;
        obj.Kind ??= T.Resource.Kind;
    }

    private string? Ns<T>(string? ns)
        where T : KubeObject, IKubeResource<T> => T.Resource.Namespaced ? (string.IsNullOrEmpty(ns) ? DefaultNamespace : ns) : null;

    private Task<byte[]> SendAsync(string verb, HttpMethod method, string path, byte[]? body, string? contentType, CancellationToken cancellationToken) =>
        SendAsync(verb, method, path, body, contentType, static (content, ct) => content.ReadAsByteArrayAsync(ct), cancellationToken);

    /// <summary>
    /// Sends with retries (429 and 5xx with backoff or Retry-After, one credential refresh on 401, a
    /// failed connection or read). A successful body is read by <paramref name="readSuccess"/> as it
    /// arrives (whole, or streamed); a read that fails midway is retried whole, so it must keep nothing
    /// until it completes.
    /// </summary>
    private async Task<TResult> SendAsync<TResult>(string verb, HttpMethod method, string path, byte[]? body, string? contentType, Func<HttpContent, CancellationToken, Task<TResult>> readSuccess, CancellationToken cancellationToken)
    {
        var refreshedCredentials = false;
        for (var attempt = 0; ; attempt++)
        {
            await _limiter.WaitAsync(cancellationToken);
            using var request = new HttpRequestMessage(method, path);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            request.Headers.Authorization = await _credentials.GetAsync(cancellationToken);
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType!);
            }
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Options.RequestTimeout);
            TimeSpan? retryAfter = null;
            Exception? transient;
            try
            {
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                Observe(response);
                if (response.IsSuccessStatusCode)
                {
                    TResult result;
                    try
                    {
                        result = await readSuccess(response.Content, timeout.Token);
                    }
                    catch (IOException e)
                    {
                        throw new HttpRequestException($"reading the response to {verb} {path} failed: {e.Message}", e);
                    }
                    Options.OnResponse?.Invoke(verb, (int)response.StatusCode);
                    return result;
                }
                var bytes = await response.Content.ReadAsByteArrayAsync(timeout.Token);
                Options.OnResponse?.Invoke(verb, (int)response.StatusCode);
                var failure = Failure(response.StatusCode, bytes, verb, path);
                if (response.StatusCode == HttpStatusCode.Unauthorized && !refreshedCredentials && _credentials.Invalidate())
                {
                    refreshedCredentials = true;
                    attempt--;
                    continue;
                }
                var retryable = failure.Code == 429 || failure.Code >= 500;
                if (!retryable || attempt >= Options.MaxRetries) throw failure;
                retryAfter = response.Headers.RetryAfter?.Delta
                    ?? (failure.Status.Details?.RetryAfterSeconds is { } s ? TimeSpan.FromSeconds(s) : null);
                transient = failure;
            }
            catch (HttpRequestException e)
            {
                Options.OnResponse?.Invoke(verb, 0);
                if (attempt >= Options.MaxRetries) throw;
                transient = e;
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                Options.OnResponse?.Invoke(verb, 0);
                if (attempt >= Options.MaxRetries) throw new TimeoutException($"{verb} {path}: no answer within {Options.RequestTimeout.TotalSeconds:0.#} s", e);
                transient = e;
            }
            _ = transient;
            await Task.Delay(retryAfter ?? Backoff(attempt), _time, cancellationToken);
        }
    }

    /// <summary>Exponential backoff with full jitter: a random delay up to base·2^attempt, capped.</summary>
    private TimeSpan Backoff(int attempt)
    {
        var ceiling = Math.Min(Options.RetryMaxDelay.TotalMilliseconds, Options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, attempt));
        return TimeSpan.FromMilliseconds(ceiling / 2 + Random.Shared.NextDouble() * ceiling / 2);
    }

    private static KubeApiException Failure(HttpStatusCode code, byte[] body, string verb, string path)
    {
        Status? status = null;
        try
        {
            status = body.Length > 0 ? JsonSerializer.Deserialize(body, KubeJsonContext.Default.Status) : null;
        }
        catch (JsonException)
        {
        }
        if (status is null || status.Kind != "Status")
        {
            status = new Status
            {
                Code = (int)code,
                Reason = code.ToString(),
                Message = body.Length > 0 ? Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 512)) : code.ToString(),
            };
        }
        if (status.Code == 0) status.Code = (int)code;
        return new KubeApiException(status, verb, path);
    }

    private static T Decode<T>(byte[] body, string verb, string path, UnknownFields unknownFields = UnknownFields.Keep)
        where T : KubeObject, IKubeResource<T>
    {
        try
        {
            return JsonSerializer.Deserialize(Readable(body, unknownFields), UnknownFieldsContract<T>.For(unknownFields)) ?? throw new JsonException("empty body");
        }
        catch (JsonException e)
        {
            throw new KubeApiException(new Status { Code = 200, Reason = "InvalidResponse", Message = $"the response is not a {T.Resource.Kind}: {e.Message}" }, verb, path);
        }
    }

    /// <summary>The text a read with <paramref name="fields"/> decodes: with managedFields cut out in place when metadata's unknown fields are skipped anyway.</summary>
    private static ReadOnlySpan<byte> Readable(Span<byte> body, UnknownFields fields) =>
        fields == UnknownFields.Keep ? body : body[..ManagedFieldsCut.Cut(body)];

    /// <summary>
    /// Reads a list body as it streams in, through a buffer that only has to hold one item (64 KB,
    /// doubled for a larger item): each item is deserialized (with managedFields cut out first when
    /// metadata's unknown fields are skipped) and made into what the caller keeps as soon as its last
    /// byte arrives. A page of 500 objects is megabytes; it is never held whole.
    /// </summary>
    internal static async Task<(ListMeta Meta, List<TItem> Items)> DecodeListAsync<T, TItem>(HttpContent content, UnknownFields fields, JsonTypeInfo<T> itemType, Func<T, TItem> transform, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        return await DecodeListAsync(stream, fields, itemType, transform, cancellationToken);
    }

    internal static async Task<(ListMeta Meta, List<TItem> Items)> DecodeListAsync<T, TItem>(Stream stream, UnknownFields fields, JsonTypeInfo<T> itemType, Func<T, TItem> transform, CancellationToken cancellationToken, int bufferSize = 64 * 1024)
    {
        var list = new ListParse<TItem>();
        using var window = new StreamWindow(stream, bufferSize);
        while (true)
        {
            window.Consume(ParseList(window.Pending.Span, window.Ended, list, fields, itemType, transform));
            if (list.Phase == ListPhase.Done) return (list.Meta, list.Items);
            if (window.Ended) throw new JsonException(list.Phase == ListPhase.Start ? "the list response is empty" : "the list response ended before its closing brace");
            await window.FillAsync(cancellationToken);
        }
    }

    private enum ListPhase { Start, Properties, Items, Done }

    /// <summary>Where a streamed list read stands between buffers: the JSON reader's state at the last whole unit read, and what was read so far.</summary>
    private sealed class ListParse<TItem>
    {
        public ListPhase Phase;
        public JsonReaderState State;
        public ListMeta Meta = new();
        public List<TItem> Items = [];
    }

    /// <summary>
    /// Reads as many whole units (the opening brace, a top-level property, one item, the end of the
    /// items) as <paramref name="data"/> holds; returns the bytes they took. A unit cut off by the end
    /// of the data is read again, whole, once more data has arrived.
    /// </summary>
    private static int ParseList<T, TItem>(Span<byte> data, bool final, ListParse<TItem> list, UnknownFields fields, JsonTypeInfo<T> itemType, Func<T, TItem> transform)
    {
        var reader = new Utf8JsonReader(data, final, list.State);
        var committed = 0;
        while (list.Phase != ListPhase.Done)
        {
            if (!reader.Read()) break;
            switch (list.Phase)
            {
                case ListPhase.Start:
                    if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException($"a list response is a JSON object, not {reader.TokenType}");
                    list.Phase = ListPhase.Properties;
                    break;
                case ListPhase.Properties when reader.TokenType == JsonTokenType.EndObject:
                    list.Phase = ListPhase.Done;
                    break;
                case ListPhase.Properties:
                    var (isItems, isMeta) = (reader.ValueTextEquals("items"u8), reader.ValueTextEquals("metadata"u8));
                    if (!reader.Read()) goto cut;
                    if (isItems && reader.TokenType == JsonTokenType.StartArray)
                    {
                        list.Phase = ListPhase.Items;
                        break;
                    }
                    var valueStart = (int)reader.TokenStartIndex;
                    if (!reader.TrySkip()) goto cut;
                    if (isMeta && reader.TokenType == JsonTokenType.EndObject)
                    {
                        list.Meta = JsonSerializer.Deserialize(data[valueStart..(int)reader.BytesConsumed], KubeJsonContext.Default.ListMeta) ?? list.Meta;
                    }
                    break;
                case ListPhase.Items when reader.TokenType == JsonTokenType.EndArray:
                    list.Phase = ListPhase.Properties;
                    break;
                case ListPhase.Items:
                    var itemStart = (int)reader.TokenStartIndex;
                    if (!reader.TrySkip()) goto cut;
                    var item = data[itemStart..(int)reader.BytesConsumed];
                    list.Items.Add(transform(JsonSerializer.Deserialize(Readable(item, fields), itemType)!));
                    break;
            }
            committed = (int)reader.BytesConsumed;
            list.State = reader.CurrentState;
        }
        cut:
        return committed;
    }

    /// <summary>
    /// Decodes one watch event in a single pass when <c>type</c> precedes <c>object</c> (as API servers
    /// write it): the object is deserialized straight from the reader, so fields its contract skips
    /// (managedFields) are never materialized. If <c>object</c> comes first, it is skipped over and
    /// deserialized from its bytes once the type is known.
    /// </summary>
    internal static WatchEvent<T> DecodeEvent<T>(ReadOnlySpan<byte> line, JsonTypeInfo<T> type)
    {
        var reader = new Utf8JsonReader(line);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("a watch event is a JSON object");
        WatchEventType? kind = null;
        WatchEvent<T>? decoded = null;
        (int Start, int End)? pending = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                kind = EventType(reader.GetString());
            }
            else if (reader.ValueTextEquals("object"u8))
            {
                reader.Read();
                if (kind is { } known) decoded = EventOf(known, ref reader, type);
                else
                {
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    pending = (start, (int)reader.BytesConsumed);
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        if (kind is not { } eventType) throw new JsonException("the watch event has no type");
        if (decoded is not null) return decoded;
        if (pending is not { } range) throw new JsonException("the watch event has no object");
        var objectReader = new Utf8JsonReader(line.Slice(range.Start, range.End - range.Start));
        objectReader.Read();
        return EventOf(eventType, ref objectReader, type);
    }

    private static WatchEventType EventType(string? text) => text switch
    {
        "ADDED" => WatchEventType.Added,
        "MODIFIED" => WatchEventType.Modified,
        "DELETED" => WatchEventType.Deleted,
        "BOOKMARK" => WatchEventType.Bookmark,
        "ERROR" => WatchEventType.Error,
        var other => throw new JsonException($"unknown watch event type \"{other}\""),
    };

    private static WatchEvent<T> EventOf<T>(WatchEventType kind, ref Utf8JsonReader reader, JsonTypeInfo<T> type) =>
        kind == WatchEventType.Error
            ? new WatchEvent<T>(kind, default, JsonSerializer.Deserialize(ref reader, KubeJsonContext.Default.Status))
            : new WatchEvent<T>(kind, JsonSerializer.Deserialize(ref reader, type), null);

    private static string Query(params (string Key, string? Value)[] pairs)
    {
        var parts = pairs.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value!)}").ToList();
        return parts.Count == 0 ? "" : "?" + string.Join("&", parts);
    }

    private static SocketsHttpHandler CreateHandler(KubeConnection connection)
    {
        // HTTP/1.1, as client-go uses for watches: a silent watch is caught by the watch's own idle
        // timeout, not by HTTP/2 pings (which never apply on HTTP/1.1).
        var handler = new SocketsHttpHandler
        {
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90),
            // The connection decides the proxy (kubeconfig proxy-url, else the environment), never the process default.
            UseProxy = connection.Proxy is not null,
            Proxy = connection.Proxy is { } proxy ? new System.Net.WebProxy(proxy) : null,
        };
        if (connection.Server.Scheme != "https") return handler;
        var ssl = new SslClientAuthenticationOptions();
        if (!string.IsNullOrEmpty(connection.TlsServerName)) ssl.TargetHost = connection.TlsServerName;
        if (connection.ClientCertificate is not null) ssl.ClientCertificates = [connection.ClientCertificate];
        if (connection.InsecureSkipTlsVerify)
        {
            // The user asked for it in the kubeconfig (insecure-skip-tls-verify: true), as kubectl allows.
#pragma warning disable CA5359
            ssl.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
#pragma warning restore CA5359
        }
        else if (connection.CertificateAuthorities is { Count: > 0 } cas)
        {
            ssl.CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            ssl.CertificateChainPolicy.CustomTrustStore.AddRange(cas);
        }
        handler.SslOptions = ssl;
        return handler;
    }

    public void Dispose() => _http.Dispose();
}
