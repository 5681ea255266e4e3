using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using DoraOperator.Entities.Dora;
using DoraOperator.Kube.Meta;
using DoraOperator.Kube.Rest;
using DoraOperator.Operator.Http;
using Microsoft.AspNetCore.Http;

namespace DoraOperator.Operator.Intake;

/// <summary>
/// Kubernetes-native checks for intake callers: the bearer token goes to the API server
/// (TokenReview), and the user it names must be allowed to create the custom resource in the target
/// namespace (SubjectAccessReview), exactly the RBAC <c>kubectl create</c> would need. Answers are
/// cached briefly by token hash and by (user, namespace, resource), so a burst of deliveries does
/// not become a burst of reviews. Denials say no more than "not allowed". Static credentials
/// (<see cref="StaticCredentials"/>), when configured, are tried first and allow only their namespaces.
/// </summary>
internal sealed class IntakeAuthorizer(KubeApiClient client, IntakeOptions options, StaticCredentials statics, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, (ReviewedUser? User, DateTimeOffset Until)> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (bool Allowed, DateTimeOffset Until)> _access = new(StringComparer.Ordinal);

    /// <summary>Reviews actually sent (not answered from the cache), for tests and the bench.</summary>
    public int Reviews => _reviews;

    private int _reviews;

    /// <summary>The caller, or 401. With auth off, an anonymous caller.</summary>
    public async Task<ReviewedUser> AuthenticateAsync(HttpContext context)
    {
        if (options.Auth == IntakeAuth.None) return new ReviewedUser { Username = "system:anonymous" };
        var header = context.Request.Headers.Authorization.ToString();
        if (statics.Match(header) is { } known) return known;
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= 7)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            throw new ProblemException(401, "Unauthorized", "send a Kubernetes bearer token: Authorization: Bearer <token> (a ServiceAccount token allowed to create the resource in the project's namespace)");
        }
        var token = header[7..].Trim();
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
        var now = time.GetUtcNow();
        if (!_tokens.TryGetValue(key, out var cached) || cached.Until <= now)
        {
            Interlocked.Increment(ref _reviews);
            var review = await client.CreateAsync(new TokenReview { Spec = new TokenReviewSpec { Token = token } }, context.RequestAborted);
            cached = (review.Status is { Authenticated: true, User: { } user } ? user : null, now + options.ReviewCacheTtl);
            _tokens[key] = cached;
            if (_tokens.Count > 10_000) Sweep(_tokens, now);
        }
        if (cached.User is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            throw new ProblemException(401, "Unauthorized", "the bearer token was not accepted by the Kubernetes API server");
        }
        return cached.User;
    }

    /// <summary>403 unless <paramref name="user"/> may <paramref name="verb"/> <paramref name="resource"/> (dora-operator.io) in <paramref name="ns"/>.</summary>
    public async Task RequireAsync(ReviewedUser user, string verb, string resource, string ns, CancellationToken cancellationToken)
    {
        if (!await AllowsAsync(user, verb, resource, ns, cancellationToken))
            throw new ProblemException(403, "Forbidden", $"not allowed to {verb} {resource}.{DoraNames.Group} for this project");
    }

    public async Task<bool> AllowsAsync(ReviewedUser user, string verb, string resource, string ns, CancellationToken cancellationToken)
    {
        if (options.Auth == IntakeAuth.None) return true;
        if (user.Username?.StartsWith(StaticCredentials.UserPrefix, StringComparison.Ordinal) == true) return StaticCredentials.Allows(user, ns);
        var key = $"{user.Username}\n{string.Join(',', user.Groups ?? [])}\n{verb}\n{resource}\n{ns}";
        var now = time.GetUtcNow();
        if (_access.TryGetValue(key, out var cached) && cached.Until > now) return cached.Allowed;
        Interlocked.Increment(ref _reviews);
        var review = await client.CreateAsync(new SubjectAccessReview
        {
            Spec = new SubjectAccessReviewSpec
            {
                User = user.Username, Uid = user.Uid, Groups = user.Groups,
                ResourceAttributes = new ResourceAttributes { Namespace = ns, Verb = verb, Group = DoraNames.Group, Resource = resource },
            },
        }, cancellationToken);
        var allowed = review.Status?.Allowed == true;
        _access[key] = (allowed, now + options.ReviewCacheTtl);
        if (_access.Count > 10_000) Sweep(_access, now);
        return allowed;
    }

    private static void Sweep<T>(ConcurrentDictionary<string, (T, DateTimeOffset Until)> cache, DateTimeOffset now)
    {
        foreach (var (k, v) in cache)
        {
            if (v.Until <= now) cache.TryRemove(k, out _);
        }
    }
}
