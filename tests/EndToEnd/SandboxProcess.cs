using System.Diagnostics;
using System.Text.RegularExpressions;
using DoraOperator.Testing;

namespace DoraOperator.EndToEnd;

/// <summary><c>DoraOperator.Operator sandbox ...</c> (the shipped binary, see <see cref="ShippedOperator"/>) in its own working directory, as a user starts it.</summary>
internal sealed partial class SandboxProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];
    private readonly Task _reading;

    private SandboxProcess(Process process, string dir)
    {
        _process = process;
        WorkDir = dir;
        _reading = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                lock (_output) _output.Add(line);
            }
        });
        _ = process.StandardError.ReadToEndAsync();
    }

    public string WorkDir { get; }
    public string Kubeconfig => Path.Combine(WorkDir, "sandbox.kubeconfig");
    public Uri OperatorUrl { get; private set; } = null!;
    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    public IReadOnlyList<string> Output
    {
        get { lock (_output) return [.. _output]; }
    }

    public static async Task<SandboxProcess> StartAsync(params string[] args)
    {
        var dir = Directory.CreateTempSubdirectory("dora-e2e-").FullName;
        var psi = ShippedOperator.StartInfo(["sandbox", .. args]);
        psi.WorkingDirectory = dir;
        var sandbox = new SandboxProcess(Process.Start(psi)!, dir);
        await Eventually.True(() => sandbox.Output.Any(l => l.Contains("Ctrl+C stops everything.", StringComparison.Ordinal)), "the sandbox to start", TimeSpan.FromSeconds(60));
        var url = sandbox.Output.Select(l => OperatorLine().Match(l)).First(m => m.Success).Groups[1].Value;
        sandbox.OperatorUrl = new Uri(url);
        if (sandbox.Output.Select(l => IntakeLine().Match(l)).FirstOrDefault(m => m.Success) is { } intake) sandbox.IntakeUrl = new Uri(intake.Groups[1].Value);
        if (sandbox.Output.Select(l => TokenInCurl().Match(l)).FirstOrDefault(m => m.Success) is { } token) sandbox.Token = token.Groups[1].Value;
        return sandbox;
    }

    /// <summary>The intake's base URL the start-up text shows, or null when it is off.</summary>
    public Uri? IntakeUrl { get; private set; }

    /// <summary>The bearer token of the ready-to-paste curl (the kubeconfig's).</summary>
    public string? Token { get; private set; }

    [GeneratedRegex(@"intake:\s+(http://\S+/)")]
    private static partial Regex IntakeLine();

    [GeneratedRegex(@"Authorization: Bearer (\w+)")]
    private static partial Regex TokenInCurl();

    [GeneratedRegex(@"operator:\s+(http://[^ ]+/)metrics")]
    private static partial Regex OperatorLine();

    /// <summary>Sends SIGINT (Ctrl+C) and waits for the exit; returns how long it took.</summary>
    public async Task<TimeSpan> StopAsync()
    {
        var watch = Stopwatch.StartNew();
        Posix.Signal(_process.Id, Posix.SigInt);
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
        await _reading;
        return watch.Elapsed;
    }

    /// <summary>
    /// Ctrl+C stopped the sandbox promptly, not by running into a wait: it takes tens of milliseconds
    /// when nothing is in flight; the Sandbox's API server gives a request still open one second to
    /// finish, and a loaded two-core machine adds its scheduling delay to that. A hang shows as the
    /// operator's 5 s wait for its loops or Kestrel's 30 s drain, well above the bound.
    /// </summary>
    public static void AssertPrompt(TimeSpan stopped) =>
        Assert.True(stopped < TimeSpan.FromSeconds(3), $"Ctrl+C took {stopped.TotalSeconds:F1} s: the sandbox stops in tens of milliseconds, or one second when its API server has a request in flight");

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        Directory.Delete(WorkDir, recursive: true);
    }
}
