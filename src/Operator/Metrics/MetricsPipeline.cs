using System.Globalization;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace DoraOperator.Operator.Metrics;

/// <summary>Where the metrics go besides <c>/metrics</c>, read once at start-up from the standard OTEL_* variables and flags.</summary>
internal sealed record MetricsExportOptions
{
    /// <summary>OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or --otlp-endpoint); null turns OTLP push off.</summary>
    public string? OtlpEndpoint { get; init; }

    /// <summary>Push interval (OTEL_METRIC_EXPORT_INTERVAL, milliseconds; default 60 s).</summary>
    public TimeSpan OtlpInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>service.name (OTEL_SERVICE_NAME; default dora-operator).</summary>
    public string ServiceName { get; init; } = "dora-operator";

    /// <summary>k8s.cluster.name resource attribute, when set (--cluster-name).</summary>
    public string? ClusterName { get; init; }

    /// <summary>
    /// Series per DORA metric (--metrics-series-limit). The SDK reserves this many points per metric
    /// and exporter up front (about 120 bytes each), so it is sized for about 1,000 projects rather
    /// than "unlimited"; series beyond it are folded into one <c>otel_metric_overflow="true"</c> series
    /// and the operator logs a warning naming the flag.
    /// </summary>
    public int SeriesLimit { get; init; } = DefaultSeriesLimit;

    public const int DefaultSeriesLimit = 8_000;

    /// <summary>Series per operator-health metric: labelled by controller, resource or verb only.</summary>
    public const int HealthSeriesLimit = 500;

    public static MetricsExportOptions FromEnvironment(string? clusterName = null, string? otlpEndpoint = null)
    {
        var interval = int.TryParse(Environment.GetEnvironmentVariable("OTEL_METRIC_EXPORT_INTERVAL"), NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms > 0
            ? TimeSpan.FromMilliseconds(ms)
            : TimeSpan.FromSeconds(60);
        return new MetricsExportOptions
        {
            OtlpEndpoint = otlpEndpoint ?? NullIfEmpty(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")) ?? NullIfEmpty(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT")),
            OtlpInterval = interval,
            ServiceName = NullIfEmpty(Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME")) ?? "dora-operator",
            ClusterName = clusterName,
        };
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
}

/// <summary>
/// The OpenTelemetry SDK wired to our one Meter: the scrape reader behind <c>/metrics</c> and, when
/// an endpoint is configured, a periodic OTLP exporter. Both export DORA series only while this
/// replica leads; health series always.
/// </summary>
internal sealed class MetricsPipeline : IDisposable
{
    private readonly MeterProvider _provider;

    public MetricsPipeline(MetricsExportOptions options, Func<bool> leader)
    {
        Exposition = new PrometheusExposition(leader);
        var version = typeof(MetricsPipeline).Assembly.GetName().Version?.ToString() ?? "0.0.0";
        var builder = Sdk.CreateMeterProviderBuilder()
            .ConfigureResource(r =>
            {
                r.AddService(options.ServiceName, serviceVersion: version, autoGenerateServiceInstanceId: true);
                if (options.ClusterName is { Length: > 0 } cluster) r.AddAttributes([new("k8s.cluster.name", cluster)]);
                r.AddEnvironmentVariableDetector();
            })
            .AddMeter(OperatorMetrics.MeterName)
            // DORA metrics have a series per project and label value (1,000 projects need more than the
            // SDK's default 2,000 points); health metrics a handful. The SDK allocates the points up front.
            .AddView(i => new MetricStreamConfiguration
            {
                CardinalityLimit = OperatorMetrics.IsDoraSeries(i.Name) ? options.SeriesLimit : MetricsExportOptions.HealthSeriesLimit,
            })
            .AddReader(Exposition.Reader);
        if (options.OtlpEndpoint is { } endpoint)
        {
            var exporterOptions = new OtlpExporterOptions { Endpoint = new Uri(endpoint) };
            if (Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_PROTOCOL") is null or "http/protobuf")
            {
                exporterOptions.Protocol = OtlpExportProtocol.HttpProtobuf;
                if (exporterOptions.Endpoint.AbsolutePath is "/" or "") exporterOptions.Endpoint = new Uri(exporterOptions.Endpoint, "/v1/metrics");
            }
            Otlp = new LeaderOnlyOtlpExporter(exporterOptions, leader);
            builder.AddReader(new PeriodicExportingMetricReader(Otlp, (int)options.OtlpInterval.TotalMilliseconds) { TemporalityPreference = MetricReaderTemporalityPreference.Cumulative });
        }
        _provider = builder.Build()!;
    }

    public PrometheusExposition Exposition { get; }

    public LeaderOnlyOtlpExporter? Otlp { get; }

    /// <summary>Pushes to OTLP now (tests; shutdown).</summary>
    public bool Flush() => _provider.ForceFlush(5000);

    public void Dispose() => _provider.Dispose();
}

/// <summary>The OTLP exporter, minus the DORA series while this replica does not lead.</summary>
internal sealed class LeaderOnlyOtlpExporter(OtlpExporterOptions options, Func<bool> leader) : OtlpMetricExporter(options)
{
    public override ExportResult Export(in Batch<Metric> batch)
    {
        if (leader()) return base.Export(batch);
        var kept = new List<Metric>();
        foreach (var m in batch)
        {
            if (!OperatorMetrics.IsDoraSeries(m.Name)) kept.Add(m);
        }
        return base.Export(new Batch<Metric>([.. kept], kept.Count));
    }
}
