using System.Text.Json.Nodes;
using DoraOperator.Sandbox.Http;

namespace DoraOperator.Sandbox.Security;

/// <summary>
/// <c>authentication.k8s.io/v1 TokenReview</c> and <c>authorization.k8s.io/v1 SubjectAccessReview</c>,
/// as kube-apiserver serves them: create-only, never stored, the answer in <c>status</c>. A token is
/// authenticated by the Sandbox's own token table; a review is decided by the Sandbox's authorization
/// mode (RBAC, or allowed for everyone). Callers need <c>create</c> on the review resource themselves.
/// </summary>
internal static class AccessReviews
{
    public const string TokenReviewPath = "/apis/authentication.k8s.io/v1/tokenreviews";
    public const string SubjectAccessReviewPath = "/apis/authorization.k8s.io/v1/subjectaccessreviews";

    public static JsonObject TokenReview(JsonObject review, Authenticator authenticator)
    {
        var token = (string?)review["spec"]?["token"];
        if (string.IsNullOrEmpty(token)) throw ApiException.BadRequest("TokenReview is invalid: spec.token: Required value");
        var user = authenticator.ByToken(token);
        review["status"] = user is null
            ? new JsonObject { ["authenticated"] = false, ["error"] = "invalid bearer token" }
            : new JsonObject
            {
                ["authenticated"] = true,
                ["user"] = new JsonObject { ["username"] = user.Name, ["groups"] = new JsonArray([.. user.Groups.Select(g => JsonValue.Create(g))]) },
            };
        return Answer(review, "authentication.k8s.io/v1", "TokenReview");
    }

    public static JsonObject SubjectAccessReview(JsonObject review, Func<UserInfo, string, string, string, string?, string?, string?, bool> allows)
    {
        var spec = review["spec"] as JsonObject ?? throw ApiException.BadRequest("SubjectAccessReview is invalid: spec: Required value");
        var user = (string?)spec["user"];
        if (string.IsNullOrEmpty(user)) throw ApiException.BadRequest("SubjectAccessReview is invalid: spec.user: Required value: at least one of user or group must be specified");
        var attributes = spec["resourceAttributes"] as JsonObject ?? throw ApiException.BadRequest("SubjectAccessReview is invalid: spec.resourceAttributes: Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified");
        var groups = spec["groups"]?.AsArray().Select(g => (string?)g ?? "").ToList() ?? [];
        var allowed = allows(new UserInfo(user, groups), (string?)attributes["verb"] ?? "", (string?)attributes["group"] ?? "", (string?)attributes["resource"] ?? "",
            (string?)attributes["subresource"] is { Length: > 0 } s ? s : null, (string?)attributes["namespace"] is { Length: > 0 } n ? n : null, (string?)attributes["name"] is { Length: > 0 } m ? m : null);
        review["status"] = allowed ? new JsonObject { ["allowed"] = true, ["reason"] = "allowed by the Sandbox's authorizer" } : new JsonObject { ["allowed"] = false };
        return Answer(review, "authorization.k8s.io/v1", "SubjectAccessReview");
    }

    private static JsonObject Answer(JsonObject review, string apiVersion, string kind)
    {
        review["apiVersion"] = apiVersion;
        review["kind"] = kind;
        review["metadata"] ??= new JsonObject();
        review["metadata"]!["creationTimestamp"] = null;
        return review;
    }
}
