using System.Text;
using DoraOperator.Kube.Config;
using DoraOperator.Kube.Meta;
using DoraOperator.Kube.Rest;
using DoraOperator.Sandbox;

namespace DoraOperator.Kube.Tests;

public sealed class ConfigTests : IAsyncLifetime, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kubeconfig-tests-").FullName;
    private SandboxApiServer _server = null!;

    public async Task InitializeAsync() => _server = await SandboxApiServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private string Ca64 => Convert.ToBase64String(Encoding.ASCII.GetBytes(_server.CaCertificatePem!));

    private string Config(string userBlock, string clusterExtra = "", string? server = null) => $"""
        apiVersion: v1
        kind: Config
        clusters:
        - name: c
          cluster:
            server: {server ?? _server.Url.GetLeftPart(UriPartial.Authority)}
        {clusterExtra}
        users:
        - name: u
          user:
        {userBlock}
        contexts:
        - name: ctx
          context:
            cluster: c
            user: u
            namespace: team-a
        current-context: ctx
        """;

    private static async Task<IReadOnlyCollection<string>> UsersAfterAGet(KubeConnection connection, SandboxApiServer server)
    {
        using var client = new KubeApiClient(connection);
        await client.GetAsync<Namespace>("default");
        return server.Audit.Keys.Select(k => k.User).ToHashSet();
    }

    [Fact]
    public async Task Token_WithCertificateAuthorityData_Authenticates()
    {
        var path = Write("token.yaml", Config($"    token: {_server.AdminToken}", $"    certificate-authority-data: {Ca64}"));
        var connection = KubeConfigLoader.Load(path);
        Assert.Equal("team-a", connection.Namespace);
        using var client = new KubeApiClient(connection);
        var ns = await client.GetAsync<Namespace>("default");
        Assert.Equal("default", ns.Metadata.Name);
    }

    [Fact]
    public async Task CertificateAuthorityFile_IsRelativeToTheKubeconfig_AndTokenFileIsRead()
    {
        Write("ca.pem", _server.CaCertificatePem!);
        Write("token.txt", _server.AdminToken + "\n");
        var path = Write("files.yaml", Config("    tokenFile: token.txt", "    certificate-authority: ca.pem"));
        using var client = new KubeApiClient(KubeConfigLoader.Load(path));
        Assert.Equal("default", (await client.GetAsync<Namespace>("default")).Metadata.Name);
    }

    [Fact]
    public async Task ClientCertificate_Ec_AuthenticatesAsItsCommonName()
    {
        var (cert, key) = _server.IssueClientCertificate("carol", "ops");
        var user = $"    client-certificate-data: {B64(cert)}\n    client-key-data: {B64(key)}";
        var path = Write("cert.yaml", Config(user, $"    certificate-authority-data: {Ca64}"));
        Assert.Contains("carol", await UsersAfterAGet(KubeConfigLoader.Load(path), _server));
    }

    [Fact]
    public async Task ClientCertificate_Rsa_FromFiles_Authenticates()
    {
        var (certPem, keyPem) = IssueRsaClientCertificate();
        Write("client.crt", certPem);
        Write("client.key", keyPem);
        var path = Write("rsa.yaml", Config("    client-certificate: client.crt\n    client-key: client.key", "    insecure-skip-tls-verify: true"));
        var connection = KubeConfigLoader.Load(path);
        Assert.True(connection.InsecureSkipTlsVerify);
        using var client = new KubeApiClient(connection);
        var error = await Assert.ThrowsAsync<KubeApiException>(() => client.GetAsync<Namespace>("default"));
        Assert.True(error.IsUnauthorized, "a certificate from another CA must not authenticate");
    }

    [Fact]
    public async Task BasicAuth_Authenticates()
    {
        _server.AddBasicUser("bob", "s3cret");
        var path = Write("basic.yaml", Config("    username: bob\n    password: s3cret", $"    certificate-authority-data: {Ca64}"));
        Assert.Contains("bob", await UsersAfterAGet(KubeConfigLoader.Load(path), _server));
    }

    [Fact]
    public async Task ExecPlugin_IsRunOnce_AndItsTokenCachedUntilExpiry()
    {
        var script = Write("plugin.sh", """
            #!/bin/sh
            echo run >> "DIR/runs"
            test -n "$KUBERNETES_EXEC_INFO" || exit 3
            cat <<EOF
            {"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"$TOKEN","expirationTimestamp":"2099-01-01T00:00:00Z"}}
            EOF
            """.Replace("DIR", _dir, StringComparison.Ordinal));
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var user = $"""
                exec:
                  apiVersion: client.authentication.k8s.io/v1
                  command: {script}
                  env:
                  - name: TOKEN
                    value: {_server.AdminToken}
            """;
        var path = Write("exec.yaml", Config(user, $"    certificate-authority-data: {Ca64}"));
        using var client = new KubeApiClient(KubeConfigLoader.Load(path));
        await client.GetAsync<Namespace>("default");
        await client.GetAsync<Namespace>("default");
        Assert.Equal(1, client.CredentialRefreshes);
        Assert.Single(File.ReadAllLines(Path.Combine(_dir, "runs")));
    }

    [Fact]
    public async Task ExecPlugin_ThatFails_ReportsItsStderr()
    {
        var script = Write("bad.sh", "#!/bin/sh\necho 'login expired, run: cloud auth login' >&2\nexit 1\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var user = $"    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {script}";
        var path = Write("execbad.yaml", Config(user, $"    certificate-authority-data: {Ca64}"));
        using var client = new KubeApiClient(KubeConfigLoader.Load(path));
        var error = await Assert.ThrowsAsync<KubeConfigException>(() => client.GetAsync<Namespace>("default"));
        Assert.Contains("login expired", error.Message);
        Assert.Contains("exited with 1", error.Message);
    }

    [Fact]
    public void KubeconfigEnv_MergesFiles_FirstValueWins_AndContextSelects()
    {
        var a = Write("a.yaml", """
            apiVersion: v1
            kind: Config
            clusters:
            - name: one
              cluster: {server: "https://one.example:6443"}
            users:
            - name: u
              user: {token: first}
            contexts:
            - name: ctx-one
              context: {cluster: one, user: u}
            current-context: ctx-one
            """);
        var b = Write("b.yaml", """
            apiVersion: v1
            kind: Config
            clusters:
            - name: one
              cluster: {server: "https://ignored.example:6443"}
            - name: two
              cluster: {server: "https://two.example:6443"}
            users:
            - name: u
              user: {token: second}
            contexts:
            - name: ctx-two
              context: {cluster: two, user: u, namespace: ns2}
            current-context: ctx-two
            """);
        string? Env(string name) => name == "KUBECONFIG" ? $"{a}:{b}" : null;
        var current = KubeConfigLoader.Load(env: Env);
        Assert.Equal("one.example", current.Server.Host);
        Assert.Equal("first", current.Token);
        var two = KubeConfigLoader.Load(context: "ctx-two", env: Env);
        Assert.Equal("two.example", two.Server.Host);
        Assert.Equal("ns2", two.Namespace);
        Assert.Equal("first", two.Token);
    }

    [Theory]
    [InlineData("missing-context", "context \"nope\" not found. Available contexts: ctx")]
    [InlineData("missing-cluster", "refers to cluster \"gone\", which is not defined")]
    [InlineData("bad-yaml", "is not valid YAML")]
    [InlineData("bad-base64", "certificate-authority-data is not valid base64")]
    [InlineData("no-server", "has no server")]
    [InlineData("half-cert", "sets client-certificate without client-key")]
    public void BrokenKubeconfigs_GiveMessagesNamingFileContextAndField(string kind, string expected)
    {
        var text = kind switch
        {
            "missing-context" => Config("    token: x"),
            "missing-cluster" => Config("    token: x").Replace("cluster: c\n", "cluster: gone\n", StringComparison.Ordinal),
            "bad-yaml" => "clusters: [\n  - {name: : :",
            "bad-base64" => Config("    token: x", "    certificate-authority-data: not*base64"),
            "no-server" => Config("    token: x").Replace($"server: {_server.Url.GetLeftPart(UriPartial.Authority)}", "insecure-skip-tls-verify: true", StringComparison.Ordinal),
            _ => Config($"    client-certificate-data: {B64("x")}"),
        };
        var path = Write($"{kind}.yaml", text);
        var error = Assert.Throws<KubeConfigException>(() => KubeConfigLoader.Load(path, kind == "missing-context" ? "nope" : null));
        Assert.Contains(expected, error.Message);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void NoConfigAnywhere_SaysHowToTryTheSandbox()
    {
        string? Env(string name) => name == "HOME" ? _dir : null;
        var error = Assert.Throws<KubeConfigException>(() => KubeConfigLoader.LoadDefault(env: Env));
        Assert.Contains("Sandbox", error.Message);
    }

    [Fact]
    public async Task InCluster_ReadsServiceAccountFiles_AndRereadsARotatedToken()
    {
        var sa = Directory.CreateDirectory(Path.Combine(_dir, "sa")).FullName;
        File.WriteAllText(Path.Combine(sa, "token"), "stale-token");
        File.WriteAllText(Path.Combine(sa, "ca.crt"), _server.CaCertificatePem);
        File.WriteAllText(Path.Combine(sa, "namespace"), "operators\n");
        string? Env(string name) => name switch
        {
            "KUBERNETES_SERVICE_HOST" => "127.0.0.1",
            "KUBERNETES_SERVICE_PORT" => _server.Url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => null,
        };
        var connection = KubeConfigLoader.InCluster(sa, Env);
        Assert.Equal("operators", connection.Namespace);
        using var client = new KubeApiClient(connection);
        var denied = await Assert.ThrowsAsync<KubeApiException>(() => client.GetAsync<Namespace>("default"));
        Assert.True(denied.IsUnauthorized);
        File.WriteAllText(Path.Combine(sa, "token"), _server.AdminToken);
        File.SetLastWriteTimeUtc(Path.Combine(sa, "token"), DateTime.UtcNow.AddSeconds(5));
        Assert.Equal("default", (await client.GetAsync<Namespace>("default")).Metadata.Name);
    }

    [Fact]
    public void InCluster_WithoutEnvironment_ExplainsWhatIsMissing()
    {
        var error = Assert.Throws<KubeConfigException>(() => KubeConfigLoader.InCluster(_dir, _ => null));
        Assert.Contains("KUBERNETES_SERVICE_HOST", error.Message);
    }

    private static string B64(string text) => Convert.ToBase64String(Encoding.ASCII.GetBytes(text));

    private static (string Cert, string Key) IssueRsaClientCertificate()
    {
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=rsa-user", rsa, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return (cert.ExportCertificatePem(), rsa.ExportRSAPrivateKeyPem());
    }

    [Fact]
    public async Task ProxyUrl_InTheKubeconfig_TunnelsEveryRequestThroughTheProxy()
    {
        await using var proxy = new DoraOperator.Testing.ConnectProxy();
        var path = Write("proxy.yaml", Config($"    token: {_server.AdminToken}", $"    certificate-authority-data: {Ca64}\n    proxy-url: {proxy.Url}"));
        var connection = KubeConfigLoader.Load(path, env: _ => null);
        Assert.Equal(proxy.Url, connection.Proxy);
        using var client = new KubeApiClient(connection);
        Assert.Equal("default", (await client.GetAsync<Namespace>("default")).Metadata.Name);
        Assert.Contains($"127.0.0.1:{_server.Url.Port}", proxy.Tunnels);
    }

    [Fact]
    public async Task HttpsProxy_FromTheEnvironment_IsUsed_UnlessNoProxyCoversTheServer()
    {
        await using var proxy = new DoraOperator.Testing.ConnectProxy();
        var path = Write("env-proxy.yaml", Config($"    token: {_server.AdminToken}", $"    certificate-authority-data: {Ca64}"));
        var viaProxy = KubeConfigLoader.Load(path, env: name => name == "https_proxy" ? proxy.Url.ToString() : null);
        using (var client = new KubeApiClient(viaProxy)) await client.GetAsync<Namespace>("default");
        Assert.Single(proxy.Tunnels);

        foreach (var noProxy in new[] { "127.0.0.1", "localhost,127.0.0.1:6443", "*" })
        {
            var direct = KubeConfigLoader.Load(path, env: name => name switch { "HTTPS_PROXY" => proxy.Url.ToString(), "NO_PROXY" => noProxy, _ => null });
            Assert.Null(direct.Proxy);
        }
        Assert.Equal(new Uri("http://corp-proxy:3128"), KubeConfigLoader.ProxyFromEnvironment(new Uri("https://api.example.com"), n => n switch { "HTTPS_PROXY" => "corp-proxy:3128", "NO_PROXY" => ".internal", _ => null }));
        Assert.Null(KubeConfigLoader.ProxyFromEnvironment(new Uri("https://api.cluster.internal"), n => n switch { "HTTPS_PROXY" => "corp-proxy:3128", "NO_PROXY" => ".internal", _ => null }));
        Assert.Null(KubeConfigLoader.ProxyFromEnvironment(new Uri("https://cluster.internal"), n => n switch { "HTTPS_PROXY" => "corp-proxy:3128", "NO_PROXY" => "cluster.internal", _ => null }));
    }

    [Theory]
    [InlineData("gcp", "gke-gcloud-auth-plugin")]
    [InlineData("azure", "kubelogin")]
    [InlineData("oidc", "kubelogin")]
    public void AuthProviderUsers_AreRefused_NamingThePluginThatReplacedThem(string provider, string plugin)
    {
        var path = Write($"auth-provider-{provider}.yaml", Config($"    auth-provider:\n      name: {provider}\n      config: {{access-token: x}}"));
        var e = Assert.Throws<KubeConfigException>(() => KubeConfigLoader.Load(path));
        Assert.Contains($"auth-provider \"{provider}\"", e.Message, StringComparison.Ordinal);
        Assert.Contains(plugin, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ProxyUrl_ThatIsNotAUrl_IsAClearError()
    {
        var path = Write("bad-proxy.yaml", Config($"    token: t", "    proxy-url: ftp://nope"));
        var e = Assert.Throws<KubeConfigException>(() => KubeConfigLoader.Load(path));
        Assert.Contains("proxy-url \"ftp://nope\" is not an http, https or socks5 URL", e.Message, StringComparison.Ordinal);
    }
}
