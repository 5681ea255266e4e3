namespace DoraOperator.Kube.Rest;

/// <summary>Reads newline-delimited frames from a watch stream as bytes arrive, never buffering the whole response.</summary>
internal sealed class WatchStreamReader(Stream stream) : IDisposable
{
    private readonly StreamWindow _window = new(stream);

    /// <summary>
    /// The next line without its newline, or null at the end of the stream. The line is the reader's
    /// own buffer, not a copy: it is the caller's (to decode, or to change in place) until the next call.
    /// </summary>
    public async ValueTask<Memory<byte>?> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var pending = _window.Pending;
            var newline = pending.Span.IndexOf((byte)'\n');
            if (newline >= 0)
            {
                _window.Consume(newline + 1);
                return pending[..newline];
            }
            if (await _window.FillAsync(cancellationToken)) continue;
            var rest = _window.Pending;
            if (rest.Length == 0) return null;
            _window.Consume(rest.Length);
            return rest;
        }
    }

    public void Dispose() => _window.Dispose();
}
