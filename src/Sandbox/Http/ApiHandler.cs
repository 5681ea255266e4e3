using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DoraOperator.Sandbox.Apply;
using DoraOperator.Sandbox.Faults;
using DoraOperator.Sandbox.Patching;
using DoraOperator.Sandbox.Printing;
using DoraOperator.Sandbox.Resources;
using DoraOperator.Sandbox.Security;
using DoraOperator.Sandbox.Selectors;
using DoraOperator.Sandbox.Storage;
using DoraOperator.Sandbox.Validation;

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
    private const string ApplyPatchType = "application/apply-patch+yaml";
    private static readonly string[] PatchTypes = ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"];

    private readonly ConcurrentDictionary<AuditKey, int> _audit = new();
    private readonly RbacAuthorizer _rbac = new(store, registry);
    private readonly Controllers.NamespaceController _namespaces = new(store, registry);
    private readonly ListServer _lists = new(store, options);
    private readonly WatchStream _watches = new(store, options);
    public IReadOnlyDictionary<AuditKey, int> Audit => _audit;

    /// <summary>Every watch open now goes silent for good (a dead connection); watches opened later work.</summary>
    public void FreezeWatches()
    {
        foreach (var w in store.OpenWatchers()) w.Frozen = true;
    }

    // One flow schema and priority level for every request (a real server picks them by user and verb).
    private readonly string _flowSchemaUid = Guid.NewGuid().ToString();
    private readonly string _priorityLevelUid = Guid.NewGuid().ToString();
    private int _inFlight;

    /// <summary>Requests rejected with 429 because <see cref="SandboxOptions.MaxRequestsInFlight"/> were in flight.</summary>
    public int Rejected => _rejected;

    private int _rejected;

    public async Task HandleAsync(HttpContext context)
    {
        if (options.PriorityAndFairness)
        {
            context.Response.Headers["X-Kubernetes-PF-FlowSchema-UID"] = _flowSchemaUid;
            context.Response.Headers["X-Kubernetes-PF-PriorityLevel-UID"] = _priorityLevelUid;
        }
        var limited = options.MaxRequestsInFlight > 0 && context.Request.Query["watch"] is not ["true" or "1"];
        if (limited && Interlocked.Increment(ref _inFlight) > options.MaxRequestsInFlight)
        {
            Interlocked.Decrement(ref _inFlight);
            Interlocked.Increment(ref _rejected);
            // What kube-apiserver answers when a priority level's seats and queues are full: plain text.
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            context.Response.Headers.RetryAfter = "1";
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync("Too many requests, please try again later.\n");
            return;
        }
        try
        {
            await ServeAsync(context);
        }
        finally
        {
            if (limited) Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task ServeAsync(HttpContext context)
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
            await Reply.WriteErrorAsync(context, e);
        }
        catch (JsonException e)
        {
            await Reply.WriteErrorAsync(context, ApiException.BadRequest($"the request body could not be decoded as JSON: {e.Message}"));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            await Reply.WriteErrorAsync(context, ApiException.BadRequest($"the request body could not be decoded as YAML: {e.Message}"));
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
        var review = JsonNode.Parse(await RequestBody.ReadBodyAsync(context)) as JsonObject ?? throw ApiException.BadRequest("the request body is not a JSON object");
        var answer = resource == "tokenreviews"
            ? AccessReviews.TokenReview(review, authenticator)
            : AccessReviews.SubjectAccessReview(review, (u, verb, g, r, sub, ns, name) => options.Authorization != AuthorizationMode.Rbac || _rbac.Allows(u, verb, g, r, sub, ns, name));
        await Reply.WriteJsonAsync(context, 201, answer);
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
        await Reply.WriteJsonAsync(context, 200, body);
    }

    private async Task ServeResourceAsync(HttpContext context, RequestPath request, UserInfo user)
    {
        var type = registry.Find(request.Group, request.Version, request.Plural)
            ?? throw ApiException.NotFoundRaw("the server could not find the requested resource");
        var query = context.Request.Query;
        var method = context.Request.Method;
        var isWatch = request.LegacyWatch || Query.IsTrue(query["watch"]);
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
                await _lists.ServeAsync(context, type, request, ns);
                break;
            case "watch":
                await _watches.ServeAsync(context, type, request, ns);
                break;
            case "create":
                await CreateAsync(context, type, request, ns);
                break;
            case "update":
            case "patch":
                await UpdateOrPatchAsync(context, type, request, ns, verb);
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
            await Reply.WriteJsonAsync(context, 200, Scale(obj.ToNode()));
            return;
        }
        if (Reply.WantsTable(context))
        {
            await Reply.WriteJsonAsync(context, 200, TablePrinter.Table(type, request.Version, [obj], options.TimeProvider.GetUtcNow(), true, obj.ResourceVersion.ToString(CultureInfo.InvariantCulture), null));
            return;
        }
        await Reply.WriteBytesAsync(context, 200, Reply.Versioned(type, request.Version, obj));
    }

    private async Task CreateAsync(HttpContext context, ResourceType type, RequestPath request, string? ns)
    {
        var body = await RequestBody.ReadObjectAsync(context, type, request.Version);
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
        var mode = Query.FieldValidationMode(context);
        Admission.PrepareCreate(type, request.Version, body, mode, warnings);
        var dryRun = Query.IsDryRun(context);
        var stored = store.Create(type, body, dryRun, Owner(context, type, request));
        if (!dryRun) AfterWrite(type, stored);
        Reply.AddWarnings(context, warnings);
        await Reply.WriteBytesAsync(context, 201, Reply.Versioned(type, request.Version, stored));
    }

    private async Task UpdateOrPatchAsync(HttpContext context, ResourceType type, RequestPath request, string? ns, string verb)
    {
        var name = request.Name!;
        var warnings = new List<string>();
        var mode = Query.FieldValidationMode(context);
        var dryRun = Query.IsDryRun(context);
        var contentType = context.Request.ContentType?.Split(';')[0].Trim() ?? "";
        JsonNode? patch = null;
        JsonObject? replacement = null;
        if (verb == "update")
        {
            replacement = await RequestBody.ReadObjectAsync(context, request.Subresource == "scale" ? null : type, request.Version);
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
            var raw = await RequestBody.ReadBodyAsync(context);
            if (contentType == ApplyPatchType)
            {
                var applied = RequestBody.YamlToJson(raw) as JsonObject ?? throw ApiException.BadRequest("apply patch must be an object");
                await ApplyAsync(context, type, request, ns, applied, mode, dryRun);
                return;
            }
            if (Query.IsTrue(context.Request.Query["force"])) throw ApiException.BadRequest("force: Invalid value: true: may not be specified for non-apply patch");
            patch = JsonNode.Parse(raw);
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
        }, dryRun, Owner(context, type, request));
        if (!dryRun) AfterWrite(type, stored);
        Reply.AddWarnings(context, warnings);
        if (request.Subresource == "scale")
        {
            await Reply.WriteJsonAsync(context, 200, Scale(stored.ToNode()));
            return;
        }
        await Reply.WriteBytesAsync(context, 200, Reply.Versioned(type, request.Version, stored));
    }

    /// <summary>
    /// Server-side apply: the applied configuration becomes its manager's fields, conflicts with
    /// other managers' fields answer 409 unless <c>force=true</c>, and the ownership is kept in the
    /// object's managedFields (<see cref="ManagedFields"/>).
    /// </summary>
    private async Task ApplyAsync(HttpContext context, ResourceType type, RequestPath request, string? ns, JsonObject applied, FieldValidation mode, bool dryRun)
    {
        if (string.IsNullOrEmpty(context.Request.Query["fieldManager"])) throw ApiException.BadRequest("PATCH, application/apply-patch+yaml requests must include a fieldManager query parameter");
        var owner = Owner(context, type, request);
        var force = Query.IsTrue(context.Request.Query["force"]);
        var name = request.Name!;
        var meta = applied["metadata"] as JsonObject ?? [];
        applied["metadata"] = meta;
        if ((string?)meta["name"] is { } n && n != name) throw ApiException.BadRequest($"the name of the object ({n}) does not match the name on the URL ({name})");
        meta["name"] = name;
        if (type.Namespaced) meta["namespace"] = ns;
        applied["apiVersion"] ??= type.ApiVersion(request.Version);
        applied["kind"] ??= type.Kind;
        var warnings = new List<string>();
        JsonObject Merge(JsonObject target, JsonObject patch) =>
            (JsonObject)(type.SupportsStrategicMerge ? StrategicMergePatch.Apply(target, patch) : MergePatch.Apply(target, patch))!;
        StoredObject stored;
        var code = 200;
        if (store.Get(type, ns, name) is null)
        {
            if (type.Namespaced) RequireNamespace(ns!);
            var (body, entries) = ManagedFields.Apply(type, null, applied, owner, force, Merge, store.Now());
            Admission.PrepareCreate(type, request.Version, body, mode, warnings);
            ManagedFields.Write(body, entries);
            stored = store.Create(type, body, dryRun);
            code = 201;
        }
        else
        {
            stored = store.Update(type, ns, name, current =>
            {
                var (merged, entries) = ManagedFields.Apply(type, current, applied, owner, force, Merge, store.Now());
                if (request.Subresource != "status") merged["metadata"]!["resourceVersion"] = (string?)applied["metadata"]?["resourceVersion"];
                var admitted = Admission.PrepareUpdate(type, request.Version, current, merged, request.Subresource, mode, warnings);
                ManagedFields.Write(admitted, entries);
                return admitted;
            }, dryRun);
        }
        if (!dryRun) AfterWrite(type, stored);
        Reply.AddWarnings(context, warnings);
        await Reply.WriteBytesAsync(context, code, Reply.Versioned(type, request.Version, stored));
    }

    /// <summary>
    /// The field manager of a write: the <c>fieldManager</c> parameter, else the client's User-Agent
    /// up to its first '/', as kube-apiserver names managers.
    /// </summary>
    private static FieldOwner Owner(HttpContext context, ResourceType type, RequestPath request)
    {
        var manager = context.Request.Query["fieldManager"].ToString();
        if (System.Text.Encoding.UTF8.GetByteCount(manager) > 128) throw ApiException.BadRequest("fieldManager: Too long: may not be more than 128 bytes");
        if (manager.Length == 0) manager = context.Request.Headers.UserAgent.ToString().Split('/')[0];
        if (manager.Length > 128) manager = manager[..128];
        if (manager.Length == 0) manager = "unknown";
        return new FieldOwner(manager, type.ApiVersion(request.Version), request.Subresource);
    }

    private async Task DeleteAsync(HttpContext context, ResourceType type, RequestPath request, string? ns)
    {
        var options = await RequestBody.ReadDeleteOptionsAsync(context, type);
        if (type.Key == "/namespaces")
        {
            // As kube-apiserver: the Namespace is answered Terminating; the namespace controller deletes
            // its contents, then the Namespace itself.
            var terminating = store.MarkTerminating(type, request.Name!, options);
            if (!options.DryRun) _ = Task.Run(() => _namespaces.FinalizeAsync(request.Name!));
            await Reply.WriteBytesAsync(context, 200, Reply.Versioned(type, request.Version, terminating));
            return;
        }
        var (obj, removed) = store.Delete(type, ns, request.Name!, options);
        if (removed && !options.DryRun) AfterDelete(type, obj);
        if (!removed || type.IsCustom)
        {
            await Reply.WriteBytesAsync(context, 200, Reply.Versioned(type, request.Version, obj));
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
        await Reply.WriteJsonAsync(context, 200, status);
    }

    private async Task DeleteCollectionAsync(HttpContext context, ResourceType type, RequestPath request, string? ns)
    {
        var options = await RequestBody.ReadDeleteOptionsAsync(context, type);
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
        await Reply.WriteJsonAsync(context, 200, new JsonObject
        {
            ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Success",
        });
    }

    /// <summary>Writes to one Event API show in the other (CRDs are served by <see cref="Controllers.CrdController"/>).</summary>
    private void AfterWrite(ResourceType type, StoredObject stored)
    {
        if (EventShapes.IsEvent(type)) MirrorEvent(type, stored);
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

}
