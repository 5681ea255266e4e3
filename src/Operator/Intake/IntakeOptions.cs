namespace DoraOperator.Operator.Intake;

/// <summary>How callers of the intake prove who they are.</summary>
internal enum IntakeAuth
{
    /// <summary>A Kubernetes bearer token, checked by TokenReview, then SubjectAccessReview for the target namespace.</summary>
    Kubernetes,

    /// <summary>No checks at all: anyone who reaches the port writes records. Logged as a warning at start.</summary>
    None,
}

/// <summary>The HTTP intake: its own port, separate from /metrics.</summary>
internal sealed record IntakeOptions
{
    /// <summary>Port of the intake (0 turns it off).</summary>
    public int Port { get; init; } = 8081;
    public string Address { get; init; } = "0.0.0.0";
    public IntakeAuth Auth { get; init; } = IntakeAuth.Kubernetes;
    /// <summary>Largest accepted body.</summary>
    public long MaxBodyBytes { get; init; } = 1024 * 1024;
    /// <summary>Directory holding the signed webhooks' shared secrets, a file per source (the chart mounts a Secret here); null: none.</summary>
    public string? WebhookSecretsDir { get; init; }
    /// <summary>A file of static tokens and basic-auth users, each limited to namespaces (<see cref="StaticCredentials"/>); null: none.</summary>
    public string? StaticCredentialsFile { get; init; }
    /// <summary>Requests a second each client may send (0: no limit), and the burst above it.</summary>
    public double RatePerClient { get; init; } = 50;
    public int BurstPerClient { get; init; } = 100;
    /// <summary>How long a token's review and a user's access decision are reused (kube-rbac-proxy caches likewise).</summary>
    public TimeSpan ReviewCacheTtl { get; init; } = TimeSpan.FromSeconds(10);
}
