using System.Buffers.Binary;

namespace DoraOperator.Entities.BuiltIn;

/// <summary>
/// A pod template's fingerprint (<see cref="Workloads.Fingerprint(PodTemplateSpec)"/>): the first ten bytes of the
/// SHA-256 of its canonical JSON, held in the struct itself. Every cached ReplicaSet carries one, so
/// it is not a 20-character string (64 bytes on the heap, and a reference to it). Equal fingerprints
/// are equal values; <see cref="ToString"/> gives the 20 hex digits.
/// </summary>
public readonly record struct TemplateFingerprint
{
    private readonly ulong _head;
    private readonly ushort _tail;

    private TemplateFingerprint(ulong head, ushort tail) => (_head, _tail) = (head, tail);

    /// <summary>The fingerprint of a digest: its first ten bytes.</summary>
    public static TemplateFingerprint Of(ReadOnlySpan<byte> digest) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(digest), BinaryPrimitives.ReadUInt16BigEndian(digest[8..]));

    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[10];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, _head);
        BinaryPrimitives.WriteUInt16BigEndian(bytes[8..], _tail);
        return Convert.ToHexStringLower(bytes);
    }
}
