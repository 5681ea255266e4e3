using System.Text.Json.Serialization.Metadata;

namespace DoraOperator.Kube.Meta;

/// <summary>authentication.k8s.io/v1 TokenReview: asks the API server who a bearer token belongs to.</summary>
public sealed class TokenReview : KubeObject, IKubeResource<TokenReview>
{
    public static ResourceInfo Resource { get; } = new("authentication.k8s.io", "v1", "tokenreviews", "TokenReview", false);
    public static JsonTypeInfo<TokenReview> JsonType => KubeJsonContext.Default.TokenReview;

    public TokenReviewSpec Spec { get; set; } = new();
    public TokenReviewStatus? Status { get; set; }
}

public sealed class TokenReviewSpec
{
    public string? Token { get; set; }
    public List<string>? Audiences { get; set; }
}

public sealed class TokenReviewStatus
{
    public bool Authenticated { get; set; }
    public ReviewedUser? User { get; set; }
    public string? Error { get; set; }
}

public sealed class ReviewedUser
{
    public string? Username { get; set; }
    public string? Uid { get; set; }
    public List<string>? Groups { get; set; }
}

/// <summary>authorization.k8s.io/v1 SubjectAccessReview: asks the API server whether a user may do something.</summary>
public sealed class SubjectAccessReview : KubeObject, IKubeResource<SubjectAccessReview>
{
    public static ResourceInfo Resource { get; } = new("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", false);
    public static JsonTypeInfo<SubjectAccessReview> JsonType => KubeJsonContext.Default.SubjectAccessReview;

    public SubjectAccessReviewSpec Spec { get; set; } = new();
    public SubjectAccessReviewStatus? Status { get; set; }
}

public sealed class SubjectAccessReviewSpec
{
    public string? User { get; set; }
    public string? Uid { get; set; }
    public List<string>? Groups { get; set; }
    public ResourceAttributes? ResourceAttributes { get; set; }
}

public sealed class ResourceAttributes
{
    public string? Namespace { get; set; }
    public string? Verb { get; set; }
    public string? Group { get; set; }
    public string? Resource { get; set; }
    public string? Subresource { get; set; }
    public string? Name { get; set; }
}

public sealed class SubjectAccessReviewStatus
{
    public bool Allowed { get; set; }
    public bool? Denied { get; set; }
    public string? Reason { get; set; }
}
