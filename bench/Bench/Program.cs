using DoraOperator.Bench;

const string Help = """
    Benchmarks for the performance goals (numbers are printed, not asserted).

    Usage: dotnet run -c Release --project bench/Bench -- <scenario> [options]

      sandbox   [--writes N] [--watchers N] [--writers N] [--http] [--no-managed-fields]
                Sandbox writes/s with open watches, and watch delivery latency p50/p99.
                --no-managed-fields: without managedFields tracking, to see its cost.
                Goal: >= 5,000 writes/s with p99 delivery < 10 ms (10 watches).
      informer  [--objects N]
                Initial list+watch of N Deployments into an informer: time, allocations,
                managed memory per cached object with and without the lean transform, and
                lean from objects without managedFields.
                Goal: < 3 s and < 2 KB per stripped Deployment (N = 10,000).
      revisions [--workloads N] [--revisions R]
                Managed memory per cached ControllerRevision (N StatefulSets x R revisions),
                with and without the lean transform.
      (the rollout load benchmark is its own project: dotnet run -c Release --project bench/Load)
      aggregate [--records N] [--projects P] [--per-project R]
                The DORA calculation: full recompute of one project with N records, and the
                cost per new record with P projects x R records. Goal: < 1 ms per event.
      intake    [--rate R] [--seconds S] [--concurrency C]
                The HTTP intake: CI deployments (each a review, a create and a status patch against
                the Sandbox in RBAC mode) at R requests/s for S s, then flat out with C clients.
                Goal: p99 < 20 ms at 200 requests/s.
      dashboard [--records N] [--team T] [--projects P] [--renders R]
                The dashboard's pages rendered server-side (compute + HTML): a project with N
                records in its window, a team of T such projects, the list of P projects.
                Goal: the project page < 50 ms (N = 1,000).
      metrics   [--projects P] [--scrapes N]
                /metrics render time, size and allocations with every DORA family populated
                for P projects. Goal: < 20 ms per scrape (P = 1,000).
    """;

if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine(Help);
    return args.Length == 0 ? 2 : 0;
}

int Option(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
}

if (args[0] is not ("informer-variant" or "revisions-variant")) Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}");
switch (args[0])
{
    case "sandbox":
        await SandboxThroughput.RunAsync(Option("--writes", 20_000), Option("--watchers", 10), Option("--writers", 16), !args.Contains("--http"), !args.Contains("--no-managed-fields"));
        return 0;
    case "rollouts":
        Console.Error.WriteLine("moved: dotnet run -c Release --project bench/Load -- --deployments 10000 --rollouts 1000");
        return 2;
    case "informer-variant":
        await InformerSync.RunVariantAsync(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
        return 0;
    case "revisions":
        await RevisionCache.RunAsync(Option("--workloads", 1_000), Option("--revisions", 5));
        return 0;
    case "revisions-variant":
        await RevisionCache.RunVariantAsync(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture));
        return 0;
    case "aggregate":
        Aggregation.Run(Option("--records", 10_000), Option("--projects", 1_000), Option("--per-project", 100));
        return 0;
    case "intake":
        await IntakeThroughput.RunAsync(Option("--rate", 200), Option("--seconds", 10), Option("--concurrency", 16));
        return 0;
    case "dashboard":
        DashboardRender.Run(Option("--records", 1_000), Option("--team", 5), Option("--projects", 100), Option("--renders", 100));
        return 0;
    case "metrics":
        MetricsRender.Run(Option("--projects", 1_000), Option("--scrapes", 50));
        return 0;
    case "informer":
        await InformerSync.RunAsync(Option("--objects", 10_000));
        return 0;
    default:
        Console.Error.WriteLine($"unknown scenario '{args[0]}'\n\n{Help}");
        return 2;
}
