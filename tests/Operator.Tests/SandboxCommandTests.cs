using System.Diagnostics;
using System.Text.Json.Nodes;
using DoraOperator.Testing;

namespace DoraOperator.Operator.Tests;

/// <summary><c>sandbox</c> as a user runs it: one process, then kubectl only.</summary>
public sealed class SandboxCommandTests
{
    [Fact]
    public async Task Sandbox_RunsTheOperatorAgainstAnInMemoryCluster_ThatKubectlCanUse()
    {
        var dir = Directory.CreateTempSubdirectory("operator-sandbox-").FullName;
        var kubeconfig = Path.Combine(dir, "sandbox.kubeconfig");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "DoraOperator.Operator.dll"), "sandbox", "--http-port", "0", "--kubeconfig-out", kubeconfig, "--rollout-seconds", "0.2" })
            psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var output = new List<string>();
        var reading = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                lock (output) output.Add(line);
            }
        });
        _ = process.StandardError.ReadToEndAsync();
        try
        {
            await Eventually.True(() => { lock (output) return output.Any(l => l.Contains("Ctrl+C stops everything.", StringComparison.Ordinal)); }, "the sandbox to start", TimeSpan.FromSeconds(60));
            using var kubectl = new Kubectl(kubeconfig, "default");
            Assert.Contains("doraprojects", await kubectl.OkAsync("api-resources --api-group dora-operator.io"));
            var sample = File.ReadAllText(Repo.Path("config", "samples", "doraproject.yaml"));
            await kubectl.OkAsync("apply -f -", sample);
            await kubectl.OkAsync("create deployment checkout --image=nginx:1.27");
            await kubectl.OkAsync("label deployment checkout app.kubernetes.io/part-of=checkout");
            await kubectl.OkAsync("set image deployment/checkout nginx=nginx:1.28");
            var record = await Eventually.Until(async () =>
            {
                var r = await kubectl.RunAsync("get dr checkout-2 -o json");
                return r.ExitCode == 0 ? JsonNode.Parse(r.Stdout)!.AsObject() : new JsonObject();
            }, r => (string?)r["status"]?["phase"] == "Succeeded", "checkout-2 to be recorded");
            Assert.Equal("checkout", (string?)record["spec"]!["project"]);
            Assert.Equal("nginx:1.28", (string?)record["spec"]!["image"]);
            Assert.Equal(2, (long)record["spec"]!["revision"]!);

            Assert.True(Posix.Signal(process.Id, Posix.SigTerm));
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
            Assert.Equal(0, process.ExitCode);
            await reading;
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            Directory.Delete(dir, recursive: true);
        }
    }

}
