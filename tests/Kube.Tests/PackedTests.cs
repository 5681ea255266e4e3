using DoraOperator.Kube.Meta;
using Xunit;

namespace DoraOperator.Kube.Tests;

public class PackedTests
{
    [Fact]
    public void Unset_ReadsAsNull()
    {
        Assert.Null(default(PackedTime).Value);
        Assert.Null(default(PackedLong).Value);
        Assert.Null(default(PackedDouble).Value);
        Assert.Null(new PackedTime(null).Value);
        Assert.Null(new PackedLong(null).Value);
        Assert.Null(new PackedDouble(null).Value);
        Assert.True(double.IsNegative(new PackedDouble(-0.0).Value!.Value));
    }

    [Fact]
    public void Time_KeepsTheInstant_ReadBackInUtc()
    {
        var local = new DateTimeOffset(2026, 11, 30, 14, 5, 6, TimeSpan.FromHours(2)).AddTicks(1234567);
        var back = new PackedTime(local).Value!.Value;
        Assert.Equal(local, back);
        Assert.Equal(local.UtcTicks, back.UtcTicks);
        Assert.Equal(TimeSpan.Zero, back.Offset);
        Assert.Equal(DateTimeOffset.MinValue, new PackedTime(DateTimeOffset.MinValue).Value);
        Assert.Equal(DateTimeOffset.MaxValue, new PackedTime(DateTimeOffset.MaxValue).Value);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(-1L)]
    [InlineData(long.MaxValue)]
    [InlineData(long.MinValue + 1)]
    public void Long_RoundTrips(long value) => Assert.Equal(value, new PackedLong(value).Value);

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.5)]
    [InlineData(-86400.25)]
    [InlineData(double.MaxValue)]
    [InlineData(double.Epsilon)]
    [InlineData(double.PositiveInfinity)]
    public void Double_RoundTripsBitForBit(double value) =>
        Assert.Equal(BitConverter.DoubleToInt64Bits(value), BitConverter.DoubleToInt64Bits(new PackedDouble(value).Value!.Value));

    [Theory]
    [InlineData("5b1f0f4e-2c3d-4e5f-8a9b-0c1d2e3f4a5b")]
    [InlineData("5B1F0F4E-2C3D-4E5F-8A9B-0C1D2E3F4A5B")]
    [InlineData("00000000-0000-0000-0000-000000000000")]
    [InlineData("{5b1f0f4e-2c3d-4e5f-8a9b-0c1d2e3f4a5b}")]
    [InlineData("5b1f0f4e2c3d4e5f8a9b0c1d2e3f4a5b")]
    [InlineData("d1")]
    [InlineData("")]
    public void Uid_GivesBackExactlyTheTextItWasGiven(string uid)
    {
        Assert.Equal(uid, new PackedUid(uid).Value);
        Assert.Equal(new PackedUid(uid), new PackedUid(new string(uid.AsSpan())));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1")]
    [InlineData("123456789")]
    [InlineData("999999999999999999")]
    [InlineData("9999999999999999999")]
    [InlineData("0123")]
    [InlineData("-5")]
    [InlineData("+5")]
    [InlineData("12a")]
    [InlineData("１２")]
    [InlineData("")]
    public void Version_GivesBackExactlyTheTextItWasGiven(string version) => Assert.Equal(version, new PackedVersion(version).Value);

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef01234567")]
    [InlineData("ffffffffffffffffffffffffffffffffffffffff")]
    [InlineData("0000000000000000000000000000000000000001")]
    [InlineData("0000000000000000000000000000000000000000")]
    [InlineData("0123456789ABCDEF0123456789ABCDEF01234567")]
    [InlineData("0123456789abcdef0123456789abcdef0123456")]
    [InlineData("0123456789abcdef0123456789abcdef012345678")]
    [InlineData("0123456789abcdef0123456789abcdef0123456g")]
    [InlineData("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    [InlineData("sha2")]
    [InlineData("")]
    public void Sha_GivesBackExactlyTheTextItWasGiven(string sha) => Assert.Equal(sha, new PackedSha(sha).Value);

    [Fact]
    public void Sha_UnsetOrNull_ReadsAsNull_AndAPackedOneIsANewStringEachRead()
    {
        Assert.Null(default(PackedSha).Value);
        Assert.Null(new PackedSha(null).Value);
        var packed = new PackedSha("89abcdef0123456789abcdef0123456789abcdef");
        Assert.NotSame(packed.Value, packed.Value);
        var kept = new PackedSha("v1.2.3");
        Assert.Same(kept.Value, kept.Value);
    }

    [Fact]
    public void Uid_And_Version_UnsetOrNull_ReadAsNull()
    {
        Assert.Null(default(PackedUid).Value);
        Assert.Null(default(PackedVersion).Value);
        Assert.Null(new PackedUid(null).Value);
        Assert.Null(new PackedVersion(null).Value);
        Assert.NotEqual(new PackedUid("5b1f0f4e-2c3d-4e5f-8a9b-0c1d2e3f4a5b"), new PackedUid("5B1F0F4E-2C3D-4E5F-8A9B-0C1D2E3F4A5B"));
        var meta = new ObjectMeta { Uid = "5b1f0f4e-2c3d-4e5f-8a9b-0c1d2e3f4a5b", ResourceVersion = "42" };
        Assert.Equal(("5b1f0f4e-2c3d-4e5f-8a9b-0c1d2e3f4a5b", "42"), (meta.Uid, meta.ResourceVersion));
        meta.Uid = null;
        meta.ResourceVersion = null;
        Assert.Equal((null, null), (meta.Uid, meta.ResourceVersion));
    }

    [Fact]
    public void ObjectMeta_And_Condition_ReadWhatWasSet()
    {
        var created = DateTimeOffset.Parse("2026-11-30T10:00:00.5Z");
        var meta = new ObjectMeta { Generation = 7, CreationTimestamp = created };
        Assert.Equal(7, meta.Generation);
        Assert.Equal(created, meta.CreationTimestamp);
        meta.Generation = null;
        meta.CreationTimestamp = null;
        Assert.Null(meta.Generation);
        Assert.Null(meta.CreationTimestamp);
        Assert.Null(new ObjectMeta().Generation);

        var condition = new Condition { ObservedGeneration = 0, LastTransitionTime = created };
        Assert.Equal(0, condition.ObservedGeneration);
        Assert.Equal(created, condition.LastTransitionTime);
        Assert.Null(new Condition().ObservedGeneration);
        Assert.Equal(default, new Condition().LastTransitionTime);
    }
}
