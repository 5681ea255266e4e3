using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using DoraOperator.Kube.Rest;
using DoraOperator.Operator.Http;
using Microsoft.AspNetCore.Http;

namespace DoraOperator.Operator.Intake;

/// <summary>
/// A token bucket per client (its credentials when it sends any, else its address), so one runaway
/// pipeline cannot starve the others or the API server. Over the limit: 429 with Retry-After.
/// </summary>
internal sealed class ClientRateLimiter(IntakeOptions options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, (TokenBucket Bucket, long LastUsed)> _clients = new(StringComparer.Ordinal);

    public void Check(HttpContext context)
    {
        if (options.RatePerClient <= 0) return;
        var key = ClientKey(context);
        var now = time.GetTimestamp();
        var entry = _clients.AddOrUpdate(key, _ => (new TokenBucket(options.RatePerClient, options.BurstPerClient, time), now), (_, e) => (e.Bucket, now));
        if (_clients.Count > 10_000) Sweep(now);
        if (!entry.Bucket.TryTake(out var wait))
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            throw new ProblemException(429, "Too many requests", $"this client may send {options.RatePerClient:0.#} requests a second (burst {options.BurstPerClient}); retry in {seconds} s") { RetryAfter = seconds };
        }
    }

    private static string ClientKey(HttpContext context)
    {
        var credentials = context.Request.Headers.Authorization.ToString();
        if (credentials.Length == 0) credentials = context.Request.Headers["X-Gitlab-Token"].ToString() + context.Request.Headers[OpsgenieWebhook.TokenHeader];
        return credentials.Length > 0
            ? "c:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(credentials)))[..16]
            : "a:" + context.Connection.RemoteIpAddress;
    }

    private void Sweep(long now)
    {
        foreach (var (key, entry) in _clients)
        {
            if (time.GetElapsedTime(entry.LastUsed, now) > TimeSpan.FromMinutes(5)) _clients.TryRemove(key, out _);
        }
    }
}
