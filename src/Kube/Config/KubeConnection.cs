using System.Security.Cryptography.X509Certificates;

namespace DoraOperator.Kube.Config;

/// <summary>An exec credential plugin (client.authentication.k8s.io/v1) from a kubeconfig user.</summary>
public sealed record ExecConfig(string Command, IReadOnlyList<string> Args, IReadOnlyDictionary<string, string> Env, string ApiVersion, string? InstallHint);

/// <summary>
/// Everything needed to reach and authenticate to one API server, resolved from a kubeconfig
/// context or from in-cluster service-account files. <see cref="Source"/> says where it came from,
/// for error messages.
/// </summary>
public sealed record KubeConnection
{
    public required Uri Server { get; init; }
    public string Namespace { get; init; } = "default";
    public string Source { get; init; } = "";
    public X509Certificate2Collection? CertificateAuthorities { get; init; }
    public bool InsecureSkipTlsVerify { get; init; }
    public string? TlsServerName { get; init; }
    public string? Token { get; init; }
    /// <summary>A file holding the bearer token; re-read when it changes (service-account tokens rotate).</summary>
    public string? TokenFile { get; init; }
    public X509Certificate2? ClientCertificate { get; init; }
    public string? Username { get; init; }
    public string? Password { get; init; }
    public ExecConfig? Exec { get; init; }
    /// <summary>The proxy requests go through (http, https or socks5), or null for none: the cluster's <c>proxy-url</c>, else HTTPS_PROXY/HTTP_PROXY unless NO_PROXY covers the server.</summary>
    public Uri? Proxy { get; init; }
}

/// <summary>A configuration problem, with a message that names the file, context and field, and what to do.</summary>
public sealed class KubeConfigException(string message, Exception? inner = null) : Exception(message, inner);
