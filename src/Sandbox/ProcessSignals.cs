using System.Runtime.InteropServices;

namespace DoraOperator.Sandbox;

/// <summary>Process shutdown signals, for the programs that host the Sandbox or the operator.</summary>
public static class ProcessSignals
{
    /// <summary>Completes on the first SIGINT (Ctrl+C) or SIGTERM, cancelling their default termination so cleanup runs.</summary>
    public static async Task WaitForStopAsync()
    {
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.TrySetResult();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        await stop.Task;
    }
}
