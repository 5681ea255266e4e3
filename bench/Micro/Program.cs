using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// dotnet run -c Release --project bench/Micro                 (all, short runs)
// dotnet run -c Release --project bench/Micro -- --filter '*Aggregator*'
// In-process and short: each benchmark finishes in seconds on a 2-core machine.
var config = DefaultConfig.Instance
    .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(DoraOperator.Micro.AggregatorUpdate).Assembly).Run(args.Length == 0 ? ["--filter", "*"] : args, config);
