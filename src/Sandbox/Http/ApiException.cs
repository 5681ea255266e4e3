using System.Text.Json.Nodes;
using DoraOperator.Sandbox.Resources;

namespace DoraOperator.Sandbox.Http;

/// <summary>One invalid field, as metav1.StatusCause reports it.</summary>
internal sealed record FieldCause(string Reason, string Message, string Field);

/// <summary>
/// A failure that becomes a metav1.Status response with the code, reason and message a real
/// kube-apiserver would send. Every handler error goes through this type; nothing user-caused
/// turns into a 500.
/// </summary>
internal sealed class ApiException(int code, string reason, string message) : Exception(message)
{
    public int Code { get; } = code;
    public string Reason { get; } = reason;
    public string? DetailName { get; init; }
    public string? DetailGroup { get; init; }
    public string? DetailKind { get; init; }
    public IReadOnlyList<FieldCause> Causes { get; init; } = [];
    public int? RetryAfterSeconds { get; init; }

    public static ApiException NotFound(ResourceType type, string name) => new(404, "NotFound", $"{type.GroupResource} \"{name}\" not found")
    {
        DetailName = name, DetailGroup = type.Group, DetailKind = type.Plural,
    };

    public static ApiException NotFoundRaw(string message) => new(404, "NotFound", message);

    public static ApiException AlreadyExists(ResourceType type, string name) => new(409, "AlreadyExists", $"{type.GroupResource} \"{name}\" already exists")
    {
        DetailName = name, DetailGroup = type.Group, DetailKind = type.Plural,
    };

    public static ApiException Conflict(ResourceType type, string name, string why = "the object has been modified; please apply your changes to the latest version and try again") =>
        new(409, "Conflict", $"Operation cannot be fulfilled on {type.GroupResource} \"{name}\": {why}")
        {
            DetailName = name, DetailGroup = type.Group, DetailKind = type.Plural,
        };

    public static ApiException Invalid(ResourceType type, string name, IReadOnlyList<FieldCause> causes)
    {
        var summary = causes.Count == 1
            ? $"{causes[0].Field}: {causes[0].Message}"
            : "[" + string.Join(", ", causes.Select(c => $"{c.Field}: {c.Message}")) + "]";
        return new ApiException(422, "Invalid", $"{type.GroupKind} \"{name}\" is invalid: {summary}")
        {
            DetailName = name, DetailGroup = type.Group, DetailKind = type.Kind, Causes = causes,
        };
    }

    public static ApiException BadRequest(string message) => new(400, "BadRequest", message);

    public static ApiException Gone(string message) => new(410, "Expired", message);

    /// <summary>kube-apiserver's answer to a list from a resourceVersion it has not reached within its wait.</summary>
    public static ApiException TooLargeResourceVersion(long requested, long current) =>
        new(504, "Timeout", $"Too large resource version: {requested}, current: {current}");

    public static ApiException MethodNotAllowed() => new(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");

    public static ApiException UnsupportedMediaType(string contentType, IEnumerable<string> accepted) =>
        new(415, "UnsupportedMediaType", $"the body of the request was in an unknown format ({contentType}) - accepted media types include: {string.Join(", ", accepted)}");

    public static ApiException Forbidden(string message) => new(403, "Forbidden", message);

    /// <summary>A 403 with details naming the object, as kube-apiserver's authorizer sends it.</summary>
    public static ApiException Forbidden(string message, ResourceType type, string? name) =>
        new(403, "Forbidden", message) { DetailName = name, DetailGroup = type.Group, DetailKind = type.Plural };

    public static ApiException Unauthorized() => new(401, "Unauthorized", "Unauthorized");

    public static ApiException RequestEntityTooLarge(long limit) => new(413, "RequestEntityTooLarge", $"Request entity too large: limit is {limit}");

    public JsonObject ToStatus()
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = Message,
            ["reason"] = Reason,
        };
        var details = new JsonObject();
        if (DetailName is not null) details["name"] = DetailName;
        if (!string.IsNullOrEmpty(DetailGroup)) details["group"] = DetailGroup;
        if (DetailKind is not null) details["kind"] = DetailKind;
        if (Causes.Count > 0)
        {
            details["causes"] = new JsonArray(Causes.Select(c => (JsonNode)new JsonObject
            {
                ["reason"] = c.Reason, ["message"] = c.Message, ["field"] = c.Field,
            }).ToArray());
        }
        if (RetryAfterSeconds is { } seconds) details["retryAfterSeconds"] = seconds;
        if (details.Count > 0) status["details"] = details;
        status["code"] = Code;
        return status;
    }
}
