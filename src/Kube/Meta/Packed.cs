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

/// <summary>
/// A uid in 16 bytes when it is a lowercase UUID, as API servers make them (36 characters of text
/// take 94 bytes); any other text is kept as it is. Each read of a packed uid makes a new string.
/// Two are equal when their text is, so a packed uid also serves as a compact dictionary key.
/// </summary>
public readonly record struct PackedUid
{
    private readonly Guid _guid;
    private readonly string? _text;

    public PackedUid(string? value)
    {
        if (value is { Length: 36 } && Guid.TryParseExact(value, "D", out var guid) && guid != Guid.Empty && !value.AsSpan().ContainsAnyInRange('A', 'F'))
        {
            _guid = guid;
        }
        else
        {
            _text = value;
        }
    }

    public string? Value => _text ?? (_guid == Guid.Empty ? null : _guid.ToString("D"));
}

/// <summary>
/// A resourceVersion in 8 bytes when it is a plain decimal number, as etcd-backed API servers make
/// them; any other text is kept as it is (clients must treat resourceVersions as opaque, and this
/// gives back exactly the text it was given). Each read of a packed number makes a new string.
/// </summary>
public readonly struct PackedVersion
{
    private readonly long _number;
    private readonly string? _text;

    public PackedVersion(string? value)
    {
        if (value is { Length: > 0 and <= 18 } && (value.Length == 1 || value[0] != '0') && !value.AsSpan().ContainsAnyExceptInRange('0', '9'))
        {
            _number = long.Parse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture) + 1;
        }
        else
        {
            _text = value;
        }
    }

    public string? Value => _text ?? (_number == 0 ? null : (_number - 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
}

/// <summary>
/// A commit SHA in 20 bytes when it is 40 lowercase hex digits, as git prints a SHA-1 (the text
/// takes 104 bytes); any other text (short, uppercase, SHA-256, all zeros) is kept as it is. Each
/// read of a packed SHA makes a new string.
/// </summary>
public readonly struct PackedSha
{
    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");
    private readonly ulong _high;
    private readonly ulong _middle;
    private readonly uint _low;
    private readonly string? _text;

    public PackedSha(string? value)
    {
        if (value is { Length: 40 } && !value.AsSpan().ContainsAnyExcept(LowerHex) && value.AsSpan().ContainsAnyExcept('0'))
        {
            Span<byte> bytes = stackalloc byte[20];
            Convert.FromHexString(value, bytes, out _, out _);
            _high = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes);
            _middle = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
            _low = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]);
        }
        else
        {
            _text = value;
        }
    }

    public string? Value
    {
        get
        {
            if (_text is not null || (_high | _middle | _low) == 0) return _text;
            Span<byte> bytes = stackalloc byte[20];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes, _high);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], _middle);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes[16..], _low);
            return Convert.ToHexStringLower(bytes);
        }
    }
}
