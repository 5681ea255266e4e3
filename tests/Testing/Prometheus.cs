using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace DoraOperator.Testing;

/// <summary>A real Prometheus server (Debian package "prometheus") scraping one target every second, queried over its HTTP API.</summary>
public sealed class Prometheus : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dir;
    private readonly HttpClient _http = new();
    private readonly Uri _api;

    private Prometheus(Process process, string dir, Uri api)
    {
        _process = process;
        _dir = dir;
        _api = api;
    }

    public static string Binary => Environment.GetEnvironmentVariable("PROMETHEUS") ?? "/usr/bin/prometheus";

    public static async Task<Prometheus> StartAsync(Uri target)
    {
        if (!File.Exists(Binary)) throw new InvalidOperationException($"{Binary} is missing: install it with apt-get install -y prometheus (.ci/run does)");
        var dir = Directory.CreateTempSubdirectory("prometheus-").FullName;
        var config = Path.Combine(dir, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: dora-operator
                static_configs:
                  - targets: ["{target.Authority}"]
            """);
        var port = Ports.Unused();
        var info = new ProcessStartInfo(Binary)
        {
            ArgumentList = { $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(dir, "data")}", $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var prometheus = new Prometheus(process, dir, new Uri($"http://127.0.0.1:{port}/"));
        await Eventually.Until(async () =>
        {
            try
            {
                return await prometheus.QueryAsync("up{job=\"dora-operator\"}");
            }
            catch (HttpRequestException)
            {
                return [];
            }
        }, r => r.Count == 1 && (string?)r[0]!["value"]![1] == "1", "Prometheus to scrape the operator", TimeSpan.FromSeconds(30));
        return prometheus;
    }

    public async Task<JsonArray> QueryAsync(string promql)
    {
        var json = JsonNode.Parse(await _http.GetStringAsync(new Uri(_api, "api/v1/query?query=" + Uri.EscapeDataString(promql))))!;
        if ((string?)json["status"] != "success") throw new InvalidOperationException($"query {promql} failed: {json}");
        return json["data"]!["result"]!.AsArray();
    }

    /// <summary>The single value of <paramref name="promql"/>, waiting until it has exactly one series.</summary>
    public async Task<double> ScalarAsync(string promql)
    {
        var result = await Eventually.Until(() => QueryAsync(promql), r => r.Count == 1, $"one series from {promql}", TimeSpan.FromSeconds(20));
        return double.Parse((string)result[0]!["value"]![1]!, CultureInfo.InvariantCulture);
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
        Directory.Delete(_dir, recursive: true);
    }
}
