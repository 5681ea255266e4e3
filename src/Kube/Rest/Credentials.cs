using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using DoraOperator.Kube.Config;

namespace DoraOperator.Kube.Rest;

/// <summary>
/// Produces the Authorization header for each request: a static token, a token file (re-read when
/// it changes, as service-account tokens rotate), basic auth, or an exec plugin whose credential is
/// cached until its <c>expirationTimestamp</c> (or until the server answers 401).
/// </summary>
internal sealed class Credentials(KubeConnection connection, TimeProvider time)
{
    private readonly SemaphoreSlim _execGate = new(1, 1);
    private string? _fileToken;
    private DateTime _fileStamp;
    private DateTimeOffset _fileCheckedAt;
    private string? _execToken;
    private DateTimeOffset? _execExpiry;

    /// <summary>How many times the exec plugin ran (for tests and diagnostics).</summary>
    public int ExecRuns { get; private set; }

    public async ValueTask<AuthenticationHeaderValue?> GetAsync(CancellationToken cancellationToken)
    {
        if (connection.Exec is not null) return new AuthenticationHeaderValue("Bearer", await ExecTokenAsync(cancellationToken));
        if (!string.IsNullOrEmpty(connection.TokenFile)) return new AuthenticationHeaderValue("Bearer", FileToken());
        if (!string.IsNullOrEmpty(connection.Token)) return new AuthenticationHeaderValue("Bearer", connection.Token);
        if (!string.IsNullOrEmpty(connection.Username))
            return new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{connection.Username}:{connection.Password}")));
        return null;
    }

    /// <summary>Forgets cached credentials after a 401 so the next request fetches fresh ones. True when a refresh is possible.</summary>
    public bool Invalidate()
    {
        if (connection.Exec is not null)
        {
            _execToken = null;
            return true;
        }
        if (connection.TokenFile is not null)
        {
            _fileToken = null;
            return true;
        }
        return false;
    }

    private string FileToken()
    {
        var now = time.GetUtcNow();
        if (_fileToken is not null && now - _fileCheckedAt < TimeSpan.FromSeconds(10)) return _fileToken;
        var path = connection.TokenFile!;
        try
        {
            var stamp = File.GetLastWriteTimeUtc(path);
            if (_fileToken is null || stamp != _fileStamp)
            {
                _fileToken = File.ReadAllText(path).Trim();
                _fileStamp = stamp;
            }
            _fileCheckedAt = now;
            return _fileToken;
        }
        catch (IOException e)
        {
            throw new KubeConfigException($"{connection.Source}: token file {path} cannot be read: {e.Message}", e);
        }
    }

    private async ValueTask<string> ExecTokenAsync(CancellationToken cancellationToken)
    {
        if (_execToken is not null && (_execExpiry is null || _execExpiry > time.GetUtcNow().AddSeconds(10))) return _execToken;
        await _execGate.WaitAsync(cancellationToken);
        try
        {
            if (_execToken is not null && (_execExpiry is null || _execExpiry > time.GetUtcNow().AddSeconds(10))) return _execToken;
            (_execToken, _execExpiry) = await RunPluginAsync(connection.Exec!, cancellationToken);
            return _execToken;
        }
        finally
        {
            _execGate.Release();
        }
    }

    private async Task<(string Token, DateTimeOffset? Expiry)> RunPluginAsync(ExecConfig exec, CancellationToken cancellationToken)
    {
        ExecRuns++;
        var psi = new ProcessStartInfo(exec.Command)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in exec.Args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in exec.Env) psi.Environment[k] = v;
        psi.Environment["KUBERNETES_EXEC_INFO"] = """{"apiVersion":"VERSION","kind":"ExecCredential","spec":{"interactive":false}}""".Replace("VERSION", exec.ApiVersion, StringComparison.Ordinal);
        Process process;
        try
        {
            process = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            var hint = exec.InstallHint is null ? "" : $" {exec.InstallHint.Trim()}";
            throw new KubeConfigException($"{connection.Source}: exec credential plugin \"{exec.Command}\" could not be started: {e.Message}.{hint}", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            if (process.ExitCode != 0)
                throw new KubeConfigException($"{connection.Source}: exec credential plugin \"{exec.Command}\" exited with {process.ExitCode}: {(await stderr).Trim()}");
            try
            {
                using var doc = JsonDocument.Parse(await stdout);
                var status = doc.RootElement.GetProperty("status");
                var token = status.TryGetProperty("token", out var t) ? t.GetString() : null;
                if (string.IsNullOrEmpty(token))
                    throw new KubeConfigException($"{connection.Source}: exec credential plugin \"{exec.Command}\" returned no status.token (client certificates from exec plugins are not supported).");
                DateTimeOffset? expiry = status.TryGetProperty("expirationTimestamp", out var e) && e.GetString() is { } s
                    ? DateTimeOffset.Parse(s, System.Globalization.CultureInfo.InvariantCulture)
                    : null;
                return (token, expiry);
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw new KubeConfigException($"{connection.Source}: exec credential plugin \"{exec.Command}\" did not print a valid ExecCredential: {e.Message}", e);
            }
        }
    }
}
