using System.Globalization;
using DoraOperator.Sandbox;
using DoraOperator.Sandbox.Controllers;

const string Help = """
    dora-sandbox: an in-memory Kubernetes API server (with a simulated Deployment controller)
    that kubectl and the DoraOperator client can use. Nothing is persisted.

    Usage: dotnet run --project src/Sandbox -- [options]

      --port <n>              TCP port on 127.0.0.1 (default: a free port, printed)
      --kubeconfig-out <path> where to write the kubeconfig (default: ./sandbox.kubeconfig)
      --http                  serve plain HTTP instead of HTTPS
      --rollout-seconds <s>   how long a simulated rollout takes (default: 2; 0 completes at once)
      -h, --help              show this help
    """;

var port = 0;
var kubeconfig = "sandbox.kubeconfig";
var https = true;
var rolloutSeconds = 2.0;
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"option {args[i]} needs a value");
    try
    {
        switch (args[i])
        {
            case "-h" or "--help":
                Console.WriteLine(Help);
                return 0;
            case "--port":
                port = int.Parse(Next(), CultureInfo.InvariantCulture);
                break;
            case "--kubeconfig-out":
                kubeconfig = Next();
                break;
            case "--http":
                https = false;
                break;
            case "--rollout-seconds":
                rolloutSeconds = double.Parse(Next(), CultureInfo.InvariantCulture);
                break;
            default:
                Console.Error.WriteLine($"error: unknown option '{args[i]}'.\n\n{Help}");
                return 2;
        }
    }
    catch (Exception e) when (e is FormatException or ArgumentException)
    {
        Console.Error.WriteLine($"error: {e.Message}\n\n{Help}");
        return 2;
    }
}

await using var api = await SandboxApiServer.StartAsync(new SandboxOptions
{
    Port = port,
    Https = https,
    KubeconfigPath = kubeconfig,
    RolloutPace = rolloutSeconds <= 0 ? RolloutPace.Immediate : RolloutPace.After(TimeSpan.FromSeconds(rolloutSeconds)),
});
Console.WriteLine($"Sandbox API server listening on {api.Url}");
Console.WriteLine($"Kubeconfig written to {Path.GetFullPath(kubeconfig)}");
Console.WriteLine($"Try: kubectl --kubeconfig {kubeconfig} create deployment web --image=nginx:1.27 && kubectl --kubeconfig {kubeconfig} rollout status deployment/web");
Console.WriteLine("Press Ctrl+C to stop.");
await ProcessSignals.WaitForStopAsync();
Console.WriteLine("Stopping.");
return 0;
