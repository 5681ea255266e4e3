using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace DoraOperator.Operator.Http;

/// <summary>RFC 9457 problem details, the body of every error the operator's HTTP APIs return.</summary>
internal sealed record Problem(string Type, string Title, int Status, string Detail, string? Instance = null);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Problem))]
internal sealed partial class ProblemJsonContext : JsonSerializerContext;

/// <summary>A request that cannot be served, with the status and what to tell the caller.</summary>
internal sealed class ProblemException(int status, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;
    public string Title { get; } = title;
    public string Detail { get; } = detail;
    /// <summary>Seconds the caller should wait (429), or null.</summary>
    public int? RetryAfter { get; init; }
}

internal static class Problems
{
    public const string ContentType = "application/problem+json";

    public static IResult Result(int status, string title, string detail, string? instance) =>
        Results.Json(new Problem($"https://dora-operator.io/problems/{status}", title, status, detail, instance), ProblemJsonContext.Default.Problem, ContentType, status);
}
