using System.Threading.Channels;

namespace DoraOperator.Sandbox.Controllers;

/// <summary>
/// The loop every simulated controller shares: keys queued by store events, one reconcile at a time,
/// a conflicting or vanished object left to the event that follows, any other failure logged
/// without stopping the controller.
/// </summary>
public abstract class SimulatedController<TKey> : IAsyncDisposable
{
    private readonly Channel<TKey> _queue = Channel.CreateUnbounded<TKey>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    /// <summary>How the controller names itself in its log lines.</summary>
    protected abstract string Name { get; }

    /// <summary>Starts the loop; call once, after the subclass is ready to reconcile.</summary>
    protected void Start() => _loop = Task.Run(RunAsync);

    protected void Enqueue(TKey key) => _queue.Writer.TryWrite(key);

    private protected abstract void Reconcile(TKey key);

    private async Task RunAsync()
    {
        await foreach (var key in _queue.Reader.ReadAllAsync(_stop.Token))
        {
            try
            {
                Reconcile(key);
            }
            catch (Http.ApiException e) when (e.Code is 404 or 409)
            {
                // Gone, or changed under us: its event requeues it.
            }
            catch (Exception e)
            {
                await Console.Error.WriteLineAsync($"sandbox {Name} controller: reconciling {key} failed: {e}");
            }
        }
    }

    /// <summary>Releases what the subclass holds (timers) before the loop stops.</summary>
    protected virtual void OnDispose()
    {
    }

    public async ValueTask DisposeAsync()
    {
        OnDispose();
        await _stop.CancelAsync();
        try
        {
            if (_loop is not null) await _loop;
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }
}
