using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace DoraOperator.Testing;

/// <summary>
/// A real Alertmanager (Debian package "prometheus-alertmanager") with one webhook receiver that sends
/// every group to <c>url</c> with a bearer token, grouping and repeating fast; alerts are posted to
/// its v2 API as Prometheus would.
/// </summary>
public sealed class Alertmanager : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dir;
    private readonly HttpClient _http = new();
    private readonly StringBuilder _log = new();

    private Alertmanager(Process process, string dir, Uri api)
    {
        _process = process;
        _dir = dir;
        Api = api;
    }

    public Uri Api { get; }

    public static string Binary => Environment.GetEnvironmentVariable("ALERTMANAGER") ?? "/usr/bin/prometheus-alertmanager";

    /// <summary>What Alertmanager logged (for failure messages).</summary>
    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    public static async Task<Alertmanager> StartAsync(Uri webhook, string token, TimeSpan repeatInterval)
    {
        if (!File.Exists(Binary)) throw new InvalidOperationException($"{Binary} is missing: install it with apt-get install -y prometheus-alertmanager (.ci/run does)");
        var dir = Directory.CreateTempSubdirectory("alertmanager-").FullName;
        var config = Path.Combine(dir, "alertmanager.yml");
        await File.WriteAllTextAsync(config, $"""
            route:
              receiver: dora
              group_by: [alertname, namespace]
              group_wait: 1s
              group_interval: 1s
              repeat_interval: {(int)repeatInterval.TotalSeconds}s
            receivers:
              - name: dora
                webhook_configs:
                  - url: "{webhook}"
                    send_resolved: true
                    http_config:
                      authorization:
                        type: Bearer
                        credentials: "{token}"
            """);
        var port = Ports.Unused();
        var info = new ProcessStartInfo(Binary)
        {
            ArgumentList =
            {
                $"--config.file={config}", $"--storage.path={Path.Combine(dir, "data")}", $"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=", "--log.level=debug",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(info)!;
        var alertmanager = new Alertmanager(process, dir, new Uri($"http://127.0.0.1:{port}/"));
        process.OutputDataReceived += (_, e) => alertmanager.Append(e.Data);
        process.ErrorDataReceived += (_, e) => alertmanager.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await Eventually.True(() =>
        {
            try
            {
                return alertmanager._http.GetAsync(new Uri(alertmanager.Api, "-/ready")).Result.IsSuccessStatusCode;
            }
            catch (AggregateException)
            {
                return false;
            }
        }, "alertmanager to be ready", TimeSpan.FromSeconds(30));
        return alertmanager;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log) _log.AppendLine(line);
    }

    /// <summary>Posts alerts to <c>/api/v2/alerts</c> as Prometheus does (an <c>endsAt</c> in the past resolves one).</summary>
    public async Task PostAsync(params JsonObject[] alerts)
    {
        using var reply = await _http.PostAsync(new Uri(Api, "api/v2/alerts"), new StringContent(new JsonArray(alerts).ToJsonString(), Encoding.UTF8, "application/json"));
        if (!reply.IsSuccessStatusCode) throw new InvalidOperationException($"alertmanager refused the alerts: {(int)reply.StatusCode} {await reply.Content.ReadAsStringAsync()}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        _http.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
