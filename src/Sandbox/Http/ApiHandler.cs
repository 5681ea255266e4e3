using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DoraOperator.Sandbox.Faults;
using DoraOperator.Sandbox.Patching;
using DoraOperator.Sandbox.Printing;
using DoraOperator.Sandbox.Resources;
using DoraOperator.Sandbox.Security;
using DoraOperator.Sandbox.Selectors;
using DoraOperator.Sandbox.Storage;
using DoraOperator.Sandbox.Validation;
using Microsoft.AspNetCore.Http;
using YamlDotNet.RepresentationModel;

namespace DoraOperator.Sandbox.Http;

/// <summary>One request the Sandbox served, as an audit log would record it.</summary>
public sealed record AuditKey(string User, string Verb, string Group, string Resource, string? Subresource);

/// <summary>
/// Serves the Kubernetes REST protocol over the store: discovery, get/list/watch, create, update,
/// the four patch types, delete with preconditions and propagation, the status and scale
/// subresources, server-side Table printing, and metav1.Status errors.
/// </summary>
internal sealed class ApiHandler(
    ObjectStore store,
    ResourceRegistry registry,
    Authenticator authenticator,
    FaultInjector faults,
    SandboxOptions options,
    Func<string> serverAddress)
{
    private const long MaxBodyBytes = 3 * 1024 * 1024;
    private static readonly string[] PatchTypes = ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"];

    private readonly ConcurrentDictionary<AuditKey, int> _audit = new();
    private readonly RbacAuthorizer _rbac = new(store, registry);
    private readonly Controllers.NamespaceController _namespaces = new(store, registry);
    private readonly ConcurrentDictionary<string, JsonObject> _applied = new();
    public IReadOnlyDictionary<AuditKey, int> Audit => _audit;

    /// <summary>Every watch open now goes silent for good (a dead connection); watches opened later work.</summary>
    public void FreezeWatches()
    {
        foreach (var w in store.OpenWatchers()) w.Frozen = true;
    }

    public async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        try
        {
            var user = authenticator.Authenticate(context);
            if (user is null && !(options.AllowAnonymous || path is "/healthz" or "/readyz" or "/livez" or "/version"))
            {
                throw ApiException.Unauthorized();
            }
            if (context.Request.Method == "POST" && path is AccessReviews.TokenReviewPath or AccessReviews.SubjectAccessReviewPath)
            {
                await ServeReviewAsync(context, path, user ?? new UserInfo("system:anonymous", ["system:unauthenticated"]));
                return;
            }
            var request = RequestPath.Parse(path);
            if (request is null)
            {
                await ServeDiscoveryAsync(context, path);
                return;
            }
            await ServeResourceAsync(context, request, user ?? new UserInfo("system:anonymous", ["system:unauthenticated"]));
        }
        catch (ApiException e)
        {
            await WriteErrorAsync(context, e);
        }
        catch (JsonException e)
        {
            await WriteErrorAsync(context, ApiException.BadRequest($"the request body could not be decoded as JSON: {e.Message}"));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            await WriteErrorAsync(context, ApiException.BadRequest($"the request body could not be decoded as YAML: {e.Message}"));
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
    }

    private async Task ServeReviewAsync(HttpContext context, string path, UserInfo user)
    {
        var (group, resource) = path == AccessReviews.TokenReviewPath ? ("authentication.k8s.io", "tokenreviews") : ("authorization.k8s.io", "subjectaccessreviews");
        _audit.AddOrUpdate(new AuditKey(user.Name, "create", group, resource, null), 1, (_, n) => n + 1);
        if (options.Authorization == AuthorizationMode.Rbac && !_rbac.Allows(user, "create", group, resource, null, null, null))
        {
            throw ApiException.Forbidden(RbacAuthorizer.Denial(user, "create", group, resource, null, null, null));
        }
        var review = JsonNode.Parse(await ReadBodyAsync(context)) as JsonObject ?? throw ApiException.BadRequest("the request body is not a JSON object");
        var answer = resource == "tokenreviews"
            ? AccessReviews.TokenReview(review, authenticator)
            : AccessReviews.SubjectAccessReview(review, (u, verb, g, r, sub, ns, name) => options.Authorization != AuthorizationMode.Rbac || _rbac.Allows(u, verb, g, r, sub, ns, name));
        await WriteJsonAsync(context, 201, answer);
    }

    private async Task ServeDiscoveryAsync(HttpContext context, string path)
    {
        if (context.Request.Method != "GET") throw ApiException.MethodNotAllowed();
        var trimmed = path.TrimEnd('/');
        JsonNode? body = trimmed switch
        {
            "/version" => Discovery.Version(),
            "/healthz" or "/readyz" or "/livez" => null,
            "/api" => Discovery.CoreVersions(serverAddress()),
            "/apis" => Discovery.GroupList(registry),
            "/openapi/v3" => OpenApi.Index(registry),
            _ when trimmed.StartsWith("/openapi/v3/api/", StringComparison.Ordinal) => OpenApi.Document(registry, "", trimmed["/openapi/v3/api/".Length..]),
            _ when trimmed.StartsWith("/openapi/v3/apis/", StringComparison.Ordinal) && trimmed.Split('/') is { Length: 6 } parts => OpenApi.Document(registry, parts[4], parts[5]),
            _ when trimmed.StartsWith("/api/", StringComparison.Ordinal) && trimmed.Count(c => c == '/') == 2 => Discovery.ResourceList(registry, "", trimmed[5..]),
            _ when trimmed.StartsWith("/apis/", StringComparison.Ordinal) && trimmed.Count(c => c == '/') == 2 => Discovery.Group(registry, trimmed[6..]),
            _ when trimmed.StartsWith("/apis/", StringComparison.Ordinal) && trimmed.Count(c => c == '/') == 3 =>
                Discovery.ResourceList(registry, trimmed.Split('/')[2], trimmed.Split('/')[3]),
            _ => throw ApiException.NotFoundRaw("the server could not find the requested resource"),
        };
        if (trimmed is "/healthz" or "/readyz" or "/livez")
        {
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync("ok", context.RequestAborted);
            return;
        }
        if (body is null) throw ApiException.NotFoundRaw("the server could not find the requested resource");
        await WriteJsonAsync(context, 200, body);
    }

    private async Task ServeResourceAsync(HttpContext context, RequestPath request, UserInfo user)
    {
        var type = registry.Find(request.Group, request.Version, request.Plural)
            ?? throw ApiException.NotFoundRaw("the server could not find the requested resource");
        var query = context.Request.Query;
        var method = context.Request.Method;
        var isWatch = request.LegacyWatch || IsTrue(query["watch"]);
        var verb = method switch
        {
            "GET" when isWatch => "watch",
            "GET" when request.Name is null => "list",
            "GET" => "get",
            "POST" when request.Name is null => "create",
            "PUT" when request.Name is not null => "update",
            "PATCH" when request.Name is not null => "patch",
            "DELETE" when request.Name is null => "deletecollection",
            "DELETE" => "delete",
            _ => throw ApiException.MethodNotAllowed(),
        };
        if (request.Subresource is not null && !(request.Subresource == "status" && type.HasStatusSubresource) && !(request.Subresource == "scale" && type.HasScaleSubresource))
        {
            throw ApiException.NotFoundRaw("the server could not find the requested resource");
        }
        if (request.Subresource is not null && verb is not ("get" or "update" or "patch")) throw ApiException.MethodNotAllowed();
        var ns = type.Namespaced ? request.Namespace : null;
        if (type.Namespaced && string.IsNullOrEmpty(ns) && verb is "create" or "update" or "patch" or "delete" or "get" or "deletecollection")
        {
            throw ApiException.NotFoundRaw("the server could not find the requested resource");
        }
        if (!type.Namespaced && request.Namespace is not null) throw ApiException.NotFoundRaw("the server could not find the requested resource");

        _audit.AddOrUpdate(new AuditKey(user.Name, verb, type.Group, type.Plural, request.Subresource), 1, (_, n) => n + 1);
        if (options.Authorization == AuthorizationMode.Rbac && !_rbac.Allows(user, verb, type.Group, type.Plural, request.Subresource, ns, request.Name))
        {
            throw ApiException.Forbidden(RbacAuthorizer.Denial(user, verb, type.Group, type.Plural, request.Subresource, ns, request.Name), type, request.Name);
        }
        if (faults.Match(verb, type.Plural, request.Subresource, ns) is { } fault)
        {
            if (fault.Delay > TimeSpan.Zero) await Task.Delay(fault.Delay, options.TimeProvider, context.RequestAborted);
            if (fault.Code != 0) throw Injected(fault, type, request.Name);
        }

        switch (verb)
        {
            case "get":
                await GetAsync(context, type, request, ns!);
                break;
            case "list":
                await ListAsync(context, type, request, ns);
                break;
            case "watch":
                await WatchAsync(context, type, request, ns);
                break;
            case "create":
                await CreateAsync(context, type, request, ns);
                break;
            case "update":
            case "patch":
                await UpdateOrPatchAsync(context, type, request, ns, verb, user);
                break;
            case "delete":
                await DeleteAsync(context, type, request, ns);
                break;
            case "deletecollection":
                await DeleteCollectionAsync(context, type, request, ns);
                break;
        }
    }

    private static ApiException Injected(FaultRule fault, ResourceType type, string? name) => fault.Code switch
    {
        409 => ApiException.Conflict(type, name ?? ""),
        410 => ApiException.Gone("too old resource version (injected fault)"),
        429 => new ApiException(429, "TooManyRequests", "Too many requests, please try again later.") { RetryAfterSeconds = fault.RetryAfterSeconds ?? 1 },
        404 => ApiException.NotFound(type, name ?? ""),
        _ => new ApiException(fault.Code, fault.Code >= 500 ? "InternalError" : "BadRequest", $"Internal error occurred: injected fault {fault.Code}")
        {
            RetryAfterSeconds = fault.RetryAfterSeconds,
        },
    };

    private async Task GetAsync(HttpContext context, ResourceType type, RequestPath request, string ns)
    {
        var obj = store.Get(type, ns, request.Name!) ?? throw ApiException.NotFound(type, request.Name!);
        if (request.Subresource == "scale")
        {
            await WriteJsonAsync(context, 200, Scale(obj.ToNode()));
            return;
        }
        if (WantsTable(context))
        {
            await WriteJsonAsync(context, 200, TablePrinter.Table(type, request.Version, [obj], options.TimeProvider.GetUtcNow(), true, obj.ResourceVersion.ToString(CultureInfo.InvariantCulture), null));
            return;
        }
        await WriteBytesAsync(context, 200, Versioned(type, request.Version, obj));
    }

    private async Task ListAsync(HttpContext context, ResourceType type, RequestPath request, string? ns)
    {
        var query = context.Request.Query;
        var labels = LabelSelector.Parse(query["labelSelector"]);
        var fields = FieldSelector.Parse(query["fieldSelector"], type);
        var limit = ParseInt(query["limit"], "limit") ?? 0;
        var (continueKey, continueRv) = DecodeContinue(query["continue"]);
        var result = await ListAtResourceVersionAsync(type, ns, labels, fields, limit, continueKey, continueRv, query["resourceVersion"], query["resourceVersionMatch"], context.RequestAborted)
            ?? store.List(type, ns, labels, fields, limit, continueKey, continueRv);
        var rv = result.ResourceVersion.ToString(CultureInfo.InvariantCulture);
        var token = result.ContinueKey is null ? null : EncodeContinue(result.ContinueKey, result.ResourceVersion);
        if (WantsTable(context))
        {
            await WriteJsonAsync(context, 200, TablePrinter.Table(type, request.Version, result.Items, options.TimeProvider.GetUtcNow(), true, rv, token));
            return;
        }
        using var buffer = new MemoryStream();
        var head = new StringBuilder();
        head.Append(CultureInfo.InvariantCulture, $"{{\"kind\":\"{type.ListKind}\",\"apiVersion\":\"{type.ApiVersion(request.Version)}\",\"metadata\":{{\"resourceVersion\":\"{rv}\"");
        if (token is not null) head.Append(CultureInfo.InvariantCulture, $",\"continue\":\"{token}\"");
        if (result.Remaining is { } remaining) head.Append(CultureInfo.InvariantCulture, $",\"remainingItemCount\":{remaining}");
        head.Append("},\"items\":[");
        buffer.Write(Encoding.UTF8.GetBytes(head.ToString()));
        for (var i = 0; i < result.Items.Count; i++)
        {
            if (i > 0) buffer.WriteByte((byte)',');
            buffer.Write(Versioned(type, request.Version, result.Items[i]));
        }
        buffer.Write("]}"u8);
        await WriteBytesAsync(context, 200, buffer.ToArray());
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

    private async Task WatchAsync(HttpContext context, ResourceType type, RequestPath request, string? ns)
    {
        var query = context.Request.Query;
        var labels = LabelSelector.Parse(query["labelSelector"]);
        var fields = FieldSelector.Parse(BuildFieldSelector(query["fieldSelector"], request.Name), type);
        var bookmarks = IsTrue(query["allowWatchBookmarks"]);
        var timeoutSeconds = ParseInt(query["timeoutSeconds"], "timeoutSeconds");
        var asTable = WantsTable(context);
        Watcher watcher;
        var response = context.Response;
        try
        {
            watcher = store.Watch(type, ns, labels, fields, query["resourceVersion"]);
        }
        catch (ApiException e) when (e.Code == 410)
        {
            // Like the watch cache: the stream opens, then carries a single ERROR event.
            response.StatusCode = 200;
            response.ContentType = "application/json";
            await response.Body.WriteAsync(StoreEvent.Encode(WatchEventTypes.Error, SandboxJson.Serialize(e.ToStatus())), context.RequestAborted);
            return;
        }
        response.StatusCode = 200;
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-cache, private";
        await response.Body.FlushAsync(context.RequestAborted);
        var timeout = timeoutSeconds is > 0 ? TimeSpan.FromSeconds(timeoutSeconds.Value) : options.DefaultWatchTimeout;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, watcher.Closed);
        var timedOut = false;
        using var timeoutTimer = options.TimeProvider.CreateTimer(_ =>
        {
            timedOut = true;
            cts.Cancel();
        }, null, timeout, Timeout.InfiniteTimeSpan);
        var cut = false;
        var first = true;
        long lastSent = 0;
        var nextBookmark = options.TimeProvider.GetUtcNow() + options.BookmarkInterval;
        try
        {
            while (!cts.IsCancellationRequested)
            {
                var waitFor = bookmarks ? nextBookmark - options.TimeProvider.GetUtcNow() : Timeout.InfiniteTimeSpan;
                if (bookmarks && waitFor <= TimeSpan.Zero)
                {
                    if (!watcher.Frozen)
                    {
                        var rv = store.CurrentResourceVersion;
                        while (watcher.Events.TryPeek(out var pending) && pending.ResourceVersion <= rv && watcher.Events.TryRead(out var e))
                        {
                            await WriteEventAsync(response, type, request.Version, e, asTable, first, cts.Token);
                            first = false;
                            lastSent = e.ResourceVersion;
                        }
                        var bookmark = new JsonObject
                        {
                            ["kind"] = type.Kind,
                            ["apiVersion"] = type.ApiVersion(request.Version),
                            ["metadata"] = new JsonObject { ["resourceVersion"] = Math.Max(rv, lastSent).ToString(CultureInfo.InvariantCulture) },
                        };
                        await response.Body.WriteAsync(StoreEvent.Encode(WatchEventTypes.Bookmark, SandboxJson.Serialize(bookmark)), cts.Token);
                        await response.Body.FlushAsync(cts.Token);
                    }
                    nextBookmark = options.TimeProvider.GetUtcNow() + options.BookmarkInterval;
                    continue;
                }
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
                if (waitFor != Timeout.InfiniteTimeSpan) wait.CancelAfter(waitFor > TimeSpan.FromHours(1) ? TimeSpan.FromHours(1) : waitFor);
                bool more;
                try
                {
                    more = await watcher.Events.WaitToReadAsync(wait.Token);
                }
                catch (OperationCanceledException) when (!cts.IsCancellationRequested)
                {
                    continue;
                }
                if (!more) break;
                if (watcher.Frozen)
                {
                    // A silently dead connection: swallow events, send nothing.
                    while (watcher.Events.TryRead(out _))
                    {
                    }
                    await Task.Delay(TimeSpan.FromMilliseconds(20), options.TimeProvider, cts.Token);
                    continue;
                }
                while (watcher.Events.TryRead(out var e))
                {
                    await WriteEventAsync(response, type, request.Version, e, asTable, first, cts.Token);
                    first = false;
                    lastSent = e.ResourceVersion;
                }
                await response.Body.FlushAsync(cts.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // Timeout, client gone, or the watch was cut: end the stream.
        }
        catch (IOException)
        {
        }
        finally
        {
            cut = watcher.IsClosed && !timedOut && !context.RequestAborted.IsCancellationRequested;
            store.StopWatching(watcher);
        }
        if (cut)
        {
            // Cut by fault injection or as a slow watcher: drop the connection without a clean end, like a broken TCP stream.
            context.Abort();
        }
    }

    private async Task WriteEventAsync(HttpResponse response, ResourceType type, string version, StoreEvent e, bool asTable, bool first, CancellationToken ct)
    {
        byte[] frame;
        if (asTable)
        {
            var table = TablePrinter.Table(type, version, [e.Object], options.TimeProvider.GetUtcNow(), first, null, null);
            frame = StoreEvent.Encode(e.EventType, SandboxJson.Serialize(table));
        }
        else if (type.Versions.Count > 1)
        {
            frame = StoreEvent.Encode(e.EventType, Versioned(type, version, e.Object));
        }
        else
        {
            frame = e.Encoded;
        }
        await response.Body.WriteAsync(frame, ct);
    }

    private async Task CreateAsync(HttpContext context, ResourceType type, RequestPath request, string? ns)
    {
        var body = await ReadObjectAsync(context, type, request.Version);
        var meta = body["metadata"] as JsonObject ?? [];
        body["metadata"] = meta;
        var bodyNs = (string?)meta["namespace"];
        if (type.Namespaced)
        {
            if (!string.IsNullOrEmpty(bodyNs) && bodyNs != ns)
                throw ApiException.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
            meta["namespace"] = ns;
            RequireNamespace(ns!);
        }
        else
        {
            meta.Remove("namespace");
        }
        if (string.IsNullOrEmpty((string?)meta["name"]))
        {
            var generateName = (string?)meta["generateName"];
            if (string.IsNullOrEmpty(generateName))
                throw ApiException.Invalid(type, "", [new FieldCause("FieldValueRequired", "Required value: name or generateName is required", "metadata.name")]);
            meta["name"] = generateName + Names.RandomSuffix();
        }
        var warnings = new List<string>();
        var mode = FieldValidationMode(context);
        Admission.PrepareCreate(type, request.Version, body, mode, warnings);
        var dryRun = IsDryRun(context);
        var stored = store.Create(type, body, dryRun);
        if (!dryRun) stored = AfterWrite(type, stored, created: true);
        AddWarnings(context, warnings);
        await WriteBytesAsync(context, 201, Versioned(type, request.Version, stored));
    }

    private async Task UpdateOrPatchAsync(HttpContext context, ResourceType type, RequestPath request, string? ns, string verb, UserInfo user)
    {
        var name = request.Name!;
        var warnings = new List<string>();
        var mode = FieldValidationMode(context);
        var dryRun = IsDryRun(context);
        var contentType = context.Request.ContentType?.Split(';')[0].Trim() ?? "";
        JsonNode? patch = null;
        JsonObject? replacement = null;
        if (verb == "update")
        {
            replacement = await ReadObjectAsync(context, request.Subresource == "scale" ? null : type, request.Version);
            var bodyName = (string?)replacement["metadata"]?["name"];
            if (bodyName is not null && bodyName != name)
                throw ApiException.BadRequest($"the name of the object ({bodyName}) does not match the name on the URL ({name})");
            if (type.IsCustom && request.Subresource is null && string.IsNullOrEmpty((string?)replacement["metadata"]?["resourceVersion"]))
                throw ApiException.Invalid(type, name, [new FieldCause("FieldValueInvalid", "Invalid value: 0x0: must be specified for an update", "metadata.resourceVersion")]);
        }
        else
        {
            if (!PatchTypes.Contains(contentType)) throw ApiException.UnsupportedMediaType(contentType, PatchTypes);
            if (contentType == "application/strategic-merge-patch+json" && !type.SupportsStrategicMerge)
                throw ApiException.UnsupportedMediaType(contentType, PatchTypes.Where(p => p != "application/strategic-merge-patch+json"));
            var raw = await ReadBodyAsync(context);
            patch = contentType == "application/apply-patch+yaml" ? YamlToJson(raw) : JsonNode.Parse(raw);
            if (contentType == "application/apply-patch+yaml")
            {
                await ApplyAsync(context, type, request, ns, (patch as JsonObject) ?? throw ApiException.BadRequest("apply patch must be an object"), user, mode, dryRun);
                return;
            }
        }

        var stored = store.Update(type, ns, name, current =>
        {
            JsonObject desired;
            if (request.Subresource == "scale")
            {
                var scale = Scale(current);
                var newScale = replacement ?? (JsonObject)ApplyPatch(contentType, scale, patch)!;
                if ((string?)newScale["metadata"]?["resourceVersion"] is { Length: > 0 } srv && srv != (string?)current["metadata"]!["resourceVersion"])
                    throw ApiException.Conflict(type, name);
                var updated = (JsonObject)current.DeepClone();
                updated["spec"]!["replicas"] = newScale["spec"]?["replicas"]?.DeepClone() ?? 0;
                return Admission.PrepareUpdate(type, request.Version, current, updated, null, mode, warnings);
            }
            if (replacement is not null)
            {
                desired = replacement;
            }
            else
            {
                var patched = ApplyPatch(contentType, current, patch) as JsonObject
                    ?? throw ApiException.BadRequest("the patch did not produce an object");
                desired = patched;
            }
            desired["metadata"] ??= new JsonObject();
            return Admission.PrepareUpdate(type, request.Version, current, desired, request.Subresource, mode, warnings);
        }, dryRun);
        if (!dryRun) stored = AfterWrite(type, stored, created: false);
        AddWarnings(context, warnings);
        if (request.Subresource == "scale")
        {
            await WriteJsonAsync(context, 200, Scale(stored.ToNode()));
            return;
        }
        await WriteBytesAsync(context, 200, Versioned(type, request.Version, stored));
    }

    /// <summary>
    /// Server-side apply with whole-field ownership per manager: the applied configuration is merged
    /// in, and fields this manager applied before but no longer sets are removed. Conflicts with other
    /// managers are not detected (documented in docs/sandbox.md).
    /// </summary>
    private async Task ApplyAsync(HttpContext context, ResourceType type, RequestPath request, string? ns, JsonObject applied, UserInfo user, FieldValidation mode, bool dryRun)
    {
        var manager = context.Request.Query["fieldManager"].ToString();
        if (string.IsNullOrEmpty(manager)) throw ApiException.BadRequest("PATCH, application/apply-patch+yaml requests must include a fieldManager query parameter");
        var name = request.Name!;
        var meta = applied["metadata"] as JsonObject ?? [];
        applied["metadata"] = meta;
        if ((string?)meta["name"] is { } n && n != name) throw ApiException.BadRequest($"the name of the object ({n}) does not match the name on the URL ({name})");
        meta["name"] = name;
        if (type.Namespaced) meta["namespace"] = ns;
        applied["apiVersion"] ??= type.ApiVersion(request.Version);
        applied["kind"] ??= type.Kind;
        var warnings = new List<string>();
        var existing = store.Get(type, ns, name);
        StoredObject stored;
        var appliedKey = $"{type.Key}/{ns}/{name}/{manager}";
        var code = 200;
        if (existing is null)
        {
            if (type.Namespaced) RequireNamespace(ns!);
            var body = (JsonObject)applied.DeepClone();
            Admission.PrepareCreate(type, request.Version, body, mode, warnings);
            stored = store.Create(type, body, dryRun);
            code = 201;
        }
        else
        {
            stored = store.Update(type, ns, name, current =>
            {
                var previous = _applied.GetValueOrDefault(appliedKey);
                var result = (JsonObject)current.DeepClone();
                if (previous is not null) RemoveDropped(result, previous, applied);
                var merged = (JsonObject)(type.SupportsStrategicMerge ? StrategicMergePatch.Apply(result, applied) : MergePatch.Apply(result, applied))!;
                if (request.Subresource == "status")
                {
                    return Admission.PrepareUpdate(type, request.Version, current, merged, "status", mode, warnings);
                }
                merged["metadata"]!["resourceVersion"] = (string?)applied["metadata"]?["resourceVersion"];
                return Admission.PrepareUpdate(type, request.Version, current, merged, null, mode, warnings);
            }, dryRun);
        }
        if (!dryRun)
        {
            _applied[appliedKey] = (JsonObject)applied.DeepClone();
            stored = AfterWrite(type, stored, created: existing is null);
        }
        AddWarnings(context, warnings);
        await WriteBytesAsync(context, code, Versioned(type, request.Version, stored));
    }

    private static void RemoveDropped(JsonObject target, JsonObject previous, JsonObject current)
    {
        foreach (var (key, value) in previous)
        {
            if (key is "apiVersion" or "kind") continue;
            if (!current.TryGetPropertyValue(key, out var now))
            {
                if (key != "metadata" || value is not JsonObject) target.Remove(key);
                continue;
            }
            if (value is JsonObject prevObj && now is JsonObject nowObj && target[key] is JsonObject targetObj)
            {
                RemoveDropped(targetObj, prevObj, nowObj);
            }
        }
    }

    private async Task DeleteAsync(HttpContext context, ResourceType type, RequestPath request, string? ns)
    {
        var options = await ReadDeleteOptionsAsync(context, type);
        if (type.Key == "/namespaces")
        {
            // As kube-apiserver: the Namespace is answered Terminating; the namespace controller deletes
            // its contents, then the Namespace itself.
            var terminating = store.MarkTerminating(type, request.Name!, options);
            if (!options.DryRun) _ = Task.Run(() => _namespaces.FinalizeAsync(request.Name!));
            await WriteBytesAsync(context, 200, Versioned(type, request.Version, terminating));
            return;
        }
        var (obj, removed) = store.Delete(type, ns, request.Name!, options);
        if (removed && !options.DryRun) AfterDelete(type, obj);
        if (!removed || type.IsCustom)
        {
            await WriteBytesAsync(context, 200, Versioned(type, request.Version, obj));
            return;
        }
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Success",
            ["details"] = new JsonObject { ["name"] = obj.Name, ["group"] = type.Group, ["kind"] = type.Plural, ["uid"] = obj.Uid },
        };
        // A real server leaves the group out for core kinds.
        if (type.Group.Length == 0) status["details"]!.AsObject().Remove("group");
        await WriteJsonAsync(context, 200, status);
    }

    private async Task DeleteCollectionAsync(HttpContext context, ResourceType type, RequestPath request, string? ns)
    {
        var options = await ReadDeleteOptionsAsync(context, type);
        var query = context.Request.Query;
        var result = store.List(type, ns, LabelSelector.Parse(query["labelSelector"]), FieldSelector.Parse(query["fieldSelector"], type), 0, null, null);
        foreach (var obj in result.Items)
        {
            try
            {
                var (last, removed) = store.Delete(type, obj.Namespace, obj.Name, options with { PreconditionUid = null, PreconditionResourceVersion = null });
                if (removed && !options.DryRun) AfterDelete(type, last);
            }
            catch (ApiException e) when (e.Code == 404)
            {
            }
        }
        await WriteJsonAsync(context, 200, new JsonObject
        {
            ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Success",
        });
    }

    /// <summary>Side effects of writes that the real control plane performs: serving CRDs.</summary>
    private StoredObject AfterWrite(ResourceType type, StoredObject stored, bool created)
    {
        if (EventShapes.IsEvent(type)) MirrorEvent(type, stored);
        if (type.Key != "apiextensions.k8s.io/customresourcedefinitions") return stored;
        var crd = stored.ToNode();
        if (stored.Deleting) return stored;
        var served = CrdTypes.ToResourceType(crd);
        registry.Put(served);
        store.Retype(served);
        if (created || crd["status"]?["conditions"] is null)
        {
            var now = store.Now();
            stored = store.Update(type, null, stored.Name, current =>
            {
                current["status"] = CrdTypes.EstablishedStatus(current, now);
                return current;
            });
        }
        return stored;
    }

    /// <summary>One store for the two Event APIs, as kube-apiserver keeps: each write shows in the other API, in its shape.</summary>
    private void MirrorEvent(ResourceType type, StoredObject stored)
    {
        var other = registry.FindByKey(type.Group.Length == 0 ? "events.k8s.io/events" : "/events");
        if (other is null) return;
        var node = stored.ToNode();
        store.Mirror(other, type.Group.Length == 0 ? EventShapes.ToEventsV1(node) : EventShapes.ToCore(node));
    }

    private void AfterDelete(ResourceType type, StoredObject removed)
    {
        if (EventShapes.IsEvent(type) && registry.FindByKey(type.Group.Length == 0 ? "events.k8s.io/events" : "/events") is { } other)
        {
            store.Unmirror(other, removed.Namespace, removed.Name);
        }
        if (type.Key != "apiextensions.k8s.io/customresourcedefinitions") return;
        var crd = removed.ToNode();
        var key = $"{(string?)crd["spec"]?["group"]}/{(string?)crd["spec"]?["names"]?["plural"]}";
        var served = registry.FindByKey(key);
        if (served is null) return;
        registry.Remove(key);
        store.DropType(served);
    }

    private void RequireNamespace(string ns)
    {
        var namespaces = registry.FindByKey("/namespaces")!;
        var found = store.Get(namespaces, null, ns);
        if (found is null) throw ApiException.NotFound(namespaces, ns);
        if (found.Deleting)
            throw ApiException.Forbidden($"unable to create new content in namespace {ns} because it is being terminated");
    }

    private static JsonNode? ApplyPatch(string contentType, JsonObject current, JsonNode? patch)
    {
        try
        {
            return contentType switch
            {
                "application/json-patch+json" => JsonPatch.Apply(current, patch),
                "application/merge-patch+json" => MergePatch.Apply(current.DeepClone(), patch),
                "application/strategic-merge-patch+json" => StrategicMergePatch.Apply(current.DeepClone(), patch),
                _ => throw ApiException.UnsupportedMediaType(contentType, PatchTypes),
            };
        }
        catch (PatchException e)
        {
            throw e.ApplyFailure ? new ApiException(422, "Invalid", e.Message) : ApiException.BadRequest(e.Message);
        }
    }

    private static JsonObject Scale(JsonObject obj) => new()
    {
        ["kind"] = "Scale",
        ["apiVersion"] = "autoscaling/v1",
        ["metadata"] = new JsonObject
        {
            ["name"] = obj["metadata"]?["name"]?.DeepClone(),
            ["namespace"] = obj["metadata"]?["namespace"]?.DeepClone(),
            ["uid"] = obj["metadata"]?["uid"]?.DeepClone(),
            ["resourceVersion"] = obj["metadata"]?["resourceVersion"]?.DeepClone(),
            ["creationTimestamp"] = obj["metadata"]?["creationTimestamp"]?.DeepClone(),
        },
        ["spec"] = new JsonObject { ["replicas"] = obj["spec"]?["replicas"]?.DeepClone() ?? 0 },
        ["status"] = new JsonObject
        {
            ["replicas"] = obj["status"]?["replicas"]?.DeepClone() ?? 0,
            ["selector"] = string.Join(",", (obj["spec"]?["selector"]?["matchLabels"] as JsonObject ?? []).Select(kv => $"{kv.Key}={kv.Value}")),
        },
    };

    private async Task<DeleteOptions> ReadDeleteOptionsAsync(HttpContext context, ResourceType type)
    {
        var query = context.Request.Query;
        var propagation = query["propagationPolicy"].ToString();
        string? uid = null, rv = null;
        var dryRun = IsDryRun(context);
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

    private static async Task<byte[]> ReadBodyAsync(HttpContext context)
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

    private static async Task<JsonObject> ReadObjectAsync(HttpContext context, ResourceType? type, string version)
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

    private static JsonNode? Convert(YamlNode node)
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

    private static (string? Key, long? Rv) DecodeContinue(string? token)
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

    private static string EncodeContinue(string key, long rv)
    {
        var json = new JsonObject { ["v"] = "meta.k8s.io/v1", ["rv"] = rv, ["start"] = key }.ToJsonString();
        return System.Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    private static string? BuildFieldSelector(string? fieldSelector, string? name)
    {
        if (name is null) return fieldSelector;
        var byName = "metadata.name=" + name;
        return string.IsNullOrEmpty(fieldSelector) ? byName : fieldSelector + "," + byName;
    }

    private static byte[] Versioned(ResourceType type, string version, StoredObject obj)
    {
        if (type.Versions.Count == 1) return obj.Json;
        var node = obj.ToNode();
        node["apiVersion"] = type.ApiVersion(version);
        return SandboxJson.Serialize(node);
    }

    private static bool WantsTable(HttpContext context) =>
        context.Request.Headers.Accept.ToString().Contains("as=Table", StringComparison.Ordinal);

    private static bool IsTrue(string? value) => value is "1" or "true" or "True";

    private static bool IsDryRun(HttpContext context) => context.Request.Query["dryRun"].Any(v => v == "All");

    private static FieldValidation FieldValidationMode(HttpContext context) => context.Request.Query["fieldValidation"].ToString() switch
    {
        "Strict" => FieldValidation.Strict,
        "Ignore" => FieldValidation.Ignore,
        "" or "Warn" => FieldValidation.Warn,
        var other => throw ApiException.BadRequest($"fieldValidation must be one of \"Ignore\", \"Warn\", or \"Strict\", got \"{other}\""),
    };

    private static int? ParseInt(string? value, string name)
    {
        if (string.IsNullOrEmpty(value)) return null;
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw ApiException.BadRequest($"invalid {name} \"{value}\": must be a non-negative integer");
    }

    private static void AddWarnings(HttpContext context, List<string> warnings)
    {
        foreach (var w in warnings.Distinct())
        {
            context.Response.Headers.Append("Warning", $"299 - \"{w.Replace("\"", "\\\"", StringComparison.Ordinal)}\"");
        }
    }

    private static async Task WriteErrorAsync(HttpContext context, ApiException e)
    {
        if (context.Response.HasStarted) return;
        if (e.RetryAfterSeconds is { } seconds) context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await WriteJsonAsync(context, e.Code, e.ToStatus());
    }

    private static Task WriteJsonAsync(HttpContext context, int code, JsonNode body) => WriteBytesAsync(context, code, SandboxJson.Serialize(body));

    private static async Task WriteBytesAsync(HttpContext context, int code, byte[] body)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }
}
