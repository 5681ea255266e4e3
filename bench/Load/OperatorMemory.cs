using Microsoft.Extensions.DependencyInjection;
using System.Diagnostics;
using DoraOperator.Entities.BuiltIn;
using DoraOperator.Entities.Dora;
using DoraOperator.Kube.Config;
using DoraOperator.Kube.Informers;
using DoraOperator.Kube.Rest;
using DoraOperator.Operator.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace DoraOperator.Bench;

/// <summary>
/// Where the operator's managed memory goes, with N tracked Deployments recorded. The Sandbox runs
/// here; each measurement runs in a fresh child process (no shared heap or string pool): the whole
/// operator until every record is written, then each cache alone with the operator's transforms.
/// Live bytes are measured after full, compacting collections.
/// </summary>
internal static class OperatorMemory
{
    public static async Task RunAsync(int deployments, int revisions)
    {
        await using var cluster = await LoadCluster.StartAsync(deployments, watchHistory: 50_000, revisions);
        Console.WriteLine($"\nOperator memory: {deployments:N0} tracked Deployments with {revisions} revision(s) each, every revision recorded; live managed bytes after full collections, each row in a fresh process\n");
        Stats.Header();
        foreach (var mode in new[] { "operator", "deployments", "replicasets", "records", "metrics" })
        {
            var psi = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true };
            if (Environment.ProcessPath!.EndsWith("dotnet", StringComparison.Ordinal)) psi.ArgumentList.Add(typeof(OperatorMemory).Assembly.Location);
            foreach (var a in new[] { "--memory-child", mode, cluster.KubeconfigPath, deployments.ToString(System.Globalization.CultureInfo.InvariantCulture), revisions.ToString(System.Globalization.CultureInfo.InvariantCulture) })
                psi.ArgumentList.Add(a);
            using var child = Process.Start(psi)!;
            Console.Write(await child.StandardOutput.ReadToEndAsync());
            await child.WaitForExitAsync();
        }
    }

    /// <summary>One measurement in this (child) process; prints its table rows.</summary>
    public static async Task RunChildAsync(string mode, string kubeconfig, int deployments, int revisions)
    {
        var baseline = LiveBytes();
        using var client = new KubeApiClient(KubeConfigLoader.Load(kubeconfig), new KubeClientOptions { Qps = 0 });
        switch (mode)
        {
            case "operator":
                var host = await OperatorHost.StartAsync(new OperatorOptions
                {
                    Kubeconfig = kubeconfig, HttpPort = 0, Intake = new() { Port = 0 }, HttpAddress = "127.0.0.1", LeaderElect = false, KubeApiQps = 0,
                }, NullLoggerFactory.Instance);
                var records = host.Cache.Records;
                // Every revision recorded: the current ones by the tracker, the older ones by backfill.
                var waited = Stopwatch.StartNew();
                int Recorded() => records.List("load").Count(r => !Entities.Vocabulary.RecordPhases.InProgress(r.Status?.Phase));
                while (Recorded() < deployments * revisions && waited.Elapsed < TimeSpan.FromMinutes(10)) await Task.Delay(200);
                await Task.Delay(2000); // the aggregator and the ledger catch up
                var live = LiveBytes() - baseline;
                var info = GC.GetGCMemoryInfo();
                Stats.Row($"whole operator, live managed ({Recorded():N0} records)", $"{live / 1048576.0:N1} MB", "");
                Stats.Row("  ReplicaSets cached (the rest retired: recorded, older than the previous)", $"{host.Cache.ReplicaSets.Count:N0} of {deployments * revisions:N0}", "");
                Stats.Row("whole operator, working set", $"{Environment.WorkingSet / 1048576.0:N0} MB", "< 150 MB");
                Stats.Row("whole operator, heap committed", $"{info.TotalCommittedBytes / 1048576.0:N0} MB", "");
                var gens = info.GenerationInfo.ToArray();
                Stats.Row("  of which LOH / POH (after full GC)", $"{gens[3].SizeAfterBytes / 1048576.0:N1} / {gens[4].SizeAfterBytes / 1048576.0:N1} MB", "");
                Stats.Row("  LOH free space (after full GC)", $"{gens[3].FragmentationAfterBytes / 1048576.0:N1} MB", "");
                GC.KeepAlive(host);
                break;
            case "deployments":
                await CacheAsync(client, "Deployments", Operator.Caching.OperatorCache.Options.Deployments, baseline);
                break;
            case "replicasets":
                await CacheAsync(client, "ReplicaSets", Operator.Caching.OperatorCache.Options.ReplicaSets, baseline);
                break;
            case "metrics":
                using (var services = new ServiceCollection().AddMetrics().BuildServiceProvider())
                {
                    var meters = new Operator.Metrics.OperatorMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
                    using var pipeline = new Operator.Metrics.MetricsPipeline(new Operator.Metrics.MetricsExportOptions(), () => true);
                    meters.Deployments.Add(1, [.. Operator.Metrics.OperatorMetrics.Tags("load", "load", "", "production"), new("outcome", "succeeded")]);
                    pipeline.Exposition.Scrape(openMetrics: false);
                    var bytes = LiveBytes() - baseline;
                    var loh = GC.GetGCMemoryInfo().GenerationInfo[3].SizeAfterBytes;
                    Stats.Row("metrics pipeline alone (default limits)", $"{bytes / 1048576.0:N1} MB, LOH {loh / 1048576.0:N1} MB", "");
                    GC.KeepAlive(meters);
                }
                break;
            case "records":
                await CacheAsync(client, "DeploymentRecords", Operator.Caching.OperatorCache.Options.Records, baseline);
                break;
        }
        Environment.Exit(0);
    }

    private static async Task CacheAsync<T, TItem>(KubeApiClient client, string label, InformerOptions<T, TItem> options, long baseline)
        where T : Kube.Meta.KubeObject, Kube.Meta.IKubeResource<T>
        where TItem : class, Kube.Meta.ICacheItem
    {
        var informer = new Informer<T, TItem>(client, options);
        await informer.StartAsync();
        await informer.WaitForSyncAsync();
        var bytes = LiveBytes() - baseline;
        Stats.Row($"{label} cache alone (lean), incl. client", $"{bytes / 1048576.0:N1} MB, {bytes / Math.Max(1, informer.Count):N0} B x {informer.Count:N0}", "");
        GC.KeepAlive(informer);
    }

    /// <summary>Live managed bytes: after full collections that also compact the large-object heap, so its free space is not counted.</summary>
    private static long LiveBytes()
    {
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, true, true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, true, true);
        return GC.GetTotalMemory(true);
    }
}
