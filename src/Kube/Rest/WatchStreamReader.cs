namespace DoraOperator.Kube.Rest;

/// <summary>Reads newline-delimited frames from a watch stream as bytes arrive, never buffering the whole response.</summary>
internal sealed class WatchStreamReader(Stream stream)
{
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    /// <summary>
    /// The next line without its newline, or null at the end of the stream. The line is the reader's
    /// own buffer, not a copy: it is the caller's (to decode, or to change in place) until the next call.
    /// </summary>
    public async ValueTask<Memory<byte>?> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                var line = _buffer.AsMemory(_start, newline - _start);
                _start = newline + 1;
                return line;
            }
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
            var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            if (read == 0)
            {
                if (_end == _start) return null;
                var rest = _buffer.AsMemory(_start, _end - _start);
                _start = _end;
                return rest;
            }
            _end += read;
        }
    }
}
