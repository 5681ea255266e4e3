using System.Net;

namespace DoraOperator.Operator.Insights;

/// <summary>Escaping for text and attribute values, and path segments for links.</summary>
internal static class Html
{
    public static string Text(string? s) => WebUtility.HtmlEncode(s ?? "");

    public static string Attr(string? s) => WebUtility.HtmlEncode(s ?? "");

    public static string Segment(string s) => Uri.EscapeDataString(s);

    public static string ProjectPath(string ns, string name) => $"/projects/{Segment(ns)}/{Segment(name)}";

    public static string TeamPath(string team, string environment) =>
        environment == Entities.Vocabulary.DoraDefaults.Environment ? $"/teams/{Segment(team)}" : $"/teams/{Segment(team)}?environment={Segment(environment)}";
}
