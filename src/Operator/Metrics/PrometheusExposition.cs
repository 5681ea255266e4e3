using System.Globalization;
using System.Text;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace DoraOperator.Operator.Metrics;

/// <summary>
/// The pull side of the metrics pipeline: an OpenTelemetry reader whose exporter renders each
/// collection as Prometheus text (format 0.0.4) or OpenMetrics 1.0. Rendering happens on scrape
/// (<see cref="Scrape"/> collects, then renders); nothing runs on a timer.
/// </summary>
internal sealed class PrometheusExposition : BaseExporter<Metric>
{
    public const string TextContentType = "text/plain; version=0.0.4; charset=utf-8";
    public const string OpenMetricsContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private readonly Lock _gate = new();
    private readonly Func<bool> _leader;
    private StringBuilder? _target;
    private bool _openMetrics;
    private StringBuilder _buffer = new(64 * 1024);
    // The UTF-8 text's buffer, kept between scrapes; null while a response holds it (RentUtf8).
    private byte[]? _utf8;

    public PrometheusExposition(Func<bool> leader)
    {
        _leader = leader;
        Reader = new BaseExportingMetricReader(this) { TemporalityPreference = MetricReaderTemporalityPreference.Cumulative };
    }

    public MetricReader Reader { get; }

    /// <summary>True when the scraper's Accept header asks for OpenMetrics.</summary>
    public static bool WantsOpenMetrics(string? accept) => accept?.Contains("application/openmetrics-text", StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>Collects every instrument now and renders the result as text.</summary>
    public string Scrape(bool openMetrics)
    {
        lock (_gate)
        {
            return Render(openMetrics).ToString();
        }
    }

    /// <summary>Collects every instrument now and renders the result as UTF-8, in an array of its exact length.</summary>
    public byte[] ScrapeUtf8(bool openMetrics)
    {
        var (buffer, length) = RentUtf8(openMetrics);
        var copy = buffer.AsSpan(0, length).ToArray();
        ReturnUtf8(buffer);
        return copy;
    }

    /// <summary>
    /// What /metrics sends: collects every instrument now and renders the result as UTF-8 into the
    /// exposition's one byte buffer, which the caller holds until it has written it and then gives
    /// back with <see cref="ReturnUtf8"/>. A scrape that comes while another holds the buffer gets
    /// one of its own. At 200 projects the text is about a megabyte: the shared array pool kept an
    /// array of the next power of two on each thread that returned one (four, 8 MB, at 10,000
    /// Deployments), and a fresh array per scrape is a large object to collect each time.
    /// </summary>
    public (byte[] Buffer, int Length) RentUtf8(bool openMetrics)
    {
        lock (_gate)
        {
            var text = Render(openMetrics);
            var length = 0;
            foreach (var chunk in text.GetChunks()) length += System.Text.Encoding.UTF8.GetByteCount(chunk.Span);
            var buffer = _utf8 is { } kept && kept.Length >= length ? kept : GC.AllocateUninitializedArray<byte>(length + (length / 8));
            _utf8 = null;
            var written = 0;
            foreach (var chunk in text.GetChunks()) written += System.Text.Encoding.UTF8.GetBytes(chunk.Span, buffer.AsSpan(written));
            return (buffer, written);
        }
    }

    /// <summary>Gives back a buffer from <see cref="RentUtf8"/>; the larger of it and any buffer kept meanwhile stays for the next scrape.</summary>
    public void ReturnUtf8(byte[] buffer)
    {
        lock (_gate)
        {
            if (_utf8 is null || _utf8.Length < buffer.Length) _utf8 = buffer;
        }
    }

    /// <summary>Renders into the reused builder (its capacity survives scrapes, so steady state allocates little).</summary>
    private StringBuilder Render(bool openMetrics)
    {
        // One contiguous chunk sized by the last scrape: appends never allocate in steady state.
        if (_buffer.Capacity < _buffer.Length + 4096) _buffer = new StringBuilder(_buffer.Length + (_buffer.Length / 8) + 4096);
        _buffer.Clear();
        _target = _buffer;
        _openMetrics = openMetrics;
        try
        {
            Reader.Collect();
            if (openMetrics) _buffer.Append("# EOF\n");
            return _buffer;
        }
        finally
        {
            _target = null;
        }
    }

    public override ExportResult Export(in Batch<Metric> batch)
    {
        var sb = _target;
        if (sb is null) return ExportResult.Success;
        var leader = _leader();
        foreach (var metric in batch)
        {
            if (!leader && OperatorMetrics.IsDoraSeries(metric.Name)) continue;
            if (Render(sb, metric, _openMetrics) && _overflowed.Add(metric.Name)) Overflowed?.Invoke(metric.Name);
        }
        return ExportResult.Success;
    }

    /// <summary>Called once per metric that reached its series limit (the SDK's overflow series appeared).</summary>
    public Action<string>? Overflowed { get; set; }

    private readonly HashSet<string> _overflowed = new(StringComparer.Ordinal);

    /// <summary>Renders one metric; true when it carries the SDK's overflow series (its series limit was reached).</summary>
    internal static bool Render(StringBuilder sb, Metric metric, bool openMetrics)
    {
        var overflow = false;
        var type = metric.MetricType;
        var isCounter = type is MetricType.LongSum or MetricType.DoubleSum;
        var isHistogram = type == MetricType.Histogram;
        var family = metric.Name;
        var sample = isCounter ? family + "_total" : family;
        var header = false;
        foreach (ref readonly var point in metric.GetMetricPoints())
        {
            if (!header)
            {
                Header(sb, metric, openMetrics, isCounter, isHistogram, family, sample);
                header = true;
            }
            RenderPoint(sb, point, type, isHistogram, family, sample);
            if (point.Tags.Count == 1)
            {
                foreach (var tag in point.Tags) overflow |= tag.Key == OverflowAttribute;
            }
        }
        return overflow;
    }

    /// <summary>The attribute the OpenTelemetry SDK puts on the series that sums everything beyond the limit.</summary>
    public const string OverflowAttribute = "otel.metric.overflow";

    private static void Header(StringBuilder sb, Metric metric, bool openMetrics, bool isCounter, bool isHistogram, string family, string sample)
    {
        sb.Append("# HELP ").Append(openMetrics || !isCounter ? family : sample).Append(' ');
        AppendHelp(sb, metric.Description);
        sb.Append('\n');
        sb.Append("# TYPE ").Append(openMetrics || !isCounter ? family : sample).Append(' ').Append(isCounter ? "counter" : isHistogram ? "histogram" : "gauge").Append('\n');
        if (openMetrics && metric.Unit == "s" && family.EndsWith("_seconds", StringComparison.Ordinal)) sb.Append("# UNIT ").Append(family).Append(" seconds\n");
    }

    private static void RenderPoint(StringBuilder sb, in MetricPoint point, MetricType type, bool isHistogram, string family, string sample)
    {
        {
            var labels = Labels(point);
            if (isHistogram)
            {
                long cumulative = 0;
                foreach (var bucket in point.GetHistogramBuckets())
                {
                    cumulative += bucket.BucketCount;
                    sb.Append(family).Append("_bucket{").Append(labels).Append(labels.Length > 0 ? "," : "").Append("le=\"")
                        .Append(Bound(bucket.ExplicitBound)).Append("\"} ")
                        .Append(cumulative).Append('\n');
                }
                AppendBraced(sb.Append(family).Append("_sum"), labels).Append(' ').Append(Number(point.GetHistogramSum())).Append('\n');
                AppendBraced(sb.Append(family).Append("_count"), labels).Append(' ').Append(point.GetHistogramCount().ToString(CultureInfo.InvariantCulture)).Append('\n');
                return;
            }
            var value = type switch
            {
                MetricType.LongSum or MetricType.LongSumNonMonotonic => point.GetSumLong().ToString(CultureInfo.InvariantCulture),
                MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic => Number(point.GetSumDouble()),
                MetricType.LongGauge => point.GetGaugeLastValueLong().ToString(CultureInfo.InvariantCulture),
                _ => Number(point.GetGaugeLastValueDouble()),
            };
            AppendBraced(sb.Append(sample), labels).Append(' ').Append(value).Append('\n');
        }
    }

    private static StringBuilder AppendBraced(StringBuilder sb, string labels) => labels.Length == 0 ? sb : sb.Append('{').Append(labels).Append('}');

    private static string Labels(in MetricPoint point)
    {
        var sb = new StringBuilder(128);
        foreach (var tag in point.Tags)
        {
            if (tag.Key == OperatorMetrics.DeploymentEnvironmentAttribute) continue;
            if (sb.Length > 0) sb.Append(',');
            sb.Append(LabelName(tag.Key)).Append("=\"");
            AppendEscaped(sb, tag.Value switch
            {
                string text => text,
                bool flag => flag ? "true" : "false", // as OpenTelemetry's Prometheus mapping writes booleans
                var other => Convert.ToString(other, CultureInfo.InvariantCulture) ?? "",
            });
            sb.Append('"');
        }
        return sb.ToString();
    }

    /// <summary>Label names may hold [a-zA-Z0-9_]; anything else becomes '_'.</summary>
    private static string LabelName(string key)
    {
        if (key.AsSpan().IndexOfAnyExcept(LabelNameChars) < 0) return key;
        var chars = key.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (!(char.IsAsciiLetterOrDigit(chars[i]) || chars[i] == '_')) chars[i] = '_';
        }
        return new string(chars);
    }

    /// <summary>Label values escape backslash, double quote and line feed.</summary>
    private static void AppendEscaped(StringBuilder sb, string value)
    {
        if (value.AsSpan().IndexOfAny(EscapedChars) < 0)
        {
            sb.Append(value);
            return;
        }
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '"': sb.Append("\\\""); break;
                case '\n': sb.Append("\\n"); break;
                default: sb.Append(c); break;
            }
        }
    }

    /// <summary>HELP text escapes backslash and line feed.</summary>
    private static void AppendHelp(StringBuilder sb, string? help)
    {
        foreach (var c in help ?? "")
        {
            if (c == '\\') sb.Append("\\\\");
            else if (c == '\n') sb.Append("\\n");
            else sb.Append(c);
        }
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<double, string> Bounds = new();
    private static readonly System.Buffers.SearchValues<char> LabelNameChars = System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
    private static readonly System.Buffers.SearchValues<char> EscapedChars = System.Buffers.SearchValues.Create("\\\"\n");

    private static string Bound(double bound) => Bounds.GetOrAdd(bound, b => double.IsPositiveInfinity(b) ? "+Inf" : Number(b));

    private static string Number(double v) =>
        double.IsPositiveInfinity(v) ? "+Inf" : double.IsNegativeInfinity(v) ? "-Inf" : double.IsNaN(v) ? "NaN" : v.ToString("R", CultureInfo.InvariantCulture);
}
