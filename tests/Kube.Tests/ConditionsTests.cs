using DoraOperator.Kube.Meta;

namespace DoraOperator.Kube.Tests;

public sealed class ConditionsTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 30, 9, 21, 37, TimeSpan.Zero);

    [Fact]
    public void ANewConditionGetsAWholeSecondTransitionTimeAsMetav1TimeStoresIt()
    {
        List<Condition>? list = null;
        Assert.True(Conditions.Set(ref list, "Ready", true, "Calculated", "ok", At.AddTicks(5_046_640)));
        Assert.Equal(At, list![0].LastTransitionTime);
        Assert.Equal("2026-11-30T09:21:37Z", KubeTimeConverter.Format(list[0].LastTransitionTime));
    }

    [Fact]
    public void TheTransitionTimeMovesOnlyWhenTheStatusFlips()
    {
        List<Condition>? list = null;
        Conditions.Set(ref list, "Ready", true, "Calculated", "ok", At);
        Assert.True(Conditions.Set(ref list, "Ready", true, "Calculated", "still ok", At.AddMinutes(5)));
        Assert.Equal(At, list![0].LastTransitionTime);
        Assert.False(Conditions.Set(ref list, "Ready", true, "Calculated", "still ok", At.AddMinutes(6)));
        Assert.True(Conditions.Set(ref list, "Ready", false, "NoDeployments", "none", At.AddMinutes(7).AddMilliseconds(250)));
        Assert.Equal(At.AddMinutes(7), list![0].LastTransitionTime);
    }
}
