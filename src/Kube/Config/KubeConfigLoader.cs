using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace DoraOperator.Kube.Config;

/// <summary>
/// Loads a <see cref="KubeConnection"/> the way kubectl does: an explicit <c>--kubeconfig</c> path,
/// else the files in <c>KUBECONFIG</c> merged (the first file to set a value wins), else
/// <c>~/.kube/config</c>; <c>--context</c> or the current context. <see cref="InCluster"/> reads the
/// service-account files. Every failure is a <see cref="KubeConfigException"/> saying what to fix.
/// </summary>
public static class KubeConfigLoader
{
    public const string ServiceAccountRoot = "/var/run/secrets/kubernetes.io/serviceaccount";

    private sealed record Entry(string Name, YamlMappingNode Body, string File);

    /// <summary>The default for a process: an explicit kubeconfig or context wins; else in-cluster when running in a pod; else the kubeconfig files.</summary>
    public static KubeConnection LoadDefault(string? kubeconfig = null, string? context = null, Func<string, string?>? env = null)
    {
        env ??= Environment.GetEnvironmentVariable;
        if (kubeconfig is null && context is null && !string.IsNullOrEmpty(env("KUBERNETES_SERVICE_HOST")) && File.Exists(Path.Combine(ServiceAccountRoot, "token")))
        {
            return InCluster(env: env);
        }
        return Load(kubeconfig, context, env);
    }

    public static KubeConnection Load(string? kubeconfig = null, string? context = null, Func<string, string?>? env = null)
    {
        env ??= Environment.GetEnvironmentVariable;
        List<string> files;
        if (!string.IsNullOrEmpty(kubeconfig))
        {
            if (!File.Exists(kubeconfig)) throw new KubeConfigException($"kubeconfig {kubeconfig} (from --kubeconfig) does not exist. Pass the path of an existing kubeconfig file.");
            files = [kubeconfig];
        }
        else if (env("KUBECONFIG") is { Length: > 0 } list)
        {
            files = list.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Where(File.Exists).ToList();
            if (files.Count == 0) throw new KubeConfigException($"none of the files in KUBECONFIG ({list}) exist. Point KUBECONFIG at a kubeconfig file, or unset it to use ~/.kube/config.");
        }
        else
        {
            var home = env("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            var path = Path.Combine(home, ".kube", "config");
            if (!File.Exists(path))
            {
                throw new KubeConfigException(
                    $"no Kubernetes configuration found: {path} does not exist, KUBECONFIG is not set and this is not a pod (KUBERNETES_SERVICE_HOST is unset). " +
                    "Pass --kubeconfig, or try everything locally with the Sandbox: dotnet run --project src/Sandbox");
            }
            files = [path];
        }

        var clusters = new Dictionary<string, Entry>();
        var users = new Dictionary<string, Entry>();
        var contexts = new Dictionary<string, Entry>();
        string? current = null;
        foreach (var file in files)
        {
            var root = Parse(file);
            current ??= Scalar(root, "current-context");
            Collect(root, "clusters", "cluster", file, clusters);
            Collect(root, "users", "user", file, users);
            Collect(root, "contexts", "context", file, contexts);
        }
        var where = files.Count == 1 ? $"kubeconfig {files[0]}" : $"kubeconfig files {string.Join(", ", files)}";
        var contextName = context ?? current;
        if (string.IsNullOrEmpty(contextName))
            throw new KubeConfigException($"{where}: no current-context is set. Pass --context with one of: {Names(contexts)}.");
        if (!contexts.TryGetValue(contextName, out var ctx))
            throw new KubeConfigException($"{where}: context \"{contextName}\" not found. Available contexts: {Names(contexts)}.");
        var clusterName = Scalar(ctx.Body, "cluster");
        if (string.IsNullOrEmpty(clusterName) || !clusters.TryGetValue(clusterName, out var cluster))
            throw new KubeConfigException($"{ctx.File}: context \"{contextName}\" refers to cluster \"{clusterName}\", which is not defined. Available clusters: {Names(clusters)}.");
        var userName = Scalar(ctx.Body, "user");
        Entry? user = null;
        if (!string.IsNullOrEmpty(userName) && !users.TryGetValue(userName, out user))
            throw new KubeConfigException($"{ctx.File}: context \"{contextName}\" refers to user \"{userName}\", which is not defined. Available users: {Names(users)}.");

        var field = $"{cluster.File}: cluster \"{clusterName}\"";
        var serverText = Scalar(cluster.Body, "server");
        if (string.IsNullOrEmpty(serverText)) throw new KubeConfigException($"{field} has no server. Set clusters[].cluster.server to the API server URL, e.g. https://127.0.0.1:6443.");
        if (!Uri.TryCreate(serverText, UriKind.Absolute, out var server) || server.Scheme is not ("https" or "http"))
            throw new KubeConfigException($"{field}: server \"{serverText}\" is not an http(s) URL.");

        var proxyText = Scalar(cluster.Body, "proxy-url");
        Uri? proxy = null;
        if (!string.IsNullOrEmpty(proxyText) && (!Uri.TryCreate(proxyText, UriKind.Absolute, out proxy) || proxy.Scheme is not ("http" or "https" or "socks5")))
            throw new KubeConfigException($"{field}: proxy-url \"{proxyText}\" is not an http, https or socks5 URL.");
        var connection = new KubeConnection
        {
            Server = server,
            Proxy = proxy ?? ProxyFromEnvironment(server, env),
            Namespace = Scalar(ctx.Body, "namespace") is { Length: > 0 } ns ? ns : "default",
            Source = $"{where}, context \"{contextName}\"",
            InsecureSkipTlsVerify = Scalar(cluster.Body, "insecure-skip-tls-verify") == "true",
            TlsServerName = Scalar(cluster.Body, "tls-server-name"),
            CertificateAuthorities = LoadAuthorities(cluster, field),
        };
        if (user is null) return connection;
        var userField = $"{user.File}: user \"{userName}\"";
        if (user.Body.Children.TryGetValue(new YamlScalarNode("auth-provider"), out var provider) && provider is YamlMappingNode providerMap
            && !user.Body.Children.ContainsKey(new YamlScalarNode("exec")))
        {
            var name = Scalar(providerMap, "name") ?? "";
            var plugin = name switch
            {
                "gcp" => "gke-gcloud-auth-plugin (gcloud components install gke-gcloud-auth-plugin)",
                "azure" => "kubelogin (az aks install-cli; kubelogin convert-kubeconfig)",
                "oidc" => "kubelogin (the int128/kubelogin oidc-login plugin)",
                _ => "the exec credential plugin your provider documents",
            };
            throw new KubeConfigException($"{userField} uses auth-provider \"{name}\", which Kubernetes clients no longer support (removed in kubectl 1.26). Switch the user to an exec plugin: {plugin}.");
        }
        var certData = PemData(user, "client-certificate", userField);
        var keyData = PemData(user, "client-key", userField);
        if ((certData is null) != (keyData is null))
            throw new KubeConfigException($"{userField} sets {(certData is null ? "client-key" : "client-certificate")} without {(certData is null ? "client-certificate" : "client-key")}; both are needed for certificate authentication.");
        return connection with
        {
            Token = Scalar(user.Body, "token"),
            TokenFile = Resolve(user.File, Scalar(user.Body, "tokenFile")),
            Username = Scalar(user.Body, "username"),
            Password = Scalar(user.Body, "password"),
            ClientCertificate = certData is null ? null : LoadClientCertificate(certData, keyData!, userField),
            Exec = LoadExec(user, userField),
        };
    }

    /// <summary>
    /// The proxy the environment names for <paramref name="server"/>, as kubectl (Go's net/http) reads it:
    /// HTTPS_PROXY for https servers, HTTP_PROXY for http (either case), none when NO_PROXY lists the
    /// host (an exact host or IP, a domain suffix with or without a leading dot, or <c>*</c>).
    /// </summary>
    public static Uri? ProxyFromEnvironment(Uri server, Func<string, string?> env)
    {
        string? Var(string name) => env(name) is { Length: > 0 } upper ? upper : env(name.ToLowerInvariant()) is { Length: > 0 } lower ? lower : null;
        var text = server.Scheme == "https" ? Var("HTTPS_PROXY") : Var("HTTP_PROXY");
        if (text is null) return null;
        var host = server.IdnHost.Trim('[', ']');
        foreach (var entry in (Var("NO_PROXY") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var rule = entry.Split(':')[0].TrimStart('*');
            if (entry == "*" || string.Equals(host, rule.TrimStart('.'), StringComparison.OrdinalIgnoreCase)
                || (rule.Length > 0 && host.EndsWith(rule.StartsWith('.') ? rule : "." + rule, StringComparison.OrdinalIgnoreCase)))
            {
                return null;
            }
        }
        if (!text.Contains("://", StringComparison.Ordinal)) text = "http://" + text;
        return Uri.TryCreate(text, UriKind.Absolute, out var proxy) ? proxy : throw new KubeConfigException($"the proxy in {(server.Scheme == "https" ? "HTTPS_PROXY" : "HTTP_PROXY")} (\"{text}\") is not a URL.");
    }

    /// <summary>In-cluster configuration from KUBERNETES_SERVICE_HOST/PORT and the service-account folder.</summary>
    public static KubeConnection InCluster(string root = ServiceAccountRoot, Func<string, string?>? env = null)
    {
        env ??= Environment.GetEnvironmentVariable;
        var host = env("KUBERNETES_SERVICE_HOST");
        var port = env("KUBERNETES_SERVICE_PORT");
        if (string.IsNullOrEmpty(host) || string.IsNullOrEmpty(port))
            throw new KubeConfigException("in-cluster configuration needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT, which Kubernetes sets in every pod. Outside a cluster, pass --kubeconfig.");
        var tokenFile = Path.Combine(root, "token");
        if (!File.Exists(tokenFile))
            throw new KubeConfigException($"in-cluster configuration: {tokenFile} does not exist. Is automountServiceAccountToken disabled for this pod?");
        var caFile = Path.Combine(root, "ca.crt");
        X509Certificate2Collection? cas = null;
        if (File.Exists(caFile))
        {
            cas = [];
            try
            {
                cas.ImportFromPemFile(caFile);
            }
            catch (CryptographicException e)
            {
                throw new KubeConfigException($"in-cluster configuration: {caFile} is not a PEM certificate bundle: {e.Message}", e);
            }
        }
        var nsFile = Path.Combine(root, "namespace");
        var hostPart = host.Contains(':') ? $"[{host}]" : host;
        return new KubeConnection
        {
            Server = new Uri($"https://{hostPart}:{port}"),
            Namespace = File.Exists(nsFile) ? File.ReadAllText(nsFile).Trim() : "default",
            Source = $"in-cluster service account ({root})",
            CertificateAuthorities = cas,
            TokenFile = tokenFile,
        };
    }

    private static YamlMappingNode Parse(string file)
    {
        try
        {
            var stream = new YamlStream();
            using var reader = new StreamReader(file);
            stream.Load(reader);
            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode map)
                throw new KubeConfigException($"kubeconfig {file} is empty or not a YAML mapping.");
            return map;
        }
        catch (YamlException e)
        {
            throw new KubeConfigException($"kubeconfig {file} is not valid YAML (line {e.Start.Line}, column {e.Start.Column}): {e.Message}", e);
        }
        catch (IOException e)
        {
            throw new KubeConfigException($"kubeconfig {file} cannot be read: {e.Message}", e);
        }
    }

    private static void Collect(YamlMappingNode root, string listKey, string bodyKey, string file, Dictionary<string, Entry> into)
    {
        if (!root.Children.TryGetValue(new YamlScalarNode(listKey), out var node) || node is not YamlSequenceNode list) return;
        var i = 0;
        foreach (var item in list)
        {
            if (item is not YamlMappingNode map) throw new KubeConfigException($"kubeconfig {file}: {listKey}[{i}] is not a mapping.");
            var name = Scalar(map, "name");
            if (string.IsNullOrEmpty(name)) throw new KubeConfigException($"kubeconfig {file}: {listKey}[{i}] has no name.");
            var body = map.Children.TryGetValue(new YamlScalarNode(bodyKey), out var b) && b is YamlMappingNode bm ? bm : new YamlMappingNode();
            into.TryAdd(name, new Entry(name, body, file));
            i++;
        }
    }

    private static string? Scalar(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) && node is YamlScalarNode s ? s.Value : null;

    private static string Names(Dictionary<string, Entry> entries) => entries.Count == 0 ? "(none)" : string.Join(", ", entries.Keys.Order(StringComparer.Ordinal));

    private static string? Resolve(string kubeconfigFile, string? path) =>
        string.IsNullOrEmpty(path) || Path.IsPathRooted(path) ? path : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(kubeconfigFile))!, path);

    /// <summary>PEM text from <c>{key}-data</c> (base64) or the file at <c>{key}</c>.</summary>
    private static string? PemData(Entry entry, string key, string field)
    {
        if (Scalar(entry.Body, key + "-data") is { Length: > 0 } data)
        {
            try
            {
                return Encoding.UTF8.GetString(Convert.FromBase64String(data));
            }
            catch (FormatException)
            {
                throw new KubeConfigException($"{field}: {key}-data is not valid base64. It must hold the base64 of a PEM file.");
            }
        }
        if (Resolve(entry.File, Scalar(entry.Body, key)) is { } path)
        {
            if (!File.Exists(path)) throw new KubeConfigException($"{field}: {key} file {path} does not exist.");
            return File.ReadAllText(path);
        }
        return null;
    }

    private static X509Certificate2Collection? LoadAuthorities(Entry cluster, string field)
    {
        var pem = PemData(cluster, "certificate-authority", field);
        if (pem is null) return null;
        var cas = new X509Certificate2Collection();
        try
        {
            cas.ImportFromPem(pem);
        }
        catch (CryptographicException e)
        {
            throw new KubeConfigException($"{field}: certificate-authority is not a PEM certificate: {e.Message}", e);
        }
        if (cas.Count == 0) throw new KubeConfigException($"{field}: certificate-authority holds no PEM certificate.");
        return cas;
    }

    private static X509Certificate2 LoadClientCertificate(string certPem, string keyPem, string field)
    {
        try
        {
            using var ephemeral = X509Certificate2.CreateFromPem(certPem, keyPem);
            // Round-trip through PKCS#12 so TLS can use the key on every platform.
            return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
        }
        catch (CryptographicException e)
        {
            throw new KubeConfigException($"{field}: client-certificate/client-key could not be loaded (PEM RSA or EC key expected, and the key must match the certificate): {e.Message}", e);
        }
    }

    private static ExecConfig? LoadExec(Entry user, string field)
    {
        if (!user.Body.Children.TryGetValue(new YamlScalarNode("exec"), out var node) || node is not YamlMappingNode exec) return null;
        var command = Scalar(exec, "command");
        if (string.IsNullOrEmpty(command)) throw new KubeConfigException($"{field}: exec has no command.");
        var apiVersion = Scalar(exec, "apiVersion") ?? "";
        if (apiVersion is not ("client.authentication.k8s.io/v1" or "client.authentication.k8s.io/v1beta1"))
            throw new KubeConfigException($"{field}: exec apiVersion \"{apiVersion}\" is not supported; use client.authentication.k8s.io/v1.");
        var args = exec.Children.TryGetValue(new YamlScalarNode("args"), out var a) && a is YamlSequenceNode seq
            ? seq.Select(x => ((YamlScalarNode)x).Value ?? "").ToList()
            : [];
        var env = new Dictionary<string, string>();
        if (exec.Children.TryGetValue(new YamlScalarNode("env"), out var e) && e is YamlSequenceNode envs)
        {
            foreach (var item in envs.OfType<YamlMappingNode>())
            {
                if (Scalar(item, "name") is { } n) env[n] = Scalar(item, "value") ?? "";
            }
        }
        return new ExecConfig(command, args, env, apiVersion, Scalar(exec, "installHint"));
    }
}
