using DoraOperator.Kube.Config;
using DoraOperator.Kube.Meta;
using DoraOperator.Kube.Rest;
using DoraOperator.Sandbox;
using Microsoft.Extensions.Time.Testing;

namespace DoraOperator.Kube.Tests;

/// <summary>
/// The client-side limit against servers with and without API Priority and Fairness, and 429 with
/// Retry-After from an overloaded server. The limiter runs on a fake clock, so a request held by it
/// stays pending until the test moves the clock: no timing in the assertions.
/// </summary>
public sealed class PriorityAndFairnessTests
{
    private static async Task<(SandboxApiServer Server, KubeApiClient Client, string Kubeconfig)> StartAsync(SandboxOptions options, KubeClientOptions client, TimeProvider? time = null)
    {
        var kubeconfig = Path.Combine(Path.GetTempPath(), $"apf-{Guid.NewGuid():N}.kubeconfig");
        var server = await SandboxApiServer.StartAsync(options with { KubeconfigPath = kubeconfig });
        return (server, new KubeApiClient(KubeConfigLoader.Load(kubeconfig), client, time), kubeconfig);
    }

    private static async Task StopAsync(SandboxApiServer server, KubeApiClient client, string kubeconfig)
    {
        client.Dispose();
        await server.DisposeAsync();
        File.Delete(kubeconfig);
    }

    [Fact]
    public async Task TheLimitIsLiftedOnceTheServerShowsPriorityAndFairness()
    {
        var time = new FakeTimeProvider();
        var (server, client, kubeconfig) = await StartAsync(new SandboxOptions(), new KubeClientOptions { Qps = 1, Burst = 2, LiftLimitUnderPriorityAndFairness = true }, time);
        try
        {
            Assert.True(client.RateLimited);
            // Ten requests with one token a second and the clock standing still: only possible without the limit.
            for (var i = 0; i < 10; i++) await client.GetAsync<Namespace>("default").WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(client.ServerAppliesPriorityAndFairness);
            Assert.False(client.RateLimited);
        }
        finally
        {
            await StopAsync(server, client, kubeconfig);
        }
    }

    [Theory]
    [InlineData(false, true)] // an older server, or APF turned off: the limit stays
    [InlineData(true, false)] // a limit asked for explicitly stays whatever the server
    public async Task TheLimitStays(bool serverAppliesPriorityAndFairness, bool lift)
    {
        var time = new FakeTimeProvider();
        var (server, client, kubeconfig) = await StartAsync(new SandboxOptions { PriorityAndFairness = serverAppliesPriorityAndFairness },
            new KubeClientOptions { Qps = 1, Burst = 2, LiftLimitUnderPriorityAndFairness = lift }, time);
        try
        {
            await client.GetAsync<Namespace>("default");
            await client.GetAsync<Namespace>("default");
            var third = client.GetAsync<Namespace>("default");
            await Task.Delay(TimeSpan.FromMilliseconds(300), TimeProvider.System);
            Assert.False(third.IsCompleted, "the third request went out with the bucket empty");
            time.Advance(TimeSpan.FromSeconds(1));
            await third.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(serverAppliesPriorityAndFairness, client.ServerAppliesPriorityAndFairness);
            Assert.True(client.RateLimited);
        }
        finally
        {
            await StopAsync(server, client, kubeconfig);
        }
    }

    [Fact]
    public async Task AnOverloadedServerAnswers429WithRetryAfter_AndTheClientWaitsAndRetries()
    {
        var codes = new System.Collections.Concurrent.ConcurrentQueue<int>();
        var (server, client, kubeconfig) = await StartAsync(new SandboxOptions { MaxRequestsInFlight = 1 },
            new KubeClientOptions { Qps = 0, OnResponse = (_, code) => codes.Enqueue(code) });
        try
        {
            // One slow request holds the only seat for 3 s; the five sent meanwhile are turned away, wait the second asked for (again while it is held), and succeed.
            server.Faults.Add(new Sandbox.Faults.FaultRule { Verb = "list", Resource = "configmaps", Code = 0, Delay = TimeSpan.FromSeconds(3) });
            var slow = client.ListAsync<ConfigMap>("default");
            await Task.Delay(TimeSpan.FromMilliseconds(200), TimeProvider.System);
            var others = Enumerable.Range(0, 5).Select(_ => client.GetAsync<Namespace>("kube-system")).ToList();
            await slow;
            await Task.WhenAll(others);
            Assert.True(server.RejectedRequests >= 5, $"{server.RejectedRequests} rejected");
            Assert.Equal(server.RejectedRequests, codes.Count(c => c == 429));
            Assert.Equal(6, codes.Count(c => c == 200));

            // What it answered, as kube-apiserver does: plain text and Retry-After in seconds, with the APF headers.
            using var http = server.CreateHttpClient();
            server.Faults.Add(new Sandbox.Faults.FaultRule { Verb = "list", Resource = "configmaps", Code = 0, Delay = TimeSpan.FromSeconds(3) });
            var held = http.GetAsync(new Uri("/api/v1/namespaces/default/configmaps", UriKind.Relative));
            await Task.Delay(TimeSpan.FromMilliseconds(200), TimeProvider.System);
            using var rejected = await http.GetAsync(new Uri("/api/v1/namespaces/kube-system", UriKind.Relative));
            Assert.Equal(429, (int)rejected.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(1), rejected.Headers.RetryAfter!.Delta);
            Assert.Equal("Too many requests, please try again later.\n", await rejected.Content.ReadAsStringAsync());
            Assert.True(rejected.Headers.Contains(KubeApiClient.FlowSchemaHeader));
            using var served = await held;
            Assert.Equal(200, (int)served.StatusCode);
        }
        finally
        {
            await StopAsync(server, client, kubeconfig);
        }
    }
}
