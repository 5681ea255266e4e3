using System.Diagnostics;
using DoraOperator.Testing;

namespace DoraOperator.EndToEnd;

/// <summary>
/// The operator as shipped: with <c>DORA_OPERATOR_EXE</c> set (as <c>.ci/run</c> does), the Native
/// AOT binary, which must work alone, with nothing beside it; without, the build's DLL.
/// </summary>
public sealed class ShippedBinaryTests
{
    [Fact]
    public async Task GenerateCrds_FromTheOperatorAlone_WritesTheCommittedCrds()
    {
        var dir = Directory.CreateTempSubdirectory("dora-shipped-").FullName;
        try
        {
            string[] args = ["generate", "crds", "-o", Path.Combine(dir, "crds")];
            ProcessStartInfo psi;
            if (ShippedOperator.Exe is { } exe)
            {
                // An ELF executable, copied into an empty folder: everything it needs is inside it.
                Assert.Equal([0x7F, (byte)'E', (byte)'L', (byte)'F'], File.ReadAllBytes(exe)[..4]);
                var alone = Path.Combine(dir, Path.GetFileName(exe));
                File.Copy(exe, alone);
                psi = new ProcessStartInfo(alone) { RedirectStandardOutput = true, RedirectStandardError = true };
                foreach (var a in args) psi.ArgumentList.Add(a);
            }
            else
            {
                psi = ShippedOperator.StartInfo(args);
            }
            using var run = Process.Start(psi)!;
            var stderr = run.StandardError.ReadToEndAsync();
            await run.StandardOutput.ReadToEndAsync();
            await run.WaitForExitAsync();
            Assert.True(run.ExitCode == 0, $"{ShippedOperator.Description}: {await stderr}");
            foreach (var committed in Directory.GetFiles(Repo.Path("config", "crds"), "*.yaml"))
            {
                Assert.Equal(File.ReadAllText(committed), File.ReadAllText(Path.Combine(dir, "crds", Path.GetFileName(committed))));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
