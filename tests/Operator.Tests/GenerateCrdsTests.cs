using System.Diagnostics;

namespace DoraOperator.Operator.Tests;

/// <summary>The operator binary's commands, run as a process.</summary>
public sealed class GenerateCrdsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("generate-crds-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "DoraOperator.Operator.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task GenerateCrds_WritesOneFilePerKind_IdenticalToConfigCrds()
    {
        var (exit, stdout, _) = await RunAsync("generate", "crds", "--output", _dir);
        Assert.Equal(0, exit);
        var files = Directory.GetFiles(_dir).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(["dora-operator.io_deploymentrecords.yaml", "dora-operator.io_doraprojects.yaml", "dora-operator.io_incidents.yaml"], files);
        Assert.Equal(3, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => l.StartsWith("wrote ", StringComparison.Ordinal)));
        foreach (var f in files) Assert.Equal(File.ReadAllText(Path.Combine(DoraOperator.Testing.Repo.Path("config", "crds"), f!)), File.ReadAllText(Path.Combine(_dir, f!)));
    }

    [Fact]
    public async Task Check_FailsOnAStaleFile_AndNamesIt()
    {
        Assert.Equal(0, (await RunAsync("generate", "crds", "--output", _dir)).Exit);
        Assert.Equal(0, (await RunAsync("generate", "crds", "--output", _dir, "--check")).Exit);
        var stale = Path.Combine(_dir, "dora-operator.io_incidents.yaml");
        File.AppendAllText(stale, "# edited by hand\n");
        var (exit, _, stderr) = await RunAsync("generate", "crds", "--output", _dir, "--check");
        Assert.Equal(1, exit);
        Assert.Contains(stale, stderr);
        Assert.Contains("regenerate with: dotnet run --project src/Operator -- generate crds", stderr);
    }

    [Fact]
    public async Task Run_WithNoReachableCluster_ExitsWithAMessageThatSaysHowToTryTheSandbox()
    {
        var port = DoraOperator.Testing.Ports.Unused();
        var kubeconfig = Path.Combine(_dir, "dead.kubeconfig");
        File.WriteAllText(kubeconfig, $"apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: \"http://127.0.0.1:{port}\"}}\nusers:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n");
        var (exit, _, stderr) = await RunAsync("--kubeconfig", kubeconfig, "--http-port", "0");
        Assert.Equal(1, exit);
        Assert.Contains($"cannot reach the Kubernetes API server at http://127.0.0.1:{port}/", stderr);
        Assert.Contains("dotnet run --project src/Sandbox", stderr);

        var missing = await RunAsync("--kubeconfig", Path.Combine(_dir, "nope.yaml"));
        Assert.Equal(1, missing.Exit);
        Assert.Contains("does not exist", missing.Err);
    }

    [Fact]
    public async Task Help_ListsTheCommands_AndUnknownCommandsFail()
    {
        var (exit, stdout, _) = await RunAsync("--help");
        Assert.Equal(0, exit);
        Assert.Contains("generate", stdout);
        var crdsHelp = await RunAsync("generate", "crds", "--help");
        Assert.Contains("--output", crdsHelp.Out);
        Assert.Contains("--check", crdsHelp.Out);
        var bad = await RunAsync("frobnicate");
        Assert.NotEqual(0, bad.Exit);
        Assert.Contains("frobnicate", bad.Err);
    }
}
