namespace DoraOperator.Operator.Tests.Hosting;

/// <summary>The operator's client-side limit with its shipped default and with --kube-api-qps, against the Sandbox (which applies Priority and Fairness).</summary>
public sealed class ClientRateLimitTests
{
    [Fact]
    public async Task ByDefault_NoClientSideLimit_WhenTheServerAppliesPriorityAndFairness()
    {
        await using var env = await OperatorOnSandbox.StartAsync();
        await using var host = await env.StartOperatorAsync(env.Options with { KubeApiQps = null });
        Assert.False(host.ClientRateLimited);
        Assert.StartsWith("off: the API server applies Priority and Fairness", host.ClientRateLimit, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnExplicitLimitIsKept()
    {
        await using var env = await OperatorOnSandbox.StartAsync();
        await using var host = await env.StartOperatorAsync(env.Options with { KubeApiQps = 20 });
        Assert.True(host.ClientRateLimited);
        Assert.Equal("20 requests/s, burst 200 (--kube-api-qps)", host.ClientRateLimit);
    }
}
