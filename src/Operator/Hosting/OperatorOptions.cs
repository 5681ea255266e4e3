using System.Text.RegularExpressions;
using DoraOperator.Operator.Metrics;
using Microsoft.Extensions.Options;

namespace DoraOperator.Operator.Hosting;

/// <summary>How to run the operator (flags of the default command).</summary>
internal sealed record OperatorOptions
{
    public string? Kubeconfig { get; init; }
    public string? Context { get; init; }
    /// <summary>Namespaces to watch; empty for all.</summary>
    public IReadOnlyList<string> Namespaces { get; init; } = [];
    /// <summary>Leader election on; null means "on when running in a cluster".</summary>
    public bool? LeaderElect { get; init; }
    public string LeaseName { get; init; } = "dora-operator";
    public string? LeaseNamespace { get; init; }
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(15);
    public TimeSpan RenewDeadline { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan RetryPeriod { get; init; } = TimeSpan.FromSeconds(2);
    public int HttpPort { get; init; } = 8080;
    public string HttpAddress { get; init; } = "0.0.0.0";
    /// <summary>Concurrent reconciles of the rollout tracker.</summary>
    /// <summary>
    /// A reconcile waits on two writes, so concurrency, not CPU, bounds a burst: measured (bench/Load,
    /// 1,000 rollouts at once) the last record landed 1.36 s after its rollout with 2 workers, 0.84 s
    /// with 8 and 0.27 s with 16. One Deployment is never reconciled by two workers at once.
    /// </summary>
    public const int DefaultWorkers = 16;

    public int Workers { get; init; } = DefaultWorkers;
    /// <summary>
    /// Client-side limit on API requests per second (0 turns it off), and its burst. Null: none when
    /// the API server applies Priority and Fairness (seen in its answers), else <see cref="FallbackKubeApiQps"/>.
    /// </summary>
    public double? KubeApiQps { get; init; }

    /// <summary>The limit kept against servers without API Priority and Fairness when no limit is given.</summary>
    public const double FallbackKubeApiQps = 100;

    public int KubeApiBurst { get; init; } = 200;
    /// <summary>OTLP and resource settings; null reads the OTEL_* environment variables.</summary>
    public MetricsExportOptions? MetricsExport { get; init; }
    /// <summary>
    /// The name of the operator's Meter, which its metrics pipeline listens to. The SDK listens by
    /// name to every Meter of the process, so operators sharing one process (tests) each need their own.
    /// </summary>
    public string MeterName { get; init; } = OperatorMetrics.MeterName;
    /// <summary>How often record retention runs while leading.</summary>
    public TimeSpan RetentionInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How often discovery looks for optional kinds not yet served (the Argo Rollouts CRD).</summary>
    public TimeSpan DiscoveryInterval { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>How often every project is recomputed so its window slides with no events.</summary>
    public TimeSpan RecomputeInterval { get; init; } = TimeSpan.FromMinutes(1);
    /// <summary>The HTTP intake (port 0 turns it off).</summary>
    public Intake.IntakeOptions Intake { get; init; } = new();
    /// <summary>The least time between two status writes of one project (bursts coalesce).</summary>
    public TimeSpan MinStatusInterval { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// Checks <see cref="OperatorOptions"/> at start (the host registers it with <c>ValidateOnStart</c>),
/// naming each bad value and what it must be, before anything connects.
/// </summary>
internal sealed partial class OperatorOptionsValidator : IValidateOptions<OperatorOptions>
{
    public ValidateOptionsResult Validate(string? name, OperatorOptions options)
    {
        var failures = new List<string>();
        if (options.HttpPort is < 0 or > 65535) failures.Add($"--http-port {options.HttpPort} is not a port (0-65535; 0 picks a free one)");
        if (options.Intake.Port is < 0 or > 65535) failures.Add($"--intake-port {options.Intake.Port} is not a port (0-65535; 0 turns the intake off)");
        if (options.Intake.Port != 0 && options.Intake.Port == options.HttpPort) failures.Add($"--intake-port and --http-port are both {options.HttpPort}: the intake needs its own port");
        if (options.Intake.RatePerClient < 0 || double.IsNaN(options.Intake.RatePerClient)) failures.Add($"--intake-rate {options.Intake.RatePerClient} must be 0 (no limit) or more");
        if (options.Intake.StaticCredentialsFile is { } credentials && !File.Exists(credentials)) failures.Add($"--intake-credentials-file {credentials} does not exist");
        if (options.Intake.WebhookSecretsDir is { } dir && !Directory.Exists(dir)) failures.Add($"--webhook-secrets-dir {dir} does not exist");
        if (options.Workers is < 1 or > 64) failures.Add($"--workers {options.Workers} must be between 1 and 64");
        if (options.KubeApiQps is { } qps && (qps < 0 || double.IsNaN(qps))) failures.Add($"--kube-api-qps {qps} must be 0 (off) or more");
        if (options.KubeApiBurst < 1) failures.Add($"--kube-api-burst {options.KubeApiBurst} must be at least 1");
        foreach (var ns in options.Namespaces)
        {
            if (!NamespaceName().IsMatch(ns)) failures.Add($"--namespaces: \"{ns}\" is not a namespace name (lowercase letters, digits and '-', at most 63 characters)");
        }
        if (options.Namespaces.Distinct(StringComparer.Ordinal).Count() != options.Namespaces.Count) failures.Add("--namespaces names a namespace twice");
        if (!(options.RetryPeriod > TimeSpan.Zero && options.RenewDeadline > options.RetryPeriod && options.LeaseDuration > options.RenewDeadline))
            failures.Add($"leader election needs lease duration ({options.LeaseDuration}) > renew deadline ({options.RenewDeadline}) > retry period ({options.RetryPeriod}) > 0");
        foreach (var (flag, value) in new[] { ("retention interval", options.RetentionInterval), ("recompute interval", options.RecomputeInterval) })
        {
            if (value <= TimeSpan.Zero) failures.Add($"the {flag} must be positive (is {value})");
        }
        if (options.MinStatusInterval < TimeSpan.Zero) failures.Add($"the least status interval must not be negative (is {options.MinStatusInterval})");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex NamespaceName();
}

/// <summary>
/// Hands out one options value built from the command line, validated by every registered
/// <see cref="IValidateOptions{TOptions}"/>; <c>ValidateOnStart</c> makes that happen when the host starts.
/// </summary>
internal sealed class FixedOptionsFactory<[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] T>(T value, IEnumerable<IValidateOptions<T>> validators) : IOptionsFactory<T>
    where T : class
{
    public T Create(string name)
    {
        var failures = validators.Select(v => v.Validate(name, value)).Where(r => r.Failed).SelectMany(r => r.Failures ?? []).ToList();
        if (failures.Count > 0) throw new OptionsValidationException(name, typeof(T), failures);
        return value;
    }
}
