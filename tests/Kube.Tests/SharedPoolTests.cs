using DoraOperator.Kube.Meta;
using Xunit;

namespace DoraOperator.Kube.Tests;

public class SharedPoolTests
{
    [Fact]
    public void EqualContent_GetsTheFirstValueMade()
    {
        var pool = new SharedPool<string, string>(static s => s, StringComparer.Ordinal);
        var first = pool.Share(new string('a', 3), static s => s);
        var second = pool.Share(new string('a', 3), static s => s);
        Assert.Same(first, second);
        Assert.Equal(1, pool.Count);
    }

    [Fact]
    public void PastItsCapacity_ItMakesValuesButKeepsNoMore()
    {
        var pool = new SharedPool<int, string>(static s => int.Parse(s.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture), capacity: 2);
        var made = 0;
        string Share(int key) => pool.Share(key, k => { made++; return $"v{k}"; });
        var one = Share(1);
        Share(2);
        var three = Share(3);
        Assert.Equal("v3", three);
        Assert.Equal(2, pool.Count);
        Assert.Same(one, Share(1));
        Assert.NotSame(three, Share(3));
        Assert.Equal(4, made);
    }

    [Fact]
    public void ManyThreadsSharingTheSameKeys_CountEachOnceAndAgreeOnOneValue()
    {
        var pool = new SharedPool<string, string>(static s => s, StringComparer.Ordinal);
        var keys = Enumerable.Range(0, 2_000).Select(i => $"key-{i}").ToArray();
        var seen = new string[8][];
        Parallel.For(0, 8, t => seen[t] = [.. keys.Select(k => pool.Share(new string(k.AsSpan()), static s => new string(s.AsSpan())))]);
        Assert.Equal(keys.Length, pool.Count);
        for (var i = 0; i < keys.Length; i++)
        {
            Assert.All(seen, s => Assert.Same(seen[0][i], s[i]));
        }
    }

    [Fact]
    public void StringPool_ReturnsOneCopyOfEachShortString_AndLongOnesAsGiven()
    {
        var a = StringPool.Intern(new string('x', 40));
        Assert.Same(a, StringPool.Intern(new string('x', 40)));
        var longText = new string('y', 200);
        Assert.Same(longText, StringPool.Intern(longText));
        Assert.Null(StringPool.Intern(null));
    }
}
