using System.Threading.Channels;
using DoraOperator.Sandbox.Resources;
using DoraOperator.Sandbox.Selectors;

namespace DoraOperator.Sandbox.Storage;

/// <summary>
/// One open watch. The store pushes matching events into its channel under the store lock (so
/// order equals resourceVersion order); the HTTP handler drains it. A watcher that falls too far
/// behind is closed, as a real API server closes a slow watch; the client then resumes.
/// </summary>
internal sealed class Watcher
{
    private readonly Channel<StoreEvent> _channel = Channel.CreateUnbounded<StoreEvent>();
    private readonly CancellationTokenSource _closed = new();
    private readonly int _maxBacklog;
    private int _closedFlag;

    public Watcher(ResourceType type, string? ns, LabelSelector labels, FieldSelector fields, Func<StoredObject, string, string?> fieldReader, int maxBacklog)
    {
        Type = type;
        Namespace = ns;
        Labels = labels;
        Fields = fields;
        FieldReader = fieldReader;
        _maxBacklog = maxBacklog;
    }

    public ResourceType Type { get; }
    public string? Namespace { get; }
    public LabelSelector Labels { get; }
    public FieldSelector Fields { get; }
    private Func<StoredObject, string, string?> FieldReader { get; }
    public ChannelReader<StoreEvent> Events => _channel.Reader;
    public CancellationToken Closed => _closed.Token;
    public bool IsClosed => Volatile.Read(ref _closedFlag) == 1;
    /// <summary>Set by fault injection: the connection stays open but nothing more is written.</summary>
    public bool Frozen { get; set; }

    public bool Matches(StoredObject obj) =>
        (string.IsNullOrEmpty(Namespace) || obj.Namespace == Namespace)
        && Labels.Matches(obj.Labels)
        && (Fields.IsEmpty || Fields.Matches(field => FieldReader(obj, field)));

    /// <summary>Offers a store event, translating it for this watcher's selectors (an object leaving the selection is a DELETED).</summary>
    public void Offer(StoreEvent e)
    {
        if (IsClosed) return;
        var nowMatches = Matches(e.Object);
        var wasMatching = e.Previous is not null && Matches(e.Previous);
        StoreEvent? delivered = e.EventType switch
        {
            WatchEventTypes.Added when nowMatches => e,
            WatchEventTypes.Modified when nowMatches && wasMatching => e,
            WatchEventTypes.Modified when nowMatches => new StoreEvent(e.Type, WatchEventTypes.Added, e.Object, null),
            WatchEventTypes.Modified when wasMatching => new StoreEvent(e.Type, WatchEventTypes.Deleted, e.Object, null),
            WatchEventTypes.Deleted when nowMatches => e,
            _ => null,
        };
        if (delivered is null) return;
        if (_channel.Reader.Count >= _maxBacklog)
        {
            Close();
            return;
        }
        _channel.Writer.TryWrite(delivered);
    }

    public void Close()
    {
        if (Interlocked.Exchange(ref _closedFlag, 1) == 1) return;
        _channel.Writer.TryComplete();
        _closed.Cancel();
    }
}
