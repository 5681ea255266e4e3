using System.Buffers;

namespace DoraOperator.Kube.Rest;

/// <summary>
/// Cuts every <c>"managedFields":[...]</c> member out of compact JSON text, for reads that skip
/// unknown fields in metadata anyway (<see cref="UnknownFields.SkipInMetadata"/> and
/// <see cref="UnknownFields.Skip"/>). API servers add managedFields to every object, often a third
/// of its bytes or more; skipping them token by token was the largest single cost of decoding a
/// watch event. Finding the member's end needs only its brackets and strings, found with a
/// vectorized search, so the cut costs a fraction of tokenizing it.
/// </summary>
/// <remarks>
/// The member is found by its exact compact text: in valid JSON that text cannot occur inside a
/// string (a quote there is escaped) and field names hold no quotes. Text that is not compact, or
/// whose member does not end, is left as it is, and the reader reports what is wrong with it.
/// </remarks>
internal static class ManagedFieldsCut
{
    private static ReadOnlySpan<byte> Member => "\"managedFields\":["u8;
    private static readonly SearchValues<byte> Brackets = SearchValues.Create("[]\"\\"u8);
    private static ReadOnlySpan<byte> Whitespace => " \t\r\n"u8;

    /// <summary>
    /// Cuts the managedFields members out of <paramref name="json"/> in place, moving what follows
    /// each one down; returns the length of what is left (the whole length when there is none).
    /// </summary>
    public static int Cut(Span<byte> json)
    {
        var at = json.IndexOf(Member);
        if (at < 0) return json.Length;
        var (kept, from) = (0, 0);
        while (at >= 0)
        {
            var close = EndOfArray(json, at + Member.Length - 1);
            if (close < 0) break;
            var (start, end) = (at, close + 1);
            // The comma after the member goes with it, or, for the last member, the one before it
            // (whitespace around them is allowed in JSON, though servers write none).
            var after = json.Length - json[end..].TrimStart(Whitespace).Length;
            var before = from + json[from..start].TrimEnd(Whitespace).Length;
            if (after < json.Length && json[after] == (byte)',') end = after + 1;
            else if (before > from && json[before - 1] == (byte)',') start = before - 1;
            json[from..start].CopyTo(json[kept..]);
            kept += start - from;
            from = end;
            var next = json[from..].IndexOf(Member);
            at = next < 0 ? -1 : from + next;
        }
        json[from..].CopyTo(json[kept..]);
        return kept + json.Length - from;
    }

    /// <summary>The index of the <c>]</c> that closes the array opened at <paramref name="open"/>; -1 if it never closes.</summary>
    private static int EndOfArray(ReadOnlySpan<byte> json, int open)
    {
        var depth = 0;
        for (var i = open; i < json.Length;)
        {
            var next = json[i..].IndexOfAny(Brackets);
            if (next < 0) return -1;
            i += next;
            switch (json[i])
            {
                case (byte)'[':
                    depth++;
                    break;
                case (byte)']':
                    if (--depth == 0) return i;
                    break;
                case (byte)'"':
                    i = EndOfString(json, i + 1);
                    if (i < 0) return -1;
                    break;
            }
            i++;
        }
        return -1;
    }

    /// <summary>The index of the quote that ends the string starting at <paramref name="i"/>; -1 if it never ends.</summary>
    private static int EndOfString(ReadOnlySpan<byte> json, int i)
    {
        while (i < json.Length)
        {
            var next = json[i..].IndexOfAny((byte)'"', (byte)'\\');
            if (next < 0) return -1;
            i += next;
            if (json[i] == (byte)'"') return i;
            i += 2;
        }
        return -1;
    }
}
