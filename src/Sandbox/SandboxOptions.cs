using DoraOperator.Sandbox.Controllers;

namespace DoraOperator.Sandbox;

/// <summary>How to start a Sandbox API server.</summary>
public sealed record SandboxOptions
{
    /// <summary>TCP port on 127.0.0.1; 0 picks a free one.</summary>
    public int Port { get; init; }

    /// <summary>Serve HTTPS with a generated CA (what real clusters do). False serves plain HTTP.</summary>
    public bool Https { get; init; } = true;

    /// <summary>The clock for object timestamps, watch timeouts, bookmarks and simulated rollouts.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Events kept per resource; a watch from an older resourceVersion gets 410 Gone.</summary>
    public int WatchHistory { get; init; } = 10_000;

    /// <summary>How often a watch that asked for bookmarks gets one (a real server sends about one a minute).</summary>
    public TimeSpan BookmarkInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a watch without <c>timeoutSeconds</c> stays open.</summary>
    public TimeSpan DefaultWatchTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Run the simulated Deployment, StatefulSet and DaemonSet controllers.</summary>
    public bool DeploymentController { get; init; } = true;

    /// <summary>Default pace of simulated rollouts.</summary>
    public RolloutPace RolloutPace { get; init; } = RolloutPace.Immediate;

    /// <summary>Accept requests without credentials (as user system:anonymous). Off, like a real server.</summary>
    public bool AllowAnonymous { get; init; }

    /// <summary>The admin bearer token written into the kubeconfig; generated when null.</summary>
    public string? AdminToken { get; init; }

    /// <summary>How requests are authorized: AlwaysAllow (default) or RBAC from the Roles and bindings stored in the Sandbox.</summary>
    public Security.AuthorizationMode Authorization { get; init; } = Security.AuthorizationMode.AlwaysAllow;

    /// <summary>
    /// Record every write in <c>metadata.managedFields</c>, as a real server does. Off leaves only
    /// server-side apply's entries: for measuring what managedFields cost a client.
    /// </summary>
    public bool ManagedFields { get; init; } = true;

    /// <summary>
    /// Answer as a server with API Priority and Fairness (Kubernetes 1.20 and later, on by default):
    /// every answer carries <c>X-Kubernetes-PF-FlowSchema-UID</c> and <c>X-Kubernetes-PF-PriorityLevel-UID</c>.
    /// Off: as an older server, or one with APF disabled.
    /// </summary>
    public bool PriorityAndFairness { get; init; } = true;

    /// <summary>
    /// Requests served at once (watches, which are long-running, not counted); one more is rejected
    /// with 429 and <c>Retry-After: 1</c>, as an overloaded kube-apiserver does. 600 is
    /// kube-apiserver's default (400 reads and 200 writes in flight); 0 is no limit.
    /// </summary>
    public int MaxRequestsInFlight { get; init; } = 600;

    /// <summary>Where to write a kubeconfig for kubectl and clients; none when null.</summary>
    public string? KubeconfigPath { get; init; }
}
