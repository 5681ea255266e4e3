namespace DoraOperator.Kube.Meta;

// Cached objects hold several optional times and numbers. A DateTimeOffset? takes 24 bytes in an
// object and a long? or double? 16; these structs take 8 each and are stored behind properties of
// the usual types, so nothing that reads or serializes the objects sees them. A field of any of
// them that was never set reads as null.

/// <summary>
/// An optional instant in 8 bytes: its UTC ticks plus one, zero for none. The offset is not kept:
/// the instant reads back in UTC, the form the API server writes every time it stamps. Equality of
/// <see cref="DateTimeOffset"/> compares instants, so comparisons see no difference either.
/// </summary>
public readonly struct PackedTime(DateTimeOffset? value)
{
    private readonly long _ticks = value is { } v ? v.UtcTicks + 1 : 0;

    public DateTimeOffset? Value => _ticks == 0 ? null : new DateTimeOffset(_ticks - 1, TimeSpan.Zero);
}

/// <summary>An optional integer in 8 bytes. <see cref="long.MinValue"/> is the one value it cannot hold: it reads back as null.</summary>
public readonly struct PackedLong(long? value)
{
    private readonly long _bits = value is { } v ? v ^ long.MinValue : 0;

    public long? Value => _bits == 0 ? null : _bits ^ long.MinValue;
}

/// <summary>
/// An optional number in 8 bytes: its bits, flipped against one quiet NaN pattern so that all-zero
/// bits mean none. That NaN pattern is the one value it cannot hold (JSON has no NaN): it reads back as null.
/// </summary>
public readonly struct PackedDouble(double? value)
{
    private const long NoneBits = 0x7FF8_0000_0000_0001;
    private readonly long _bits = value is { } v ? BitConverter.DoubleToInt64Bits(v) ^ NoneBits : 0;

    public double? Value => _bits == 0 ? null : BitConverter.Int64BitsToDouble(_bits ^ NoneBits);
}
