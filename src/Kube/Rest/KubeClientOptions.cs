namespace DoraOperator.Kube.Rest;

/// <summary>Client behaviour: rate limit, retries, timeouts. Defaults suit an operator.</summary>
public sealed record KubeClientOptions
{
    /// <summary>Requests per second allowed to the API server (client-side); 0 turns the limit off.</summary>
    public double Qps { get; init; } = 50;
    public int Burst { get; init; } = 100;

    /// <summary>
    /// Lift the client-side limit once the API server shows it applies API Priority and Fairness
    /// (its answers carry <c>X-Kubernetes-PF-FlowSchema-UID</c>): it then queues or rejects with 429
    /// and Retry-After by itself, and a client-side limit only delays work the server would take.
    /// Servers without those headers (APF off, or older than 1.20) keep <see cref="Qps"/>.
    /// </summary>
    public bool LiftLimitUnderPriorityAndFairness { get; init; }
    /// <summary>Retries of one request on 429, 5xx and connection errors (never on other 4xx).</summary>
    public int MaxRetries { get; init; } = 5;
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Timeout of a non-watch request.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>A watch that delivers no bytes (not even a bookmark) for this long is treated as dead and reopened.</summary>
    public TimeSpan WatchIdleTimeout { get; init; } = TimeSpan.FromSeconds(150);
    public string UserAgent { get; init; } = "dora-operator/0.1";
    /// <summary>Called after every response with (verb, HTTP code; 0 for a connection error), e.g. for metrics.</summary>
    public Action<string, int>? OnResponse { get; init; }
}

public enum PatchType
{
    Merge,
    Json,
    Strategic,
}

/// <summary>
/// List parameters; <see cref="Limit"/> is the page size of the automatic paging.
/// <see cref="UnknownFields"/>: what the decoder does with fields the types do not name (<see cref="Rest.UnknownFields"/>).
/// </summary>
public sealed record ListOptions(string? LabelSelector = null, string? FieldSelector = null, int Limit = 500, UnknownFields UnknownFields = UnknownFields.Keep);

/// <summary>Watch parameters. The server ends the watch after <see cref="Timeout"/>. <see cref="UnknownFields"/> as for <see cref="ListOptions"/>.</summary>
public sealed record WatchOptions(string? ResourceVersion = null, string? LabelSelector = null, string? FieldSelector = null, TimeSpan? Timeout = null, bool AllowBookmarks = true, UnknownFields UnknownFields = UnknownFields.Keep);

public enum WatchEventType
{
    Added,
    Modified,
    Deleted,
    Bookmark,
    Error,
}

/// <summary>One watch event; <see cref="Error"/> is set for ERROR events (e.g. 410 Expired).</summary>
public sealed record WatchEvent<T>(WatchEventType Type, T? Object, Meta.Status? Error);

/// <summary>A watch delivered no bytes within the idle timeout: the connection is presumed dead.</summary>
public sealed class WatchStalledException(TimeSpan idle) : Exception($"watch delivered nothing for {idle.TotalSeconds:0.#} s; treating the connection as dead");
