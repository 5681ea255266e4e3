using DoraOperator.Kube.Meta;

namespace DoraOperator.Kube.Rest;

/// <summary>An API call failed; <see cref="Status"/> is the server's metav1.Status (or one built from the HTTP reply).</summary>
public sealed class KubeApiException(Status status, string verb, string path)
    : Exception($"{verb} {path}: {status.Code} {status.Reason}: {status.Message}")
{
    public Status Status { get; } = status;
    public int Code => Status.Code;
    public string? Reason => Status.Reason;
    public bool IsNotFound => Code == 404;
    public bool IsAlreadyExists => Code == 409 && Reason == "AlreadyExists";
    public bool IsConflict => Code == 409 && Reason != "AlreadyExists";
    public bool IsGone => Code == 410;
    public bool IsInvalid => Code == 422;
    public bool IsForbidden => Code == 403;
    public bool IsUnauthorized => Code == 401;
    public bool IsTooManyRequests => Code == 429;
    public bool IsServerError => Code >= 500;
}
