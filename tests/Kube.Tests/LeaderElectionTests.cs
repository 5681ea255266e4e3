using DoraOperator.Kube.Leadership;
using DoraOperator.Kube.Meta;
using DoraOperator.Sandbox.Faults;
using DoraOperator.Testing;

namespace DoraOperator.Kube.Tests;

/// <summary>Two electors on one Lease, with short (but realistic in ratio) durations so the suite stays fast.</summary>
public sealed class LeaderElectionTests(KubeFixture fixture) : IClassFixture<KubeFixture>
{
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromMilliseconds(1500);

    /// <summary>How far the fake clock moves at a time in the tests that drive it.</summary>
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(20);

    private sealed class Candidate(KubeFixture fixture, string ns, string name, bool release, TimeProvider? time = null) : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private Task? _run;
        public LeaderElector Elector { get; } = new(fixture.Client, new LeaderElectionOptions
        {
            LeaseName = "lock",
            Namespace = ns,
            Identity = name,
            LeaseDuration = LeaseDuration,
            RenewDeadline = TimeSpan.FromMilliseconds(1000),
            RetryPeriod = TimeSpan.FromMilliseconds(200),
            ReleaseOnCancel = release,
        }, time);
        public int Started;
        public int Stopped;
        public volatile bool Working;

        public void Start() => _run = Elector.RunAsync(async ct =>
        {
            Interlocked.Increment(ref Started);
            Working = true;
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            finally
            {
                Working = false;
            }
        }, () => Interlocked.Increment(ref Stopped), cancellationToken: _stop.Token);

        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            if (_run is not null) await _run;
        }

        public async ValueTask DisposeAsync() => await StopAsync();
    }

    [Fact]
    public async Task ExactlyOneLeads_AndTheOtherTakesOverWithinTheLeaseDuration_WhenTheLeaderDies()
    {
        var ns = await fixture.NewNamespaceAsync();
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var a = new Candidate(fixture, ns, "a", release: false, clock);
        await using var b = new Candidate(fixture, ns, "b", release: false, clock);
        a.Start();
        await FakeTime.AdvanceUntilAsync(clock, () => a.Elector.IsLeader, "a to lead", Step, LeaseDuration * 4);
        b.Start();
        // A lease and a half of (fake) time while a renews: b never takes it.
        await FakeTime.AdvanceAsync(clock, LeaseDuration * 1.5, Step);
        Assert.True(a.Elector.IsLeader);
        Assert.False(b.Elector.IsLeader);
        Assert.Equal(0, b.Started);

        await a.StopAsync();
        Assert.False(a.Working, "the old leader's work stops when it stops leading");
        var takeover = await FakeTime.AdvanceUntilAsync(clock, () => b.Elector.IsLeader, "b to take over", Step, LeaseDuration * 6);
        Assert.InRange(takeover, LeaseDuration * 0.5, LeaseDuration * 3);
        var lease = await fixture.Client.GetAsync<Lease>("lock", ns);
        Assert.Equal("b", lease.Spec.HolderIdentity);
        Assert.Equal(1, lease.Spec.LeaseTransitions);
    }

    [Fact]
    public async Task ReleaseOnShutdown_HandsOverAtOnce()
    {
        var ns = await fixture.NewNamespaceAsync();
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var a = new Candidate(fixture, ns, "a", release: true, clock);
        await using var b = new Candidate(fixture, ns, "b", release: true, clock);
        a.Start();
        await FakeTime.AdvanceUntilAsync(clock, () => a.Elector.IsLeader, "a to lead", Step, LeaseDuration * 4);
        b.Start();
        await FakeTime.AdvanceAsync(clock, TimeSpan.FromMilliseconds(400), Step);
        await a.StopAsync();
        var takeover = await FakeTime.AdvanceUntilAsync(clock, () => b.Elector.IsLeader, "b to take over", Step, LeaseDuration * 6);
        Assert.True(takeover < LeaseDuration, $"a released lease is taken without waiting for it to expire (took {takeover.TotalMilliseconds} ms of lease time)");
    }

    [Fact]
    public async Task ALeaderThatCannotRenew_StopsLeading_BeforeTheLeaseExpires_AndCampaignsAgain()
    {
        var ns = await fixture.NewNamespaceAsync();
        await using var a = new Candidate(fixture, ns, "a", release: false);
        a.Start();
        await Eventually.True(() => a.Elector.IsLeader, "a to lead");
        fixture.Server.Faults.Add(new FaultRule { Verb = "update", Resource = "leases", Namespace = ns, Code = 500, Times = 1000 });
        try
        {
            await Eventually.True(() => a.Stopped == 1, "a to stop leading");
            Assert.False(a.Working);
        }
        finally
        {
            fixture.Server.Faults.Clear();
        }
        await Eventually.True(() => a.Elector.IsLeader && a.Started == 2, "a to lead again once renewals work");
    }
}
