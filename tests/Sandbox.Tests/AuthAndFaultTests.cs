using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using DoraOperator.Sandbox.Faults;
using DoraOperator.Testing;

namespace DoraOperator.Sandbox.Tests;

public sealed class AuthAndFaultTests
{
    [Fact]
    public async Task RequestsWithoutValidCredentials_Get401()
    {
        await using var server = await SandboxApiServer.StartAsync();
        using var anonymous = new ApiClient(server, token: "wrong");
        ProtocolTests.AssertStatus(await anonymous.GetAsync("/api/v1/namespaces"), 401, "Unauthorized", "Unauthorized");
        Assert.Equal(200, (await anonymous.GetAsync("/version")).Code);
    }

    [Fact]
    public async Task ClientCertificatesSignedByTheSandboxCa_Authenticate()
    {
        await using var server = await SandboxApiServer.StartAsync();
        var (certPem, keyPem) = server.IssueClientCertificate("alice", "devs");
        using var cert = X509Certificate2.CreateFromPem(certPem, keyPem);
        using var exportable = X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [exportable],
                RemoteCertificateValidationCallback = (_, serverCert, _, _) => serverCert is not null && ServerCaTrusts(serverCert),
            },
        };
        using var http = new HttpClient(handler) { BaseAddress = server.Url };
        var reply = await http.GetAsync("/api/v1/namespaces");
        Assert.Equal(200, (int)reply.StatusCode);
        Assert.Contains(server.Audit.Keys, k => k.User == "alice" && k.Verb == "list");
    }

    private static bool ServerCaTrusts(X509Certificate serverCert) =>
        serverCert.Subject.Contains("dora-sandbox-apiserver", StringComparison.Ordinal);

    [Fact]
    public async Task PlainHttp_IsAvailable()
    {
        await using var server = await SandboxApiServer.StartAsync(new SandboxOptions { Https = false });
        Assert.Equal("http", server.Url.Scheme);
        using var api = new ApiClient(server);
        Assert.Equal(200, (await api.GetAsync("/api/v1/namespaces/default")).Code);
    }

    [Fact]
    public async Task InjectedFaults_FailTheNextMatchingRequests_ThenStop()
    {
        await using var server = await SandboxApiServer.StartAsync();
        using var api = new ApiClient(server);
        server.Faults.Add(new FaultRule { Verb = "get", Resource = "namespaces", Code = 500, Times = 2 });
        server.Faults.Add(new FaultRule { Verb = "list", Resource = "configmaps", Code = 429, RetryAfterSeconds = 3 });
        Assert.Equal(500, (await api.GetAsync("/api/v1/namespaces/default")).Code);
        Assert.Equal(500, (await api.GetAsync("/api/v1/namespaces/default")).Code);
        Assert.Equal(200, (await api.GetAsync("/api/v1/namespaces/default")).Code);
        var throttled = await api.GetAsync("/api/v1/namespaces/default/configmaps");
        ProtocolTests.AssertStatus(throttled, 429, "TooManyRequests", "Too many requests");
        Assert.Equal("3", throttled.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(200, (await api.GetAsync("/api/v1/namespaces/default/configmaps")).Code);
        Assert.Equal(3, server.Faults.Fired);
    }

    [Fact]
    public async Task StartsQuickly()
    {
        // Serves its first request once StartAsync returns (start-up time is measured by the bench, not asserted here).
        await using var server = await SandboxApiServer.StartAsync();
        using var api = new ApiClient(server);
        Assert.Equal(200, (await api.GetAsync("/api/v1/namespaces")).Code);
    }
}
