using DoraOperator.Kube.Config;
using DoraOperator.Kube.Events;
using DoraOperator.Kube.Leadership;
using DoraOperator.Kube.Rest;
using DoraOperator.Operator.Caching;
using DoraOperator.Operator.Incidents;
using DoraOperator.Operator.Metrics;
using DoraOperator.Operator.Projects;
using DoraOperator.Operator.Rollouts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DoraOperator.Operator.Hosting;

/// <summary>A configuration or connection problem that stops the operator, with what to do about it.</summary>
internal sealed class OperatorStartupException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Whether this replica leads now (always, without leader election).</summary>
internal sealed class Leadership
{
    private Func<bool> _isLeader = () => false;

    public bool IsLeader => _isLeader();

    internal void Follow(Func<bool> isLeader) => _isLeader = isLeader;
}

/// <summary>
/// The running operator, composed with the Generic Host's DI container (the ASP.NET Core host that
/// also serves HTTP): validates its options, connects (kubeconfig or in-cluster), checks the API
/// server answers, warms the shared cache on every replica, and runs the controllers while it leads.
/// Serves <c>/healthz</c> (the process is alive) and <c>/readyz</c> (the cache has synced).
/// </summary>
internal sealed partial class OperatorHost : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _running = [];
    private readonly WebApplication _web;
    private int _disposed;

    private OperatorHost(WebApplication web)
    {
        _web = web;
        Services = web.Services;
    }

    public IServiceProvider Services { get; }
    public OperatorCache Cache => Services.GetRequiredService<OperatorCache>();
    public RolloutTracker Tracker => Services.GetRequiredService<RolloutTracker>();
    public IncidentController Incidents => Services.GetRequiredService<IncidentController>();
    public ProjectAggregator Aggregator => Services.GetRequiredService<ProjectAggregator>();
    public DoraLedger Ledger => Services.GetRequiredService<DoraLedger>();
    public OperatorMetrics Metrics => Services.GetRequiredService<OperatorMetrics>();
    public MetricsPipeline MetricsPipeline => Services.GetRequiredService<MetricsPipeline>();
    public LeaderElector? Elector { get; private set; }
    public Uri? HttpUrl { get; private set; }

    /// <summary>The intake's base URL, or null when it is off.</summary>
    public Uri? IntakeUrl { get; private set; }
    public bool Ready => Cache.HasSynced;

    /// <summary>The client-side rate limit as the start-up log states it.</summary>
    public string ClientRateLimit { get; private set; } = "";

    /// <summary>Whether API requests wait for the client-side limit now.</summary>
    public bool ClientRateLimited => Services.GetRequiredService<KubeApiClient>().RateLimited;

    /// <summary>True while this replica leads (always, without leader election).</summary>
    public bool IsLeader => Services.GetRequiredService<Leadership>().IsLeader;

    public static async Task<OperatorHost> StartAsync(OperatorOptions options, ILoggerFactory loggers, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        time ??= TimeProvider.System;
        var logger = loggers.CreateLogger<OperatorHost>();
        var failures = new OperatorOptionsValidator().Validate(null, options);
        if (failures.Failed) throw new OperatorStartupException(string.Join("; ", failures.Failures!));
        KubeConnection connection;
        try
        {
            connection = KubeConfigLoader.LoadDefault(options.Kubeconfig, options.Context);
        }
        catch (KubeConfigException e)
        {
            throw new OperatorStartupException(e.Message, e);
        }

        var host = new OperatorHost(Build(options, connection, loggers, time));
        try
        {
            await host._web.StartAsync(cancellationToken);
        }
        catch (OptionsValidationException e)
        {
            await host._web.DisposeAsync();
            throw new OperatorStartupException(string.Join("; ", e.Failures), e);
        }
        host.HttpUrl = Http.EmbeddedWeb.BaseUrl(host._web);
        var client = host.Services.GetRequiredService<KubeApiClient>();
        try
        {
            var version = await client.GetServerVersionAsync(cancellationToken);
            Log.Connected(logger, connection.Server.ToString(), version, connection.Source);
            host.ClientRateLimit = RateLimitText(options, client);
            Log.RateLimit(logger, host.ClientRateLimit);
        }
        catch (Exception e) when (e is HttpRequestException or KubeApiException or TimeoutException or KubeConfigException)
        {
            await host._web.StopAsync(CancellationToken.None);
            await host._web.DisposeAsync();
            throw new OperatorStartupException(
                $"cannot reach the Kubernetes API server at {connection.Server} (from {connection.Source}): {e.Message}. " +
                "Check the cluster and your credentials, or try DoraOperator without a cluster: dotnet run --project src/Sandbox, then run the operator with --kubeconfig sandbox.kubeconfig.", e);
        }
        host.Run(options, connection, loggers, time);
        if (options.Intake.Port != 0)
        {
            try
            {
                var intake = host.Services.GetRequiredService<Intake.IntakeServer>();
                await intake.StartAsync(cancellationToken);
                host.IntakeUrl = intake.Url;
            }
            catch (IOException e)
            {
                await host.DisposeAsync();
                throw new OperatorStartupException($"the intake port {options.Intake.Port} is not free ({e.Message}); pass --intake-port with another port, or 0 to turn the intake off", e);
            }
        }
        return host;
    }

    private static WebApplication Build(OperatorOptions options, KubeConnection connection, ILoggerFactory loggers, TimeProvider time)
    {
        var builder = Http.EmbeddedWeb.CreateBuilder(options.HttpAddress, options.HttpPort);
        var services = builder.Services;
        services.AddSingleton(loggers);
        services.AddSingleton(time);
        services.AddSingleton<IValidateOptions<OperatorOptions>, OperatorOptionsValidator>();
        services.AddSingleton<IOptionsFactory<OperatorOptions>>(sp => new FixedOptionsFactory<OperatorOptions>(options, sp.GetServices<IValidateOptions<OperatorOptions>>()));
        services.AddOptions<OperatorOptions>().ValidateOnStart();
        services.AddSingleton(connection);
        services.AddSingleton(ReplicaIdentity.New());
        services.AddSingleton<Leadership>();
        services.AddSingleton(sp => new OperatorMetrics(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), options.MeterName));
        services.AddSingleton(sp =>
        {
            var export = options.MetricsExport ?? MetricsExportOptions.FromEnvironment();
            var leadership = sp.GetRequiredService<Leadership>();
            var pipeline = new MetricsPipeline(export, () => leadership.IsLeader, options.MeterName);
            var log = sp.GetRequiredService<ILogger<MetricsPipeline>>();
            pipeline.Exposition.Overflowed = name => Log.SeriesOverflow(log, name, export.SeriesLimit(name), export.MaxProjects);
            return pipeline;
        });
        services.AddSingleton(sp => new KubeApiClient(connection, new KubeClientOptions
        {
            MaxRetries = 2, Qps = options.KubeApiQps ?? OperatorOptions.FallbackKubeApiQps, Burst = options.KubeApiBurst, LiftLimitUnderPriorityAndFairness = options.KubeApiQps is null, OnResponse = sp.GetRequiredService<OperatorMetrics>().ApiResponse,
        }, time));
        services.AddSingleton(sp => new EventRecorder(sp.GetRequiredService<KubeApiClient>(), "dora-operator", sp.GetRequiredService<ReplicaIdentity>().Value, time, sp.GetRequiredService<ILogger<EventRecorder>>()));
        services.AddSingleton(sp => new OperatorCache(sp.GetRequiredService<KubeApiClient>(), options.Namespaces, time, sp.GetRequiredService<ILogger<OperatorCache>>(), options.DiscoveryInterval));
        services.AddSingleton(sp => new RolloutTracker(sp.GetRequiredService<KubeApiClient>(), sp.GetRequiredService<EventRecorder>(), sp.GetRequiredService<OperatorCache>(), time, sp.GetRequiredService<ILogger<RolloutTracker>>(),
            new RolloutOptions { Workers = options.Workers, RetentionInterval = options.RetentionInterval, OnReconciled = sp.GetRequiredService<OperatorMetrics>().Reconciled }));
        services.AddSingleton(sp => new IncidentController(sp.GetRequiredService<KubeApiClient>(), sp.GetRequiredService<EventRecorder>(), sp.GetRequiredService<OperatorCache>(), time, sp.GetRequiredService<ILogger<IncidentController>>(),
            sp.GetRequiredService<OperatorMetrics>().Reconciled));
        services.AddSingleton(sp => new ProjectAggregator(sp.GetRequiredService<KubeApiClient>(), sp.GetRequiredService<OperatorCache>(), time, sp.GetRequiredService<ILogger<ProjectAggregator>>(), new ProjectOptions
        {
            RecomputeInterval = options.RecomputeInterval,
            MinWriteInterval = options.MinStatusInterval,
            MinComputeInterval = options.MinStatusInterval < TimeSpan.FromSeconds(1) ? options.MinStatusInterval : TimeSpan.FromSeconds(1),
            OnReconciled = sp.GetRequiredService<OperatorMetrics>().Reconciled,
        }));
        services.AddSingleton<DoraLedger>();
        services.AddSingleton(options.Intake);
        services.AddSingleton<Intake.IntakeRouter>();
        services.AddSingleton<Intake.IntakeStore>();
        services.AddSingleton(new Intake.StaticCredentials(options.Intake.StaticCredentialsFile));
        services.AddSingleton<Intake.IntakeAuthorizer>();
        services.AddSingleton<Intake.RestIntake>();
        services.AddSingleton(sp => new Intake.AlertmanagerWebhook(sp.GetRequiredService<Intake.IntakeRouter>(), sp.GetRequiredService<Intake.IntakeStore>(),
            sp.GetRequiredService<Intake.IntakeAuthorizer>(), options.Intake, sp.GetRequiredService<OperatorMetrics>().Unrouted));
        services.AddSingleton(new Intake.WebhookSecrets(options.Intake.WebhookSecretsDir));
        services.AddSingleton(sp => new Intake.WebhookContext(sp.GetRequiredService<Intake.IntakeRouter>(), sp.GetRequiredService<Intake.IntakeStore>(),
            sp.GetRequiredService<Intake.WebhookSecrets>(), options.Intake, sp.GetRequiredService<OperatorMetrics>().Unrouted));
        services.AddSingleton<Intake.GitHubWebhook>();
        services.AddSingleton<Intake.GitLabWebhook>();
        services.AddSingleton<Intake.PagerDutyWebhook>();
        services.AddSingleton<Intake.OpsgenieWebhook>();
        services.AddSingleton<Intake.JiraWebhook>();
        services.AddSingleton<Intake.ClientRateLimiter>();
        services.AddSingleton<Intake.IntakeServer>();

        var web = builder.Build();
        web.MapGet("/healthz", () => Results.Text("ok"));
        web.MapGet("/readyz", (OperatorCache cache) => cache.HasSynced ? Results.Text("ok") : Results.Text("caches not synced yet", statusCode: 503));
        web.MapGet("/metrics", async (HttpContext context, MetricsPipeline pipeline) =>
        {
            var openMetrics = PrometheusExposition.WantsOpenMetrics(context.Request.Headers.Accept);
            var (buffer, length) = pipeline.Exposition.RentUtf8(openMetrics);
            try
            {
                context.Response.ContentType = openMetrics ? PrometheusExposition.OpenMetricsContentType : PrometheusExposition.TextContentType;
                context.Response.ContentLength = length;
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, length), context.RequestAborted);
            }
            finally
            {
                pipeline.Exposition.ReturnUtf8(buffer);
            }
        });
        ProjectApi.Map(web, web.Services.GetRequiredService<OperatorCache>(), web.Services.GetRequiredService<ProjectAggregator>());
        Insights.Dashboard.Map(web, web.Services.GetRequiredService<OperatorCache>(), web.Services.GetRequiredService<ProjectAggregator>());
        return web;
    }

    /// <summary>What the client-side rate limit is, and why, for the start-up log.</summary>
    internal static string RateLimitText(OperatorOptions options, KubeApiClient client) => options.KubeApiQps switch
    {
        0 => "off (--kube-api-qps 0)",
        { } qps => FormattableString.Invariant($"{qps} requests/s, burst {options.KubeApiBurst} (--kube-api-qps)"),
        null when client.ServerAppliesPriorityAndFairness => "off: the API server applies Priority and Fairness (it queues, or answers 429 with Retry-After, which is honoured)",
        null => FormattableString.Invariant($"{OperatorOptions.FallbackKubeApiQps} requests/s, burst {options.KubeApiBurst}: the API server does not announce Priority and Fairness"),
    };

    /// <summary>This replica's holder identity (lease holder, event instance): the pod name (or host name) and a fresh UID.</summary>
    internal sealed record ReplicaIdentity(string Value)
    {
        public static ReplicaIdentity New() => new($"{Environment.GetEnvironmentVariable("POD_NAME") ?? Environment.MachineName}_{Guid.NewGuid()}");
    }

    /// <summary>Warms the cache and feeds the ledger on every replica; runs the controllers while leading.</summary>
    private void Run(OperatorOptions options, KubeConnection connection, ILoggerFactory loggers, TimeProvider time)
    {
        var cache = Cache;
        var (tracker, incidents, aggregator) = (Tracker, Incidents, Aggregator);
        var metrics = Metrics;
        _ = MetricsPipeline; // the SDK listens from here on
        metrics.Observe(
            () => [("rollouts", tracker.QueueDepth), ("incidents", incidents.QueueDepth), ("projects", aggregator.QueueDepth)],
            () => cache.WatchStats,
            () => IsLeader,
            () => aggregator.LastReports);
        var stopping = _stop.Token;
        _running.Add(Ledger.RunAsync(stopping));
        _running.Add(cache.StartAsync(stopping));
        _running.Add(CompactWhenQuietAsync(cache, tracker, time, loggers.CreateLogger<OperatorHost>(), stopping));
        Task Lead(CancellationToken leading) => Task.WhenAll(tracker.RunAsync(leading), incidents.RunAsync(leading), aggregator.RunAsync(leading));
        var leadership = Services.GetRequiredService<Leadership>();
        var logger = loggers.CreateLogger<OperatorHost>();
        var leaderElect = options.LeaderElect ?? !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST"));
        if (leaderElect)
        {
            var elector = Elector = new LeaderElector(Services.GetRequiredService<KubeApiClient>(), new LeaderElectionOptions
            {
                LeaseName = options.LeaseName,
                Namespace = options.LeaseNamespace ?? connection.Namespace,
                Identity = Services.GetRequiredService<ReplicaIdentity>().Value,
                LeaseDuration = options.LeaseDuration,
                RenewDeadline = options.RenewDeadline,
                RetryPeriod = options.RetryPeriod,
            }, time, loggers.CreateLogger<LeaderElector>());
            leadership.Follow(() => elector.IsLeader);
            _running.Add(elector.RunAsync(Lead, () => Log.StoppedLeading(logger), leader => Log.LeaderIs(logger, leader), stopping));
        }
        else
        {
            leadership.Follow(() => !_stop.IsCancellationRequested);
            _running.Add(Lead(stopping));
        }
    }

    /// <summary>Compacts the managed heap when the rollout tracker is quiet (<see cref="HeapCompactor"/>), from the caches' sync on.</summary>
    private static async Task CompactWhenQuietAsync(OperatorCache cache, RolloutTracker tracker, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            await cache.StartAsync(cancellationToken);
            var compactor = new HeapCompactor(() => tracker.QueueDepth, () => tracker.Reconciles, () => GC.GetGCMemoryInfo().HeapSizeBytes,
                (afterStart, previous) => Compact(logger, afterStart, previous), time);
            await compactor.RunAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One full, compacting collection, logged; returns the heap's size after it.</summary>
    private static long Compact(ILogger logger, bool afterStart, long previous)
    {
        var before = GC.GetGCMemoryInfo().HeapSizeBytes;
        var took = System.Diagnostics.Stopwatch.StartNew();
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var after = GC.GetGCMemoryInfo().HeapSizeBytes;
        if (afterStart) Log.Compacted(logger, before / 1048576.0, after / 1048576.0, took.Elapsed.TotalMilliseconds);
        else Log.CompactedAgain(logger, before / 1048576.0, previous / 1048576.0, after / 1048576.0, took.Elapsed.TotalMilliseconds);
        return after;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await _stop.CancelAsync();
        try
        {
            await Task.WhenAll(_running).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException)
        {
        }
        if (IntakeUrl is not null) await Services.GetRequiredService<Intake.IntakeServer>().DisposeAsync();
        await _web.StopAsync(CancellationToken.None);
        // The container disposes every component it built (queues, informers, the event recorder, the client), in reverse order.
        await _web.DisposeAsync();
    }
}
