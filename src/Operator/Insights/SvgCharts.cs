using System.Globalization;
using System.Text;
using DoraOperator.Entities.Dora;
using DoraOperator.Operator.Dora;

namespace DoraOperator.Operator.Insights;

/// <summary>
/// Charts drawn on the server as inline SVG: no script, no library, readable with JavaScript off.
/// Every plotted value is an element of class <c>point</c> with its value in <c>data-value</c> and
/// a <c>title</c> the browser shows on hover.
/// </summary>
internal static class SvgCharts
{
    private const double Width = 360, Height = 150, Left = 46, Right = 10, Top = 12, Bottom = 24;

    /// <summary>A value per bucket; null values are gaps. Bars for counts, a line for the rest.</summary>
    public static void Trend(StringBuilder html, string id, string caption, IReadOnlyList<TrendPoint> points, Func<TrendPoint, double?> value, Func<double, string> label, bool bars, Func<double, string>? axis = null)
    {
        var values = points.Select(value).ToList();
        var max = values.OfType<double>().DefaultIfEmpty(0).Max();
        var top = max <= 0 ? 1 : max * 1.15;
        var plotW = Width - Left - Right;
        var plotH = Height - Top - Bottom;
        var step = points.Count == 0 ? plotW : plotW / points.Count;
        double X(int i) => Left + (step * i) + (step / 2);
        double Y(double v) => Top + plotH - (v / top * plotH);

        html.Append("<figure class=\"chart\" id=\"").Append(Html.Attr(id)).Append("\"><figcaption>").Append(Html.Text(caption)).Append("</figcaption>");
        html.Append(Inv($"<svg viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-label=\"")).Append(Html.Attr(caption)).Append("\">");
        html.Append(Inv($"<line class=\"axis\" x1=\"{Left}\" y1=\"{Top + plotH}\" x2=\"{Width - Right}\" y2=\"{Top + plotH}\"/>"));
        var gridY = Y(max > 0 ? max : top);
        html.Append(Inv($"<line class=\"grid\" x1=\"{Left}\" y1=\"{gridY:0.#}\" x2=\"{Width - Right}\" y2=\"{gridY:0.#}\"/>"));
        html.Append(Inv($"<text class=\"ylabel\" x=\"{Left - 4}\" y=\"{gridY + 4:0.#}\">")).Append(Html.Text(max > 0 ? (axis ?? label)(max) : "0")).Append("</text>");
        html.Append(Inv($"<text class=\"ylabel\" x=\"{Left - 4}\" y=\"{Top + plotH + 4}\">0</text>"));
        for (var i = 0; i < points.Count; i++)
        {
            html.Append(Inv($"<text class=\"xlabel\" x=\"{X(i):0.#}\" y=\"{Height - 6}\">")).Append(Formats.Day(points[i].Start)).Append("</text>");
        }
        if (!bars)
        {
            var line = new StringBuilder();
            for (var i = 0; i < points.Count; i++)
            {
                if (values[i] is not { } v) continue;
                line.Append(line.Length == 0 ? 'M' : 'L').Append(Inv($"{X(i):0.#},{Y(v):0.#} "));
            }
            if (line.Length > 0) html.Append("<path class=\"line\" d=\"").Append(line.ToString().TrimEnd()).Append("\"/>");
        }
        for (var i = 0; i < points.Count; i++)
        {
            if (values[i] is not { } v) continue;
            var title = $"{Formats.Day(points[i].Start)} – {Formats.Day(points[i].End)}: {label(v)}";
            if (bars)
            {
                var w = Math.Max(step * 0.6, 2);
                var h = Math.Max(Top + plotH - Y(v), v > 0 ? 1 : 0);
                html.Append(Inv($"<rect class=\"point bar\" data-value=\"{v}\" x=\"{X(i) - (w / 2):0.#}\" y=\"{Top + plotH - h:0.#}\" width=\"{w:0.#}\" height=\"{h:0.#}\">"));
                html.Append("<title>").Append(Html.Text(title)).Append("</title></rect>");
            }
            else
            {
                html.Append(Inv($"<circle class=\"point\" data-value=\"{v}\" cx=\"{X(i):0.#}\" cy=\"{Y(v):0.#}\" r=\"3.5\">"));
                html.Append("<title>").Append(Html.Text(title)).Append("</title></circle>");
            }
        }
        html.Append("</svg></figure>");
    }

    /// <summary>Incidents as bars from start to restore across the window (open ones run to its end), each linking to its entry below.</summary>
    public static void Timeline(StringBuilder html, DoraReport report, IReadOnlyList<Incident> incidents)
    {
        const double row = 16, width = 1000, left = 120;
        var shown = incidents.Take(12).ToList();
        var height = Top + Bottom + (Math.Max(shown.Count, 1) * row);
        var plotW = width - left - Right;
        var span = Math.Max((report.WindowEnd - report.WindowStart).TotalSeconds, 1);
        double X(DateTimeOffset t) => left + (Math.Clamp((t - report.WindowStart).TotalSeconds / span, 0, 1) * plotW);

        html.Append("<figure class=\"chart timeline\" id=\"incident-timeline\"><figcaption>Incidents in the window</figcaption>");
        html.Append(Inv($"<svg viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"Incidents timeline\">"));
        html.Append(Inv($"<line class=\"axis\" x1=\"{left}\" y1=\"{height - Bottom}\" x2=\"{width - Right}\" y2=\"{height - Bottom}\"/>"));
        html.Append(Inv($"<text class=\"xlabel start\" x=\"{left}\" y=\"{height - 6}\">")).Append(Formats.Day(report.WindowStart)).Append("</text>");
        html.Append(Inv($"<text class=\"xlabel end\" x=\"{width - Right}\" y=\"{height - 6}\">")).Append(Formats.Day(report.WindowEnd)).Append("</text>");
        if (shown.Count == 0) html.Append(Inv($"<text class=\"empty\" x=\"{Width}\" y=\"{Top + row}\">no incidents</text>"));
        for (var i = 0; i < shown.Count; i++)
        {
            var inc = shown[i];
            var start = DoraCalculator.StartedAt(inc) ?? report.WindowStart;
            var restored = DoraCalculator.RestoredAt(inc);
            var x1 = X(start);
            var x2 = Math.Max(X(restored ?? report.WindowEnd), x1 + 3);
            var y = Top + (i * row);
            var name = inc.Metadata.Name!;
            html.Append("<a href=\"#incident-").Append(Html.Attr(name)).Append("\">");
            html.Append(Inv($"<rect class=\"incident{(restored is null ? " open" : "")}\" x=\"{x1:0.#}\" y=\"{y + 3:0.#}\" width=\"{x2 - x1:0.#}\" height=\"{row - 6}\">"));
            html.Append("<title>").Append(Html.Text($"{name}: {Formats.Time(start)} – {(restored is { } r ? Formats.Time(r) : "open")}")).Append("</title></rect>");
            html.Append(Inv($"<text class=\"ilabel\" x=\"{left - 4}\" y=\"{y + row - 4:0.#}\">")).Append(Html.Text(Shorten(name, 22))).Append("</text></a>");
        }
        html.Append("</svg></figure>");
    }

    private static string Shorten(string s, int n) => s.Length <= n ? s : s[..(n - 1)] + "…";

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
