using System.Runtime.InteropServices;

namespace DoraOperator.Testing;

/// <summary>Sending signals to processes, as a terminal (SIGINT) or an orchestrator (SIGTERM) would.</summary>
public static partial class Posix
{
    public const int SigInt = 2;
    public const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>Sends <paramref name="signal"/> to process <paramref name="pid"/>; true when delivered.</summary>
    public static bool Signal(int pid, int signal) => Kill(pid, signal) == 0;
}
