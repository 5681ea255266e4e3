using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using DoraOperator.Kube.Meta;
using DoraOperator.Kube.Rest;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DoraOperator.Kube.Events;

/// <summary>
/// Records Kubernetes Events (events.k8s.io/v1; core/v1 when the former is not served) without
/// blocking the caller: writes happen on a background loop. A repeat of the same event (same object,
/// type, reason and note) within <see cref="SeriesWindow"/> updates the existing event's series count
/// instead of creating another, and each object gets a token bucket (burst 25, one per 5 minutes
/// after that) so a hot loop cannot flood the API server.
/// </summary>
public sealed class EventRecorder : IAsyncDisposable
{
    public static readonly TimeSpan SeriesWindow = TimeSpan.FromMinutes(6);

    private sealed record Pending(ObjectReference Regarding, string Type, string Reason, string Action, string Note);

    private sealed class Seen
    {
        public required string Name { get; init; }
        public required string Namespace { get; init; }
        public int Count { get; set; }
        public DateTimeOffset Last { get; set; }
        public bool Core { get; init; }
    }

    private readonly KubeApiClient _client;
    private readonly string _controller;
    private readonly string _instance;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<Pending> _pending = Channel.CreateBounded<Pending>(new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Dictionary<string, Seen> _seen = [];
    private readonly Dictionary<string, TokenBucket> _perObject = [];
    private readonly Task _loop;
    private bool _useCore;

    public EventRecorder(KubeApiClient client, string controller, string instance, TimeProvider? time = null, ILogger? logger = null)
    {
        _client = client;
        _controller = controller;
        _instance = instance;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Events dropped by the per-object limit or a full buffer.</summary>
    public int Dropped { get; private set; }

    public void Normal(ObjectReference regarding, string reason, string action, string note) => Enqueue(new Pending(regarding, "Normal", reason, action, note));

    public void Warning(ObjectReference regarding, string reason, string action, string note) => Enqueue(new Pending(regarding, "Warning", reason, action, note));

    private void Enqueue(Pending p)
    {
        if (!_pending.Writer.TryWrite(p)) Dropped++;
    }

    /// <summary>Waits until everything recorded so far has been written (for tests and shutdown).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        while (_pending.Reader.Count > 0 || _writing) await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider.System, cancellationToken);
    }

    private volatile bool _writing;

    private async Task RunAsync()
    {
        await foreach (var p in _pending.Reader.ReadAllAsync())
        {
            _writing = true;
            try
            {
                await WriteAsync(p);
            }
            catch (Exception e) when (e is KubeApiException or HttpRequestException or TimeoutException)
            {
                EventRecorderLog.RecordFailed(_logger, p.Reason, p.Regarding.Kind, p.Regarding.Name, e.Message);
            }
            finally
            {
                _writing = _pending.Reader.Count > 0;
            }
        }
    }

    private async Task WriteAsync(Pending p)
    {
        var now = _time.GetUtcNow();
        var ns = string.IsNullOrEmpty(p.Regarding.Namespace) ? "default" : p.Regarding.Namespace;
        var key = $"{p.Regarding.Uid}|{p.Regarding.Kind}|{ns}/{p.Regarding.Name}|{p.Type}|{p.Reason}|{p.Note}";
        if (_seen.TryGetValue(key, out var seen) && now - seen.Last < SeriesWindow)
        {
            seen.Count++;
            seen.Last = now;
            await UpdateSeriesAsync(seen, now);
            return;
        }
        var objectKey = $"{ns}/{p.Regarding.Kind}/{p.Regarding.Name}";
        if (!_perObject.TryGetValue(objectKey, out var bucket)) _perObject[objectKey] = bucket = new TokenBucket(1.0 / 300, 25, _time);
        if (bucket.Reserve() > TimeSpan.Zero)
        {
            Dropped++;
            return;
        }
        var name = $"{p.Regarding.Name}.{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key + now.Ticks)))[..16].ToLowerInvariant()}";
        if (!_useCore)
        {
            try
            {
                await _client.CreateAsync(new Event
                {
                    Metadata = new ObjectMeta { Name = name, Namespace = ns },
                    EventTime = now,
                    ReportingController = _controller,
                    ReportingInstance = _instance,
                    Action = p.Action,
                    Reason = p.Reason,
                    Regarding = p.Regarding,
                    Note = Truncate(p.Note),
                    Type = p.Type,
                });
                _seen[key] = new Seen { Name = name, Namespace = ns, Count = 1, Last = now };
                return;
            }
            catch (KubeApiException e) when (e.IsNotFound && e.Status.Details?.Kind is null or "events")
            {
                EventRecorderLog.CoreEvents(_logger);
                _useCore = true;
            }
        }
        await _client.CreateAsync(new CoreEvent
        {
            Metadata = new ObjectMeta { Name = name, Namespace = ns },
            InvolvedObject = p.Regarding,
            Reason = p.Reason,
            Message = Truncate(p.Note),
            Type = p.Type,
            Count = 1,
            FirstTimestamp = now,
            LastTimestamp = now,
            Source = new EventSource { Component = _controller },
            ReportingComponent = _controller,
            ReportingInstance = _instance,
        });
        _seen[key] = new Seen { Name = name, Namespace = ns, Count = 1, Last = now, Core = true };
    }

    private Task UpdateSeriesAsync(Seen seen, DateTimeOffset now)
    {
        var time = KubeTimeConverter.Format(now);
        return seen.Core
            ? _client.PatchAsync<CoreEvent>(seen.Name, seen.Namespace, PatchType.Merge, $$"""{"count":{{seen.Count}},"lastTimestamp":"{{time}}"}""")
            : _client.PatchAsync<Event>(seen.Name, seen.Namespace, PatchType.Merge, $$$"""{"series":{"count":{{{seen.Count}}},"lastObservedTime":"{{{time}}}"}}""");
    }

    private static string Truncate(string note) => note.Length <= 1024 ? note : note[..1021] + "...";

    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        await _loop;
    }
}
