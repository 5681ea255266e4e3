using DoraOperator.Kube.Config;
using DoraOperator.Kube.Events;
using DoraOperator.Kube.Leadership;
using DoraOperator.Kube.Rest;
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
    public int Workers { get; init; } = 2;
    /// <summary>Client-side limit on API requests per second (0 turns it off), and its burst.</summary>
    public double KubeApiQps { get; init; } = 100;
    public int KubeApiBurst { get; init; } = 200;
    /// <summary>OTLP and resource settings; null reads the OTEL_* environment variables.</summary>
    public MetricsExportOptions? MetricsExport { get; init; }
    /// <summary>How often record retention runs while leading.</summary>
    public TimeSpan RetentionInterval { get; init; } = TimeSpan.FromMinutes(1);
    /// <summary>How often every project is recomputed so its window slides with no events.</summary>
    public TimeSpan RecomputeInterval { get; init; } = TimeSpan.FromMinutes(1);
    /// <summary>The least time between two status writes of one project (bursts coalesce).</summary>
    public TimeSpan MinStatusInterval { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>A configuration or connection problem that stops the operator, with what to do about it.</summary>
internal sealed class OperatorStartupException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The running operator: connects (kubeconfig or in-cluster), checks the API server answers, warms
/// the caches, and runs the rollout tracker while it leads. Serves <c>/healthz</c> (the process is
/// alive) and <c>/readyz</c> (caches synced) on the HTTP port.
/// </summary>
internal sealed class OperatorHost : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _running = [];
    private WebApplication? _web;
    private KubeApiClient? _client;
    private EventRecorder? _events;

    private OperatorHost()
    {
    }

    public IReadOnlyList<RolloutTracker> Trackers { get; private set; } = [];
    public IReadOnlyList<IncidentController> IncidentControllers { get; private set; } = [];
    public IReadOnlyList<ProjectAggregator> Aggregators { get; private set; } = [];
    public Uri? HttpUrl { get; private set; }
    public bool Ready => Trackers.Count > 0 && Trackers.All(t => t.HasSynced) && IncidentControllers.All(c => c.HasSynced);
    public LeaderElector? Elector { get; private set; }
    public OperatorMetrics? Metrics { get; private set; }
    public MetricsPipeline? MetricsPipeline { get; private set; }
    public IReadOnlyList<DoraLedger> Ledgers { get; private set; } = [];

    /// <summary>True while this replica leads (always, without leader election).</summary>
    public bool IsLeader => _leaderElect ? Elector?.IsLeader == true : !_stop.IsCancellationRequested;

    private bool _leaderElect;

    public static async Task<OperatorHost> StartAsync(OperatorOptions options, ILoggerFactory loggers, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        time ??= TimeProvider.System;
        var logger = loggers.CreateLogger("DoraOperator");
        KubeConnection connection;
        try
        {
            connection = KubeConfigLoader.LoadDefault(options.Kubeconfig, options.Context);
        }
        catch (KubeConfigException e)
        {
            throw new OperatorStartupException(e.Message, e);
        }
        var host = new OperatorHost();
        host.BuildWeb(options);
        var metrics = host.Metrics = new OperatorMetrics(host._web!.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        var export = options.MetricsExport ?? MetricsExportOptions.FromEnvironment();
        host.MetricsPipeline = new MetricsPipeline(export, () => host.IsLeader);
        host.MetricsPipeline.Exposition.Overflowed = name => logger.LogWarning(
            "metric {Metric} reached its limit of {Limit} series (room for {MaxProjects} projects); further series are folded into one series labelled otel_metric_overflow=\"true\". Raise --metrics-max-projects",
            name, export.SeriesLimit(name), export.MaxProjects);
        host._client = new KubeApiClient(connection, new KubeClientOptions { MaxRetries = 2, Qps = options.KubeApiQps, Burst = options.KubeApiBurst, OnResponse = metrics.ApiResponse }, time);
        try
        {
            var version = await host._client.GetServerVersionAsync(cancellationToken);
            logger.LogInformation("connected to {Server} (Kubernetes {Version}) using {Source}", connection.Server, version, connection.Source);
        }
        catch (Exception e) when (e is HttpRequestException or KubeApiException or TimeoutException or KubeConfigException)
        {
            host._client.Dispose();
            host.MetricsPipeline.Dispose();
            await host._web!.DisposeAsync();
            throw new OperatorStartupException(
                $"cannot reach the Kubernetes API server at {connection.Server} (from {connection.Source}): {e.Message}. " +
                "Check the cluster and your credentials, or try DoraOperator without a cluster: dotnet run --project src/Sandbox, then run the operator with --kubeconfig sandbox.kubeconfig.", e);
        }
        var identity = $"{Environment.GetEnvironmentVariable("POD_NAME") ?? Environment.MachineName}_{Guid.NewGuid()}";
        host._events = new EventRecorder(host._client, "dora-operator", identity, time, logger);
        IReadOnlyList<string?> namespaces = options.Namespaces.Count == 0 ? [null] : [.. options.Namespaces];
        host.Trackers = namespaces.Select(ns => new RolloutTracker(host._client, host._events, ns, time, logger) { Metrics = metrics, RetentionInterval = options.RetentionInterval }).ToList();
        host.IncidentControllers = host.Trackers.Select((t, i) => new IncidentController(host._client, host._events, t.Projects, t.Records, namespaces[i], time, logger) { Metrics = metrics }).ToList();
        host.Aggregators = host.Trackers.Select((t, i) => new ProjectAggregator(host._client, t.Projects, t.Records, host.IncidentControllers[i].Incidents, t.Deployments, time, logger)
        {
            RecomputeInterval = options.RecomputeInterval,
            MinWriteInterval = options.MinStatusInterval,
            MinComputeInterval = options.MinStatusInterval < TimeSpan.FromSeconds(1) ? options.MinStatusInterval : TimeSpan.FromSeconds(1),
            Metrics = metrics,
        }).ToList();
        host.Ledgers = host.Trackers.Select((t, i) => new DoraLedger(metrics, t.Projects, t.Records, host.IncidentControllers[i].Incidents)).ToList();
        var leaderElect = host._leaderElect = options.LeaderElect ?? !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST"));
        metrics.Observe(
            () => host.Trackers.Select(t => ("rollouts", t.QueueDepth)).Concat(host.IncidentControllers.Select(c => ("incidents", c.QueueDepth))).Concat(host.Aggregators.Select(a => ("projects", a.QueueDepth))),
            () => host.Trackers.SelectMany(t => OperatorMetrics.WatchRestarts(t.Deployments).Concat(OperatorMetrics.WatchRestarts(t.ReplicaSets)).Concat(OperatorMetrics.WatchRestarts(t.Projects)).Concat(OperatorMetrics.WatchRestarts(t.Records)))
                .Concat(host.IncidentControllers.SelectMany(c => OperatorMetrics.WatchRestarts(c.Incidents))),
            () => host.IsLeader,
            () => host.Aggregators.SelectMany(a => a.LastReports));
        await host.StartWebAsync();

        var stopping = host._stop.Token;
        foreach (var ledger in host.Ledgers) host._running.Add(ledger.RunAsync(stopping));
        foreach (var tracker in host.Trackers) host._running.Add(tracker.StartInformersAsync(stopping));
        foreach (var incidents in host.IncidentControllers) host._running.Add(incidents.StartInformerAsync(stopping));
        Task Lead(CancellationToken leading) => Task.WhenAll(
            host.Trackers.Select(t => t.RunAsync(options.Workers, leading))
                .Concat(host.IncidentControllers.Select(c => c.RunAsync(1, leading)))
                .Concat(host.Aggregators.Select(a => a.RunAsync(1, leading))));
        if (leaderElect)
        {
            host.Elector = new LeaderElector(host._client, new LeaderElectionOptions
            {
                LeaseName = options.LeaseName,
                Namespace = options.LeaseNamespace ?? connection.Namespace,
                Identity = identity,
                LeaseDuration = options.LeaseDuration,
                RenewDeadline = options.RenewDeadline,
                RetryPeriod = options.RetryPeriod,
            }, time, logger);
            host._running.Add(host.Elector.RunAsync(Lead, () => logger.LogWarning("stopped leading; only the leader writes records"), leader => logger.LogInformation("leader is {Leader}", leader), stopping));
        }
        else
        {
            host._running.Add(Lead(stopping));
        }
        return host;
    }

    private void BuildWeb(OperatorOptions options)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        builder.WebHost.UseUrls($"http://{options.HttpAddress}:{options.HttpPort}");
        _web = builder.Build();
    }

    private async Task StartWebAsync()
    {
        var web = _web!;
        web.MapGet("/healthz", () => Results.Text("ok"));
        web.MapGet("/readyz", () => Ready ? Results.Text("ok") : Results.Text("caches not synced yet", statusCode: 503));
        web.MapGet("/metrics", async (HttpContext context) =>
        {
            var openMetrics = PrometheusExposition.WantsOpenMetrics(context.Request.Headers.Accept);
            var (buffer, length) = MetricsPipeline!.Exposition.ScrapeUtf8Pooled(openMetrics);
            try
            {
                context.Response.ContentType = openMetrics ? PrometheusExposition.OpenMetricsContentType : PrometheusExposition.TextContentType;
                context.Response.ContentLength = length;
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, length), context.RequestAborted);
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        });
        ProjectApi.Map(web, () => Aggregators);
        await web.StartAsync();
        HttpUrl = new Uri(web.Urls.First().Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));
    }

    private sealed class EmbeddedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private int _disposed;

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
        foreach (var a in Aggregators) a.Stop();
        MetricsPipeline?.Dispose();
        foreach (var c in IncidentControllers) await c.DisposeAsync();
        foreach (var t in Trackers) await t.DisposeAsync();
        if (_events is not null) await _events.DisposeAsync();
        if (_web is not null)
        {
            await _web.StopAsync();
            await _web.DisposeAsync();
        }
        _client?.Dispose();
    }
}
