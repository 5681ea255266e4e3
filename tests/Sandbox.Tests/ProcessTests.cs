using System.Diagnostics;
using DoraOperator.Testing;

namespace DoraOperator.Sandbox.Tests;

/// <summary>The Sandbox as a newcomer runs it: a process that prints its address, writes a kubeconfig, and stops on Ctrl+C.</summary>
public sealed class ProcessTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(15)]
    public async Task SandboxProcess_WritesAKubeconfig_ServesKubectl_AndStopsCleanlyOnSigintAndSigterm(int signal)
    {
        var dir = Directory.CreateTempSubdirectory("sandbox-process-").FullName;
        var kubeconfig = Path.Combine(dir, "sandbox.kubeconfig");
        var exe = Path.Combine(AppContext.BaseDirectory, "DoraOperator.Sandbox.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
        foreach (var a in new[] { exe, "--kubeconfig-out", kubeconfig, "--rollout-seconds", "0.5" }) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var output = new List<string>();
        var reading = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                lock (output) output.Add(line);
            }
        });
        try
        {
            await Eventually.True(() => { lock (output) return output.Any(l => l.StartsWith("Press Ctrl+C", StringComparison.Ordinal)); }, "the Sandbox to start", TimeSpan.FromSeconds(30));
            lock (output) Assert.Contains(output, l => l.StartsWith("Sandbox API server listening on https://127.0.0.1:", StringComparison.Ordinal));
            Assert.True(File.Exists(kubeconfig));

            using var kubectl = new Kubectl(kubeconfig);
            await kubectl.OkAsync("create deployment hello --image=nginx:1.27");
            Assert.Contains("successfully rolled out", await kubectl.OkAsync("rollout status deployment/hello --timeout=30s"));

            var stopping = Stopwatch.StartNew();
            Assert.True(Posix.Signal(process.Id, signal));
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(0, process.ExitCode);
            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(5), $"stopping took {stopping.Elapsed}");
            await reading;
            lock (output) Assert.Contains("Stopping.", output);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task SandboxProcess_RejectsUnknownOptions_WithHelp()
    {
        var exe = Path.Combine(AppContext.BaseDirectory, "DoraOperator.Sandbox.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(exe);
        psi.ArgumentList.Add("--bogus");
        using var process = Process.Start(psi)!;
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(2, process.ExitCode);
        Assert.Contains("unknown option '--bogus'", stderr);
        Assert.Contains("--kubeconfig-out", stderr);
    }
}
