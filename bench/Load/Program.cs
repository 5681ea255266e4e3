using DoraOperator.Bench;

const string Help = """
    The load benchmark: the operator as its own process against the Sandbox, with N tracked
    Deployments, then R rollouts at once. Prints one table with the goals beside the results.

    Usage: dotnet run -c Release --project bench/Load -- [--deployments N] [--rollouts R]
      --deployments N   tracked Deployments (default 10,000)
      --rollouts R      rollouts started at once (default 1,000)
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

Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}");
await RolloutLoad.RunAsync(Option("--deployments", 10_000), Option("--rollouts", 1_000));
return 0;
