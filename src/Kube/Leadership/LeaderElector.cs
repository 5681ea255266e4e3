using DoraOperator.Kube.Meta;
using DoraOperator.Kube.Rest;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DoraOperator.Kube.Leadership;

/// <summary>Lease-based leader election settings (client-go defaults: 15 s / 10 s / 2 s).</summary>
public sealed record LeaderElectionOptions
{
    public required string LeaseName { get; init; }
    public required string Namespace { get; init; }
    /// <summary>Unique per process: <c>&lt;pod or host&gt;_&lt;uuid&gt;</c> by default.</summary>
    public string Identity { get; init; } = $"{Environment.GetEnvironmentVariable("POD_NAME") ?? Environment.MachineName}_{Guid.NewGuid()}";
    /// <summary>How long followers wait, from when they last saw the lease change, before taking it over.</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(15);
    /// <summary>How long the leader keeps trying to renew before it gives up leading. Must be less than LeaseDuration.</summary>
    public TimeSpan RenewDeadline { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan RetryPeriod { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>On shutdown, clear the lease so another replica takes over at once.</summary>
    public bool ReleaseOnCancel { get; init; } = true;
}

/// <summary>
/// Leader election on a coordination.k8s.io/v1 Lease, following client-go: followers trust only
/// their own clock (a lease counts as expired LeaseDuration after they last saw it change, whatever
/// its timestamps say); the leader renews every RetryPeriod and stops leading (cancelling the
/// leadership token) if it cannot renew within RenewDeadline, which is shorter than LeaseDuration,
/// so its work stops before anyone else can take over. After losing, it goes back to candidacy and
/// never gives up.
/// </summary>
public sealed class LeaderElector(KubeApiClient client, LeaderElectionOptions options, TimeProvider? time = null, ILogger? logger = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private string? _observedHolder;
    private string? _observedResourceVersion;
    private DateTimeOffset _observedAt;
    private volatile bool _leading;

    public string Identity => options.Identity;
    public bool IsLeader => _leading;
    /// <summary>The holder this elector last saw.</summary>
    public string? CurrentLeader => _observedHolder;

    /// <summary>
    /// Campaigns until <paramref name="cancellationToken"/> is cancelled. While leading,
    /// <paramref name="lead"/> runs with a token that is cancelled the moment leadership is lost.
    /// </summary>
    public async Task RunAsync(Func<CancellationToken, Task> lead, Action? stoppedLeading = null, Action<string>? newLeader = null, CancellationToken cancellationToken = default)
    {
        if (options.RenewDeadline >= options.LeaseDuration) throw new InvalidOperationException($"leader election for {options.Namespace}/{options.LeaseName}: RenewDeadline ({options.RenewDeadline}) must be shorter than LeaseDuration ({options.LeaseDuration})");
        string? lastLeader = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            // Candidate: try until we hold the lease.
            while (!cancellationToken.IsCancellationRequested)
            {
                var acquired = await TryAcquireOrRenewAsync(cancellationToken);
                if (_observedHolder != lastLeader && !string.IsNullOrEmpty(_observedHolder))
                {
                    lastLeader = _observedHolder;
                    newLeader?.Invoke(lastLeader);
                }
                if (acquired) break;
                await DelayAsync(Jitter(options.RetryPeriod), cancellationToken);
            }
            if (cancellationToken.IsCancellationRequested) break;

            _leading = true;
            LeaderElectorLog.BecameLeader(_logger, Identity, options.Namespace, options.LeaseName);
            using var leadership = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var work = Task.Run(() => lead(leadership.Token), CancellationToken.None);
            var lastRenew = _time.GetUtcNow();
            while (!cancellationToken.IsCancellationRequested)
            {
                await DelayAsync(options.RetryPeriod, cancellationToken);
                if (cancellationToken.IsCancellationRequested) break;
                if (await TryAcquireOrRenewAsync(cancellationToken))
                {
                    lastRenew = _time.GetUtcNow();
                }
                else if (_time.GetUtcNow() - lastRenew >= options.RenewDeadline || (_observedHolder is not null && _observedHolder != Identity))
                {
                    LeaderElectorLog.Lost(_logger, Identity, options.Namespace, options.LeaseName);
                    break;
                }
            }
            _leading = false;
            await leadership.CancelAsync();
            try
            {
                await work;
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception e)
            {
                LeaderElectorLog.WorkFailed(_logger, e, Identity);
            }
            stoppedLeading?.Invoke();
            if (cancellationToken.IsCancellationRequested && options.ReleaseOnCancel) await ReleaseAsync();
        }
    }

    private async Task<bool> TryAcquireOrRenewAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        try
        {
            var lease = await client.TryGetAsync<Lease>(options.LeaseName, options.Namespace, cancellationToken);
            if (lease is null)
            {
                var created = await client.CreateAsync(new Lease
                {
                    Metadata = new ObjectMeta { Name = options.LeaseName, Namespace = options.Namespace },
                    Spec = new LeaseSpec
                    {
                        HolderIdentity = Identity,
                        LeaseDurationSeconds = (int)Math.Ceiling(options.LeaseDuration.TotalSeconds),
                        AcquireTime = now,
                        RenewTime = now,
                        LeaseTransitions = 0,
                    },
                }, cancellationToken);
                Observe(created, now);
                return true;
            }
            if (lease.Metadata.ResourceVersion != _observedResourceVersion) Observe(lease, now);
            var holder = lease.Spec.HolderIdentity;
            var heldByOther = !string.IsNullOrEmpty(holder) && holder != Identity;
            if (heldByOther && now < _observedAt + options.LeaseDuration) return false;

            var spec = lease.Spec;
            if (holder != Identity)
            {
                spec.AcquireTime = now;
                spec.LeaseTransitions = (spec.LeaseTransitions ?? 0) + (string.IsNullOrEmpty(holder) ? 0 : 1);
            }
            spec.HolderIdentity = Identity;
            spec.LeaseDurationSeconds = (int)Math.Ceiling(options.LeaseDuration.TotalSeconds);
            spec.RenewTime = now;
            var updated = await client.ReplaceAsync(lease, cancellationToken);
            Observe(updated, now);
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: a request in flight when the caller cancelled is not an error.
            return false;
        }
        catch (KubeApiException e) when (e.IsConflict || e.IsAlreadyExists)
        {
            return false;
        }
        catch (Exception e) when (e is KubeApiException or HttpRequestException or TimeoutException)
        {
            LeaderElectorLog.NotRenewed(_logger, Identity, options.Namespace, options.LeaseName, e.Message);
            return false;
        }
    }

    private void Observe(Lease lease, DateTimeOffset now)
    {
        _observedHolder = lease.Spec.HolderIdentity;
        _observedResourceVersion = lease.Metadata.ResourceVersion;
        _observedAt = now;
    }

    /// <summary>Gives the lease up so a follower can take it at once.</summary>
    private async Task ReleaseAsync()
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var lease = await client.TryGetAsync<Lease>(options.LeaseName, options.Namespace, cts.Token);
            if (lease is null || lease.Spec.HolderIdentity != Identity) return;
            var now = _time.GetUtcNow();
            lease.Spec.HolderIdentity = null;
            lease.Spec.LeaseDurationSeconds = 1;
            lease.Spec.RenewTime = now;
            lease.Spec.AcquireTime = now;
            await client.ReplaceAsync(lease, cts.Token);
            LeaderElectorLog.Released(_logger, Identity, options.Namespace, options.LeaseName);
        }
        catch (Exception e) when (e is KubeApiException or HttpRequestException or OperationCanceledException or TimeoutException)
        {
            LeaderElectorLog.ReleaseFailed(_logger, Identity, e.Message);
        }
    }

    private async Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, _time, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static TimeSpan Jitter(TimeSpan period) => period * (1 + Random.Shared.NextDouble() * 0.2);
}
