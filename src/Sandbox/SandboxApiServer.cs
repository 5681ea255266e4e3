using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using DoraOperator.Sandbox.Controllers;
using DoraOperator.Sandbox.Faults;
using DoraOperator.Sandbox.Http;
using DoraOperator.Sandbox.Resources;
using DoraOperator.Sandbox.Security;
using DoraOperator.Sandbox.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DoraOperator.Sandbox;

/// <summary>
/// An in-memory Kubernetes API server on 127.0.0.1 that speaks the real REST and watch protocol,
/// for tests, benchmarks and trying the product without a cluster.
/// <code>await using var api = await SandboxApiServer.StartAsync(new SandboxOptions());</code>
/// </summary>
public sealed class SandboxApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CertificateAuthority? _ca;
    private readonly X509Certificate2? _serverCert;
    private readonly Authenticator _authenticator;
    private readonly ApiHandler _handler;
    private readonly ObjectStore _store;
    private readonly ResourceRegistry _registry;

    private SandboxApiServer(WebApplication app, CertificateAuthority? ca, X509Certificate2? serverCert, Authenticator authenticator,
        ApiHandler handler, ObjectStore store, ResourceRegistry registry, DeploymentSimulator? deployments, FaultInjector faults, SandboxOptions options, string adminToken)
    {
        _app = app;
        _ca = ca;
        _serverCert = serverCert;
        _authenticator = authenticator;
        _handler = handler;
        _store = store;
        _registry = registry;
        Deployments = deployments;
        Faults = faults;
        Options = options;
        AdminToken = adminToken;
    }

    public SandboxOptions Options { get; }

    /// <summary>The server's base address, e.g. https://127.0.0.1:43123.</summary>
    public Uri Url { get; private set; } = null!;

    public string AdminToken { get; }

    /// <summary>PEM of the CA that signed the serving certificate (null over plain HTTP).</summary>
    public string? CaCertificatePem => _ca?.CertificatePem;

    /// <summary>The simulated Deployment controller, when enabled.</summary>
    public DeploymentSimulator? Deployments { get; }

    /// <summary>The simulated StatefulSet and DaemonSet controllers (with the Deployment controller); null when off.</summary>
    public RevisionSimulator? Revisions { get; private init; }

    /// <summary>The simulated Argo Rollouts controller; it acts once the Rollout CRD (<see cref="ArgoRolloutSimulator.CrdManifest"/>) is installed.</summary>
    public ArgoRolloutSimulator? ArgoRollouts { get; private init; }

    public FaultInjector Faults { get; }

    /// <summary>Every (user, verb, group, resource, subresource) served so far, with counts.</summary>
    public IReadOnlyDictionary<AuditKey, int> Audit => _handler.Audit;

    /// <summary>Requests answered 429 because too many were in flight (<see cref="SandboxOptions.MaxRequestsInFlight"/>).</summary>
    public int RejectedRequests => _handler.Rejected;

    /// <summary>How many watch connections are open now.</summary>
    public int OpenWatches => _store.OpenWatchers().Count;

    /// <summary>The latest resourceVersion issued.</summary>
    public long ResourceVersion => _store.CurrentResourceVersion;

    public static async Task<SandboxApiServer> StartAsync(SandboxOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new SandboxOptions();
        var time = options.TimeProvider;
        var registry = new ResourceRegistry();
        var store = new ObjectStore(time, options.WatchHistory, managedFields: options.ManagedFields);
        var ca = options.Https ? new CertificateAuthority(time) : null;
        var serverCert = ca?.IssueServerCertificate();
        var authenticator = new Authenticator(ca);
        var adminToken = options.AdminToken ?? Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        authenticator.AddToken(adminToken, new UserInfo("sandbox-admin", ["system:masters", "system:authenticated"]));
        SeedNamespaces(store, registry);
        _ = new CrdController(store, registry);

        ApiHandler? handler = null;
        Uri? url = null;
        var faults = new FaultInjector(store.CloseAllWatchers, () => handler!.FreezeWatches(), store.CompactHistory);
        handler = new ApiHandler(store, registry, authenticator, faults, options, () => url!.Authority);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<Microsoft.Extensions.Hosting.HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1));
        // Embedded: the program that starts the Sandbox owns Ctrl+C and SIGTERM, not this host.
        builder.Services.AddSingleton<Microsoft.Extensions.Hosting.IHostLifetime, EmbeddedLifetime>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = 16 * 1024 * 1024;
            kestrel.Listen(IPAddress.Loopback, options.Port, listen =>
            {
                if (serverCert is null) return;
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = serverCert,
                    ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                    ClientCertificateValidation = (_, _, _) => true,
                    CheckCertificateRevocation = false,
                });
            });
        });
        var app = builder.Build();
        app.Run(handler.HandleAsync);
        await app.StartAsync(cancellationToken);
        var address = app.Urls.First();
        url = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
        var deployments = options.DeploymentController ? new DeploymentSimulator(store, registry, options.RolloutPace) : null;
        var revisions = options.DeploymentController ? new RevisionSimulator(store, registry, options.RolloutPace) : null;
        var argo = options.DeploymentController ? new ArgoRolloutSimulator(store, registry) : null;
        var server = new SandboxApiServer(app, ca, serverCert, authenticator, handler, store, registry, deployments, faults, options, adminToken)
        {
            Url = url,
            Revisions = revisions,
            ArgoRollouts = argo,
        };
        if (options.KubeconfigPath is not null) await server.WriteKubeconfigAsync(options.KubeconfigPath, null, null, cancellationToken);
        return server;
    }

    private static void SeedNamespaces(ObjectStore store, ResourceRegistry registry)
    {
        var namespaces = registry.FindByKey("/namespaces")!;
        foreach (var name in new[] { "default", "kube-system", "kube-public", "kube-node-lease" })
        {
            var ns = new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "Namespace",
                ["metadata"] = new JsonObject { ["name"] = name },
            };
            Validation.Admission.PrepareCreate(namespaces, "v1", ns, Validation.FieldValidation.Ignore, []);
            store.Create(namespaces, ns);
        }
    }

    /// <summary>Adds a bearer token for a user (for RBAC and multi-user tests).</summary>
    public void AddToken(string token, string user, params string[] groups) => _authenticator.AddToken(token, new UserInfo(user, groups));

    /// <summary>Accepts HTTP basic auth for a user (only to test clients; real clusters dropped basic auth).</summary>
    public void AddBasicUser(string name, string password) => _authenticator.AddBasicUser(name, password, new UserInfo(name, ["system:authenticated"]));

    /// <summary>A client certificate and key (PEM) signed by the Sandbox CA, for x509 authentication.</summary>
    public (string CertificatePem, string KeyPem) IssueClientCertificate(string user, params string[] groups) =>
        (_ca ?? throw new InvalidOperationException("client certificates need the HTTPS Sandbox (SandboxOptions.Https = true)")).IssueClientCertificate(user, groups);

    /// <summary>Writes a kubeconfig (cluster, admin token user, context "sandbox") that kubectl and our client accept.</summary>
    public async Task WriteKubeconfigAsync(string path, string? @namespace = null, string? token = null, CancellationToken cancellationToken = default)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(path, Kubeconfig(@namespace, token), cancellationToken);
    }

    /// <summary>
    /// A bearer token that authenticates as ServiceAccount <paramref name="name"/> of
    /// <paramref name="namespace"/> (user <c>system:serviceaccount:NS:NAME</c>, with the groups a real
    /// service account token carries). With <see cref="SandboxOptions.Authorization"/> RBAC, what it may
    /// do is what the Roles bound to that ServiceAccount allow.
    /// </summary>
    public string AddServiceAccountToken(string @namespace, string name)
    {
        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        AddToken(token, $"system:serviceaccount:{@namespace}:{name}", "system:serviceaccounts", $"system:serviceaccounts:{@namespace}", "system:authenticated");
        return token;
    }

    /// <summary>The kubeconfig text for this server (the admin token unless <paramref name="token"/> is given).</summary>
    public string Kubeconfig(string? @namespace = null, string? token = null)
    {
        var sb = new StringBuilder();
        sb.AppendLine("apiVersion: v1");
        sb.AppendLine("kind: Config");
        sb.AppendLine("clusters:");
        sb.AppendLine("- name: sandbox");
        sb.AppendLine("  cluster:");
        sb.AppendLine($"    server: {Url.GetLeftPart(UriPartial.Authority)}");
        if (_ca is not null) sb.AppendLine($"    certificate-authority-data: {Convert.ToBase64String(Encoding.ASCII.GetBytes(_ca.CertificatePem))}");
        sb.AppendLine("users:");
        sb.AppendLine("- name: sandbox-admin");
        sb.AppendLine("  user:");
        sb.AppendLine($"    token: {token ?? AdminToken}");
        sb.AppendLine("contexts:");
        sb.AppendLine("- name: sandbox");
        sb.AppendLine("  context:");
        sb.AppendLine("    cluster: sandbox");
        sb.AppendLine("    user: sandbox-admin");
        sb.AppendLine($"    namespace: {@namespace ?? "default"}");
        sb.AppendLine("current-context: sandbox");
        return sb.ToString();
    }

    /// <summary>An HttpClient that trusts the Sandbox CA and sends the admin token: for tests that speak raw HTTP.</summary>
    public HttpClient CreateHttpClient(string? token = null)
    {
        var handler = new SocketsHttpHandler();
        if (_ca is not null)
        {
            var ca = _ca;
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && ca.Issued(X509CertificateLoader.LoadCertificate(cert.GetRawCertData())),
            };
        }
        var client = new HttpClient(handler) { BaseAddress = Url, Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token ?? AdminToken);
        return client;
    }

    private sealed class EmbeddedLifetime : Microsoft.Extensions.Hosting.IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        _store.CloseAllWatchers();
        if (Deployments is not null) await Deployments.DisposeAsync();
        if (Revisions is not null) await Revisions.DisposeAsync();
        if (ArgoRollouts is not null) await ArgoRollouts.DisposeAsync();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        _serverCert?.Dispose();
        _ca?.Dispose();
    }
}
