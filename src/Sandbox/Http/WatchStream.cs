using System.Globalization;
using System.Text.Json.Nodes;
using DoraOperator.Sandbox.Printing;
using DoraOperator.Sandbox.Resources;
using DoraOperator.Sandbox.Selectors;
using DoraOperator.Sandbox.Storage;

namespace DoraOperator.Sandbox.Http;

/// <summary>
/// One watch connection: events from the store in resourceVersion order, bookmarks, timeouts, the
/// 410 ERROR event for an expired resourceVersion, and the faults (a cut or frozen stream).
/// </summary>
internal sealed class WatchStream(ObjectStore store, SandboxOptions options)
{
    public async Task ServeAsync(HttpContext context, ResourceType type, RequestPath request, string? ns)
    {
        var query = context.Request.Query;
        var labels = LabelSelector.Parse(query["labelSelector"]);
        var fields = FieldSelector.Parse(Query.BuildFieldSelector(query["fieldSelector"], request.Name), type);
        var bookmarks = Query.IsTrue(query["allowWatchBookmarks"]);
        var timeoutSeconds = Query.ParseInt(query["timeoutSeconds"], "timeoutSeconds");
        var asTable = Reply.WantsTable(context);
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
            frame = StoreEvent.Encode(e.EventType, Reply.Versioned(type, version, e.Object));
        }
        else
        {
            frame = e.Encoded;
        }
        await response.Body.WriteAsync(frame, ct);
    }
}
