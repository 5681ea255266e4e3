using System.Diagnostics;

namespace DoraOperator.Testing;

/// <summary>
/// How the end-to-end tests start the operator: the Native AOT binary named by
/// <c>DORA_OPERATOR_EXE</c> (what the image ships; <c>.ci/run</c> publishes it and sets the
/// variable), or else <c>dotnet DoraOperator.Operator.dll</c> from the build beside the tests.
/// </summary>
public static class ShippedOperator
{
    public const string ExeVariable = "DORA_OPERATOR_EXE";

    /// <summary>The native binary under test, or null for the build's DLL.</summary>
    public static string? Exe { get; } = Find();

    public static string Dll => System.IO.Path.Combine(AppContext.BaseDirectory, "DoraOperator.Operator.dll");

    /// <summary>What runs, for messages.</summary>
    public static string Description => Exe is { } exe ? $"the Native AOT binary {exe}" : $"dotnet {Dll}";

    public static ProcessStartInfo StartInfo(params string[] args)
    {
        var psi = Exe is { } exe ? new ProcessStartInfo(exe) : new ProcessStartInfo("dotnet");
        if (Exe is null) psi.ArgumentList.Add(Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        return psi;
    }

    /// <summary>The command line for a shell (util-linux's script runs it in a pseudo-terminal).</summary>
    public static string CommandLine(string args) => (Exe ?? $"dotnet {Dll}") + " " + args;

    private static string? Find()
    {
        var exe = Environment.GetEnvironmentVariable(ExeVariable);
        if (string.IsNullOrEmpty(exe)) return null;
        exe = System.IO.Path.GetFullPath(exe);
        return File.Exists(exe) ? exe : throw new FileNotFoundException($"{ExeVariable} names {exe}, which does not exist: publish it first (dotnet publish src/Operator -c Release -r linux-x64 -p:PublishAot=true -o artifacts/aot)", exe);
    }
}
