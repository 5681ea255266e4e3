using System.Buffers;

namespace DoraOperator.Kube.Rest;

/// <summary>
/// A response body read as its bytes arrive: the bytes received and not yet consumed, in one buffer
/// rented from the shared pool that doubles only when a single unit (a watch event's line, a list
/// item) does not fit. The watch reader and the list decoder both read through it, so neither ever
/// holds a whole response.
/// </summary>
internal sealed class StreamWindow(Stream stream, int initialSize = 64 * 1024) : IDisposable
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(initialSize);
    private int _start;
    private int _end;

    /// <summary>The stream has ended: <see cref="Pending"/> is all there will be.</summary>
    public bool Ended { get; private set; }

    /// <summary>The bytes received and not yet consumed; valid (and the caller's to change in place) until the next <see cref="FillAsync"/>.</summary>
    public Memory<byte> Pending => _buffer.AsMemory(_start, _end - _start);

    public void Consume(int count) => _start += count;

    /// <summary>Reads more after what is pending (moving it to the front, or into a buffer twice the size when it fills this one); false once the stream has ended.</summary>
    public async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            (_end, _start) = (_end - _start, 0);
        }
        if (_end == _buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
            _buffer.AsSpan(0, _end).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }
        var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        _end += read;
        Ended = read == 0;
        return !Ended;
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        (_start, _end) = (0, 0);
    }
}
