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
/// whose member does not end, is returned unchanged, and the reader reports what is wrong with it.
/// </remarks>
internal static class ManagedFieldsCut
{
    private static ReadOnlySpan<byte> Member => "\"managedFields\":["u8;
    private static readonly SearchValues<byte> Brackets = SearchValues.Create("[]\"\\"u8);

    /// <summary>The text without its managedFields members; the same array when it has none.</summary>
    public static byte[] Without(byte[] json)
    {
        var span = json.AsSpan();
        var first = span.IndexOf(Member);
        if (first < 0) return json;
        var cuts = new List<(int Start, int End)>();
        for (var at = first; at >= 0;)
        {
            var close = EndOfArray(span, at + Member.Length - 1);
            if (close < 0) return json;
            var (start, end) = (at, close + 1);
            if (end < span.Length && span[end] == (byte)',') end++;
            else if (start > 0 && span[start - 1] == (byte)',') start--;
            cuts.Add((start, end));
            var next = span[end..].IndexOf(Member);
            at = next < 0 ? -1 : end + next;
        }
        var removed = cuts.Sum(c => c.End - c.Start);
        var result = GC.AllocateUninitializedArray<byte>(json.Length - removed);
        var (from, to) = (0, 0);
        foreach (var (start, end) in cuts)
        {
            span[from..start].CopyTo(result.AsSpan(to));
            to += start - from;
            from = end;
        }
        span[from..].CopyTo(result.AsSpan(to));
        return result;
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
