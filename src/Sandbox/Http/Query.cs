using System.Globalization;
using DoraOperator.Sandbox.Validation;

namespace DoraOperator.Sandbox.Http;

/// <summary>The query parameters kube-apiserver shares across verbs, parsed with its error messages.</summary>
internal static class Query
{
    internal static bool IsTrue(string? value) => value is "1" or "true" or "True";

    internal static bool IsDryRun(HttpContext context) => context.Request.Query["dryRun"].Any(v => v == "All");

    internal static FieldValidation FieldValidationMode(HttpContext context) => context.Request.Query["fieldValidation"].ToString() switch
    {
        "Strict" => FieldValidation.Strict,
        "Ignore" => FieldValidation.Ignore,
        "" or "Warn" => FieldValidation.Warn,
        var other => throw ApiException.BadRequest($"fieldValidation must be one of \"Ignore\", \"Warn\", or \"Strict\", got \"{other}\""),
    };

    internal static int? ParseInt(string? value, string name)
    {
        if (string.IsNullOrEmpty(value)) return null;
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw ApiException.BadRequest($"invalid {name} \"{value}\": must be a non-negative integer");
    }

    internal static string? BuildFieldSelector(string? fieldSelector, string? name)
    {
        if (name is null) return fieldSelector;
        var byName = "metadata.name=" + name;
        return string.IsNullOrEmpty(fieldSelector) ? byName : fieldSelector + "," + byName;
    }
}
