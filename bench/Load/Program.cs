using DoraOperator.Bench;

const string Help = """
    The load benchmark: the operator as its own process against the Sandbox, with N tracked
    Deployments, then R rollouts at once. Prints one table with the goals beside the results.

    Usage: dotnet run -c Release --project bench/Load -- [--deployments N] [--rollouts R]
      --deployments N   tracked Deployments (default 10,000)
      --rollouts R      rollouts started at once (default 1,000)
      --operator-env K=V  an environment variable for the operator process only (repeatable),
                        e.g. DOTNET_GCHeapHardLimit=6400000 (hex, no 0x) as a container memory limit would set;
                        DOTNET_GC* settings in the bench's own environment stay with it (its Sandbox)
      --workers N       the operator's reconcile workers (default: its own default)
      --operator-exe P  run this operator binary (e.g. the Native AOT publish,
                        artifacts/aot/DoraOperator.Operator) instead of dotnet DoraOperator.Operator.dll
      --operator-arg A  one more argument for the operator's command line (repeatable), e.g.
                        --operator-arg --kube-api-qps=0; without any, the operator runs with its
                        shipped defaults (the printed flags say which ran)
      --steady-rate N   after the burst, rollouts released at N per second (default 200)
      --steady-seconds S  for S seconds (default 30; at most one rollout per Deployment)
      --memory          instead: where the operator's managed memory goes with N Deployments
                        recorded (each part in a fresh process; live bytes after full collections)
      --watch-history N events the Sandbox keeps per resource for watches that resume from an older
                        resourceVersion (default 20,000; older ones get 410 Gone and the client
                        relists, as from a real API server's watch cache, which keeps a window of
                        recent events); the seeding's events are dropped before the operator starts
      --revisions K     revisions each Deployment rolls through before the operator starts
                        (default 11: the default revisionHistoryLimit's 10 old ReplicaSets each, as
                        real clusters keep them; the operator records them all, the old ones by backfill)
    """;

if (args.Contains("-h") || args.Contains("--help"))
{
    Console.WriteLine(Help);
    return 0;
}

int Option(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    if (i < 0) return fallback;
    if (i + 1 < args.Length && int.TryParse(args[i + 1], out var v) && v > 0) return v;
    Console.Error.WriteLine($"{name} needs a positive whole number\n\n{Help}");
    Environment.Exit(2);
    return 0;
}

if (args.FirstOrDefault() != "--memory-child") Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}");
var operatorEnv = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 0; i < args.Length - 1; i++)
{
    if (args[i] != "--operator-env") continue;
    var pair = args[i + 1].Split('=', 2);
    if (pair.Length != 2 || pair[0].Length == 0)
    {
        Console.Error.WriteLine($"--operator-env needs NAME=VALUE, got \"{args[i + 1]}\"\n\n{Help}");
        return 2;
    }
    operatorEnv[pair[0]] = pair[1];
}
var operatorArgs = new List<string>();
for (var i = 0; i < args.Length - 1; i++)
{
    if (args[i] == "--operator-arg") operatorArgs.Add(args[i + 1]);
}
if (args.Length == 5 && args[0] == "--memory-child")
{
    await OperatorMemory.RunChildAsync(args[1], args[2], int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture), int.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture));
    return 0;
}
if (args.Contains("--memory"))
{
    await OperatorMemory.RunAsync(Option("--deployments", 10_000), Option("--revisions", 11));
    return 0;
}
var workers = args.Contains("--workers") ? Option("--workers", 2) : (int?)null;
var exeAt = Array.IndexOf(args, "--operator-exe");
var operatorExe = exeAt >= 0 && exeAt + 1 < args.Length ? Path.GetFullPath(args[exeAt + 1]) : null;
if (operatorExe is not null && !File.Exists(operatorExe))
{
    Console.Error.WriteLine($"--operator-exe {operatorExe}: no such file (publish it: dotnet publish src/Operator -c Release -r linux-x64 -p:PublishAot=true -o artifacts/aot)");
    return 2;
}
await RolloutLoad.RunAsync(Option("--deployments", 10_000), Option("--rollouts", 1_000), operatorEnv, workers, operatorArgs, operatorExe, Option("--revisions", 11), Option("--steady-rate", 200), Option("--steady-seconds", 30), Option("--watch-history", 20_000));
return 0;
