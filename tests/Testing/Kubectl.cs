using System.Diagnostics;
using System.Text.Json.Nodes;

namespace DoraOperator.Testing;

/// <summary>The result of one kubectl run.</summary>
public sealed record KubectlResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>
/// Runs the real kubectl (/usr/bin/kubectl, or KUBECTL) against a kubeconfig, with its own HOME so
/// discovery caches never leak between tests.
/// </summary>
public sealed class Kubectl : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("kubectl-home-").FullName;

    public Kubectl(string kubeconfigPath, string? @namespace = null)
    {
        KubeconfigPath = kubeconfigPath;
        Namespace = @namespace;
    }

    public string KubeconfigPath { get; }
    public string? Namespace { get; }
    public string WorkDir => _home;

    public static string Binary => Environment.GetEnvironmentVariable("KUBECTL") ?? "/usr/bin/kubectl";

    public async Task<KubectlResult> RunAsync(string args, string? stdin = null, TimeSpan? timeout = null)
    {
        var nsArg = Namespace is null || args.Contains(" -n ", StringComparison.Ordinal) || args.Contains("--namespace", StringComparison.Ordinal) ? "" : $" -n {Namespace}";
        var psi = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            WorkingDirectory = _home,
        };
        foreach (var a in Split($"--kubeconfig {KubeconfigPath}{nsArg} {args}")) psi.ArgumentList.Add(a);
        psi.Environment["HOME"] = _home;
        psi.Environment.Remove("KUBECONFIG");
        using var process = Process.Start(psi)!;
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"kubectl {args} did not finish in time; stdout so far: {await stdout}");
        }
        return new KubectlResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs kubectl and fails with its output unless it exits 0.</summary>
    public async Task<string> OkAsync(string args, string? stdin = null, TimeSpan? timeout = null)
    {
        var result = await RunAsync(args, stdin, timeout);
        if (result.ExitCode != 0) throw new InvalidOperationException($"kubectl {args} failed: {result}");
        return result.Stdout;
    }

    /// <summary>
    /// Polls <c>kubectl get {what} -o json</c> until <paramref name="ready"/> holds (an object that
    /// cannot be read yet counts as an empty one) and returns it.
    /// </summary>
    public Task<JsonObject> WaitForAsync(string what, Func<JsonObject, bool> ready, string description, TimeSpan? timeout = null) =>
        Eventually.Until(async () =>
        {
            var r = await RunAsync($"get {what} -o json");
            return r.ExitCode == 0 ? JsonNode.Parse(r.Stdout)!.AsObject() : new JsonObject();
        }, ready, description, timeout);

    /// <summary>Starts a long-running kubectl (e.g. <c>get -w</c>) and returns the process; the caller kills it.</summary>
    public Process Start(string args)
    {
        var nsArg = Namespace is null ? "" : $" -n {Namespace}";
        var psi = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _home,
        };
        foreach (var a in Split($"--kubeconfig {KubeconfigPath}{nsArg} {args}")) psi.ArgumentList.Add(a);
        psi.Environment["HOME"] = _home;
        return Process.Start(psi)!;
    }

    /// <summary>Splits a command line like a POSIX shell does for the cases tests need: spaces, and '...' quoting.</summary>
    public static List<string> Split(string commandLine)
    {
        var args = new List<string>();
        var current = new System.Text.StringBuilder();
        var quoted = false;
        var any = false;
        foreach (var c in commandLine)
        {
            if (c == '\'' )
            {
                quoted = !quoted;
                any = true;
            }
            else if (c == ' ' && !quoted)
            {
                if (any) args.Add(current.ToString());
                current.Clear();
                any = false;
            }
            else
            {
                current.Append(c);
                any = true;
            }
        }
        if (any) args.Add(current.ToString());
        return args;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_home, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
