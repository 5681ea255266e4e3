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
    /// Projects the DORA metrics have room for (--metrics-max-projects). The SDK reserves each
    /// metric's series up front (about 175 bytes each, per exporter), so each DORA metric's limit is
    /// this times its series per project (<see cref="OperatorMetrics.SeriesPerProject"/>) plus a
    /// quarter for projects deleted or relabelled while the process runs. Series beyond a limit are
    /// folded into one <c>otel_metric_overflow="true"</c> series and the operator logs a warning.
    /// </summary>
    public int MaxProjects { get; init; } = DefaultMaxProjects;

    public const int DefaultMaxProjects = 1_000;

    /// <summary>The series limit of one metric.</summary>
    public int SeriesLimit(string metric) => OperatorMetrics.IsDoraSeries(metric)
        ? (int)Math.Min(int.MaxValue / 2, MaxProjects * (long)OperatorMetrics.SeriesPerProject(metric) * 5 / 4)
        : HealthSeriesLimit;

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

    public MetricsPipeline(MetricsExportOptions options, Func<bool> leader, string meterName = OperatorMetrics.MeterName)
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
            .AddMeter(meterName)
            // DORA metrics have a series per project and label value (1,000 projects need more than the
            // SDK's default 2,000 points); health metrics a handful. The SDK allocates the points up front.
            .AddView(i => new MetricStreamConfiguration
            {
                CardinalityLimit = options.SeriesLimit(i.Name),
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
