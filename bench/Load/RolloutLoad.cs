using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using DoraOperator.Entities.BuiltIn;
using DoraOperator.Entities.Dora;
using DoraOperator.Kube.Config;
using DoraOperator.Kube.Informers;
using DoraOperator.Kube.Meta;
using DoraOperator.Kube.Rest;
using DoraOperator.Sandbox;
using DoraOperator.Testing;

namespace DoraOperator.Bench;

/// <summary>
/// The rollout tracker under load: the operator as its own process (its real run command) against
/// the Sandbox in this process, with N tracked Deployments, then R rollouts at once. Latency is from the Deployment's completion (its status showing the new
/// revision available, as a watcher sees it) to the record's Succeeded status (as a watcher sees it).
/// </summary>
internal static class RolloutLoad
{
    /// <summary>How long the operator is left idle after the rollouts before its memory is read again.</summary>
    private const int IdleSeconds = 20;

    public static async Task RunAsync(int deployments, int rollouts, IReadOnlyDictionary<string, string> operatorEnv, int? workers, IReadOnlyList<string> operatorArgs, string? operatorExe, int revisions, int steadyRate, int steadySeconds, int watchHistory)
    {
        var seed = Stopwatch.StartNew();
        await using var cluster = await LoadCluster.StartAsync(deployments, watchHistory, revisions);
        var (server, client, kubeconfig) = (cluster.Server, cluster.Client, cluster.KubeconfigPath);
        // The seeding's events are older than any watch the operator will open (it lists first, then
        // watches from the list's resourceVersion); a real API server would have let them go long ago.
        server.Faults.CompactHistory();
        Console.WriteLine($"\nRollout tracker: {deployments:N0} tracked Deployments with {revisions} revision(s) each (seeded in {seed.Elapsed.TotalSeconds:N1} s), then {rollouts:N0} rollouts at once\n");
        Console.WriteLine($"Sandbox watch history: the last {watchHistory:N0} events per resource (older resourceVersions get 410 Gone)");

        // The operator runs as its own process (its real `run` command), so its memory is its own.
        var psi = new ProcessStartInfo(operatorExe ?? "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        if (operatorExe is null) psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "DoraOperator.Operator.dll"));
        // The shipped defaults, apart from what a laptop run needs (no lease, free ports; the intake stays on, as shipped:
        // its port 0 would turn it off) and what is asked for.
        foreach (var a in new[] { "--kubeconfig", kubeconfig, "--http-port", "0", "--intake-port", Ports.Unused().ToString(System.Globalization.CultureInfo.InvariantCulture), "--leader-elect", "false" })
            psi.ArgumentList.Add(a);
        if (workers is { } w)
        {
            psi.ArgumentList.Add("--workers");
            psi.ArgumentList.Add(w.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        foreach (var a in operatorArgs) psi.ArgumentList.Add(a);
        Console.WriteLine($"operator: {(operatorExe is null ? "dotnet DoraOperator.Operator.dll (JIT)" : operatorExe + " (Native AOT)")}");
        Console.WriteLine("operator flags: " + string.Join(' ', psi.ArgumentList.Skip(operatorExe is null ? 1 : 0).Where(a => a != kubeconfig)));
        // The collector settings given to this process (for its API server) are not the operator's.
        foreach (var inherited in psi.Environment.Keys.Where(k => k.StartsWith("DOTNET_GC", StringComparison.OrdinalIgnoreCase)).ToList()) psi.Environment.Remove(inherited);
        foreach (var (k, v) in operatorEnv) psi.Environment[k] = v;
        if (operatorEnv.Count > 0) Console.WriteLine("operator environment: " + string.Join(" ", operatorEnv.Select(kv => $"{kv.Key}={kv.Value}")));
        var serverCpuAtStart = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        var sync = Stopwatch.StartNew();
        using var operatorProcess = Process.Start(psi)!;
        using var stopOperator = new KillOnExit(operatorProcess);
        // The operator's own log goes to a file, for when a number looks wrong.
        var logPath = Path.Combine(Path.GetTempPath(), "dora-load-operator.log");
        var log = TextWriter.Synchronized(new StreamWriter(logPath) { AutoFlush = true });
        async Task PumpAsync(StreamReader from)
        {
            string? l;
            while ((l = await from.ReadLineAsync()) is not null) log.WriteLine(l);
        }
        _ = PumpAsync(operatorProcess.StandardError);
        string? line;
        Uri? health = null;
        while ((line = await operatorProcess.StandardOutput.ReadLineAsync()) is not null)
        {
            log.WriteLine(line);
            if (line.Contains("client-side rate limit", StringComparison.Ordinal)) Console.WriteLine("operator " + line[line.IndexOf("client-side", StringComparison.Ordinal)..]);
            var at = line.IndexOf("readiness on ", StringComparison.Ordinal);
            if (at < 0) continue;
            health = new Uri(line[(at + "readiness on ".Length)..].Split(' ')[0].TrimEnd('.', ','));
            break;
        }
        _ = PumpAsync(operatorProcess.StandardOutput);
        Console.WriteLine($"operator log: {logPath}");
        if (health is null) throw new InvalidOperationException("the operator did not start; run it by hand to see why");
        using (var probe = new HttpClient())
        {
            while (!(await probe.GetAsync(health)).IsSuccessStatusCode) await Task.Delay(10);
        }
        var syncTime = sync.Elapsed;
        // The rest of the wall time to /readyz is the API server (here the Sandbox, on the same cores) serving the lists.
        var syncCpu = OperatorCpuSeconds();
        var serverSyncCpu = (System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - serverCpuAtStart).TotalSeconds;
        var allRecords = new Informer<DeploymentRecord, RecordSeen>(client, RecordSeen.Options);
        await allRecords.StartAsync();
        // Every retained revision is recorded on first sight (the current one, and the old ones by
        // backfill), each created and then given its status. Counted from the server's audit, since
        // retention may already be deleting the oldest.
        int Created() => server.Audit.Where(a => a.Key.Resource == "deploymentrecords" && a.Key.Verb == "create").Sum(a => a.Value);
        while (Created() < deployments * revisions || allRecords.List("load").Any(r => r.Phase is null)) await Task.Delay(50);
        var initialRecords = sync.Elapsed;
        await allRecords.DisposeAsync();
        // /proc/<pid>/status: VmRSS = RssAnon (heaps, stacks) + RssFile (mapped assemblies and native code) + RssShmem.
        long OperatorMemory(string field) => long.Parse(File.ReadAllLines($"/proc/{operatorProcess.Id}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        long OperatorRss() => OperatorMemory("VmRSS");
        var rssAfterSync = OperatorRss();
        // This process's seeding garbage goes before the measured part, as an API server in its own
        // process would not carry it: a blocking, compacting collection.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        var serverHeapBeforeRollouts = GC.GetGCMemoryInfo().HeapSizeBytes;

        // The measured rollouts are the revisions after the seeded history: a new template each, never an old one.
        var (burstRevision, steadyRevision) = (revisions + 1, revisions + 2);
        var completed = new ConcurrentDictionary<string, long>();
        var recorded = new ConcurrentDictionary<string, long>();
        await using var deploymentWatch = new Informer<Deployment>(client, new InformerOptions<Deployment> { Namespace = "load", Transform = Workloads.Lean });
        deploymentWatch.AddHandler(new InformerHandler<Deployment>(OnUpdate: (_, d) =>
        {
            if (d.Metadata.Annotations?.GetValueOrDefault("deployment.kubernetes.io/revision") is { } revision && long.TryParse(revision, out var number) && number >= burstRevision
                && d.Status?.Conditions?.Any(c => c.Reason == "NewReplicaSetAvailable") == true && d.Status.UpdatedReplicas == d.Spec?.Replicas)
            {
                completed.TryAdd($"{d.Metadata.Name}#{revision}", Stopwatch.GetTimestamp());
            }
        }));
        await using var recordWatch = new Informer<DeploymentRecord, RecordSeen>(client, RecordSeen.Options);
        recordWatch.AddHandler(new InformerHandler<RecordSeen>(OnUpdate: (_, r) =>
        {
            if (r.Revision >= burstRevision && r.Phase == "Succeeded") recorded.TryAdd($"{r.Workload}#{r.Revision}", Stopwatch.GetTimestamp());
        }));
        await deploymentWatch.StartAsync();
        await recordWatch.StartAsync();
        await deploymentWatch.WaitForSyncAsync();
        await recordWatch.WaitForSyncAsync();

        int Writes() => server.Audit.Where(a => a.Key.Resource == "deploymentrecords" && a.Key.Verb is "create" or "update" or "patch").Sum(a => a.Value);
        Task Release(int i, int version, CancellationToken ct) => client.PatchAsync<Deployment>($"svc-{i:D5}", "load", PatchType.Strategic,
            LoadCluster.RevisionPatch(i, version.ToString(System.Globalization.CultureInfo.InvariantCulture)), cancellationToken: ct);
        // CPU seconds the operator process has used (utime + stime from /proc/<pid>/stat, in clock ticks of 10 ms).
        double OperatorCpuSeconds()
        {
            var stat = File.ReadAllText($"/proc/{operatorProcess.Id}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture)) / 100.0;
        }
        // Watch events the operator decoded into its caches and its rollout reconciles, from its own counters.
        using var scrape = new HttpClient();
        static double Sum(string text, string series, string? having = null) => text.Split('\n')
            .Where(l => l.StartsWith(series, StringComparison.Ordinal) && (having is null || l.Contains(having, StringComparison.Ordinal)))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        async Task<double> Counter(string series) => Sum(await scrape.GetStringAsync(new Uri(health, "/metrics")), series);
        Task<double> WatchEvents() => Counter("dora_operator_watch_events_total{");
        Task<double> Reconciles() => Counter("dora_operator_reconcile_total{controller=\"rollouts\"");
        // Both sides' collections and the 429s, from one scrape of the operator and this process's own counters.
        async Task<Pauses> PausesNow()
        {
            var text = await scrape.GetStringAsync(new Uri(health, "/metrics"));
            return new Pauses(
                Sum(text, "dora_operator_gc_pause_seconds_total "), Sum(text, "dora_operator_gc_collections_total{generation=\"0\"}"), Sum(text, "dora_operator_gc_collections_total{generation=\"2\"}"),
                Sum(text, "dora_operator_api_requests_total{", "code=\"429\""), server.RejectedRequests, GC.GetTotalPauseDuration(), GC.CollectionCount(2));
        }
        var (eventsBefore, reconcilesBefore) = (await WatchEvents(), await Reconciles());
        var writesBefore = Writes();
        var cpuBefore = OperatorCpuSeconds();
        var pausesBefore = await PausesNow();
        var run = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, rollouts), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) => await Release(i, burstRevision, ct));
        while (recorded.Count < rollouts && run.Elapsed < TimeSpan.FromMinutes(3)) await Task.Delay(20);
        var elapsed = run.Elapsed;
        var burstRecorded = recorded.Count;
        await Task.Delay(500);
        var writes = Writes() - writesBefore;
        var cpuPerRollout = (OperatorCpuSeconds() - cpuBefore) * 1000 / rollouts;
        var eventsPerRollout = (await WatchEvents() - eventsBefore) / rollouts;
        var reconcilesPerRollout = (await Reconciles() - reconcilesBefore) / rollouts;
        var burstPauses = (await PausesNow()).Since(pausesBefore);

        // Then a steady stream, as a busy cluster has: rollouts released at a fixed rate, each on
        // its schedule whether or not the ones before have finished.
        var steady = Math.Min(deployments, steadyRate * steadySeconds);
        var (steadyCpuBefore, steadyEventsBefore, steadyPausesBefore) = (OperatorCpuSeconds(), await WatchEvents(), await PausesNow());
        var paced = Stopwatch.StartNew();
        var releases = new List<Task>(steady);
        for (var i = 0; i < steady; i++)
        {
            // One reading of the clock: read twice, a pause between the reads (a collection) can make
            // the wait -1 ms, which Task.Delay takes as "forever".
            var wait = TimeSpan.FromSeconds(i / (double)steadyRate) - paced.Elapsed;
            if (wait > TimeSpan.Zero) await Task.Delay(wait);
            releases.Add(Release(i, steadyRevision, CancellationToken.None));
        }
        await Task.WhenAll(releases);
        var releasedRate = steady / paced.Elapsed.TotalSeconds;
        // A Deployment released in the burst reaches its next revision here; the others their first after the history.
        var steadyKeys = Enumerable.Range(0, steady).Select(i => $"svc-{i:D5}#{(i < rollouts ? steadyRevision : burstRevision)}").ToList();
        var steadyRun = Stopwatch.StartNew();
        while (steadyKeys.Count(recorded.ContainsKey) < steady && steadyRun.Elapsed < TimeSpan.FromMinutes(2)) await Task.Delay(50);
        var steadyCpuPerRollout = (OperatorCpuSeconds() - steadyCpuBefore) * 1000 / steady;
        var steadyEventsPerRollout = (await WatchEvents() - steadyEventsBefore) / steady;
        var steadyPauses = (await PausesNow()).Since(steadyPausesBefore);

        var rssAfterRollouts = OperatorRss();
        var fileBacked = OperatorMemory("RssFile");
        // /metrics as Prometheus would scrape it, and the operator's own managed-heap gauge.
        var metricsUrl = new Uri(health, "/metrics");
        var renders = new List<double>();
        string metricsText = "";
        using (var scraper = new HttpClient())
        {
            for (var i = 0; i < 20; i++)
            {
                var watch = Stopwatch.StartNew();
                metricsText = await scraper.GetStringAsync(metricsUrl);
                renders.Add(watch.Elapsed.TotalMilliseconds);
            }
        }
        renders.Sort();
        const string HeapGauge = "dora_operator_managed_heap_bytes ";
        var heap = Sum(metricsText, HeapGauge);
        // The same, once the operator has been idle for a while (it compacts its heap when quiet after a burst).
        await Task.Delay(TimeSpan.FromSeconds(IdleSeconds));
        var rssIdle = OperatorRss();
        var heapIdle = await Counter(HeapGauge);
        operatorProcess.Kill();
        List<double> Latencies(IEnumerable<string> keys) => keys.Where(k => recorded.ContainsKey(k) && completed.ContainsKey(k))
            .Select(k => Math.Max(0, Stopwatch.GetElapsedTime(completed[k], recorded[k]).TotalMilliseconds)).Order().ToList();
        var latencies = Latencies(Enumerable.Range(0, rollouts).Select(i => $"svc-{i:D5}#{burstRevision}"));
        var steadyLatencies = Latencies(steadyKeys);
        // The footprint goals (issue #18): 10,000 Deployments with history, without, and 1,000.
        var workingSetGoal = deployments <= 1_000 ? "< 90 MB" : revisions > 1 ? "< 120 MB" : "< 100 MB";
        Stats.Header();
        Stats.Row("machine cores", Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Stats.Row("tracked Deployments", $"{deployments:N0} in {(deployments + LoadCluster.ProjectSize - 1) / LoadCluster.ProjectSize:N0} DoraProjects of {LoadCluster.ProjectSize}");
        Stats.Row("start to /readyz (caches synced)", $"{syncTime.TotalMilliseconds:N0} ms", "< 1.5 s");
        Stats.Row("  operator CPU to /readyz (start, lists, decoding)", $"{syncCpu * 1000:N0} ms", "");
        Stats.Row("  API server (Sandbox, this process) CPU to /readyz", $"{serverSyncCpu * 1000:N0} ms", "");
        Stats.Row(revisions > 1 ? $"first records, every Deployment's {revisions} revisions" : "first records for every Deployment", $"{initialRecords.TotalMilliseconds:N0} ms", "");
        Stats.Row("rollouts recorded", $"{burstRecorded:N0} / {rollouts:N0} in {elapsed.TotalSeconds:N1} s", "all");
        Stats.Row("rollouts per second", $"{burstRecorded / elapsed.TotalSeconds:N0}", "");
        Stats.Row("record writes per rollout", $"{writes / (double)rollouts:N2}", "<= 2");
        Stats.Row("completion -> record p50", $"{Stats.Percentile(latencies, 50):N1} ms", "");
        Stats.Row("completion -> record p99", $"{Stats.Percentile(latencies, 99):N1} ms", "");
        Stats.Row("completion -> the last record", $"{latencies.DefaultIfEmpty(double.NaN).Max():N0} ms", "< 1 s");
        Stats.Row("operator CPU per rollout in the burst", $"{cpuPerRollout:N2} ms", "< 0.3 ms");
        Stats.Row("watch events decoded per rollout in the burst", $"{eventsPerRollout:N1}", "");
        Stats.Row("rollout reconciles per rollout in the burst", $"{reconcilesPerRollout:N1}", "");
        Stats.Row("operator paused for collections in the burst", burstPauses.Operator, "");
        Stats.Row("API server answered 429 in the burst (all clients; the operator's)", burstPauses.Throttled, "");
        Stats.Row("API server (this process) paused for collections in the burst", burstPauses.Server, "");
        Stats.Row($"steady {steadyRate}/s for {steadySeconds} s: released", $"{steady:N0} at {releasedRate:N0}/s", "");
        Stats.Row($"steady {steadyRate}/s: completion -> record p50", $"{Stats.Percentile(steadyLatencies, 50):N1} ms ({steadyLatencies.Count:N0} rollouts)", "");
        Stats.Row($"steady {steadyRate}/s: completion -> record p99", $"{Stats.Percentile(steadyLatencies, 99):N1} ms", "< 50 ms");
        Stats.Row($"steady {steadyRate}/s: operator CPU per rollout", $"{steadyCpuPerRollout:N2} ms ({steadyEventsPerRollout:N1} watch events each)", "");
        Stats.Row($"steady {steadyRate}/s: operator paused for collections", steadyPauses.Operator, "");
        Stats.Row($"steady {steadyRate}/s: API server answered 429 (all clients; the operator's)", steadyPauses.Throttled, "");
        Stats.Row($"steady {steadyRate}/s: API server (this process) paused for collections", $"{steadyPauses.Server}; its heap {serverHeapBeforeRollouts / 1e6:N0} MB before the rollouts, {GC.GetGCMemoryInfo().HeapSizeBytes / 1e6:N0} MB now", "");
        Stats.Row("operator relists: a watch resumed before the Sandbox's history (410 Gone)", $"{RelistsLogged(logPath)}", "");
        Stats.Row("operator working set after sync", $"{rssAfterSync / 1024.0 / 1024:N0} MB", "");
        Stats.Row("operator working set after the rollouts", $"{rssAfterRollouts / 1024.0 / 1024:N0} MB", workingSetGoal);
        Stats.Row("  of which mapped files (assemblies, runtime)", $"{fileBacked / 1024.0 / 1024:N0} MB", "");
        Stats.Row("operator managed heap after the rollouts", $"{heap / 1024 / 1024:N0} MB", "");
        Stats.Row($"operator working set, idle {IdleSeconds} s after the rollouts", $"{rssIdle / 1024.0 / 1024:N0} MB", workingSetGoal);
        Stats.Row($"operator managed heap, idle {IdleSeconds} s after the rollouts", $"{heapIdle / 1024 / 1024:N0} MB", "");
        Stats.Row("/metrics scrape (HTTP, median of 20)", $"{Stats.Percentile(renders, 50):N1} ms", "< 20 ms");
        Stats.Row("/metrics size", $"{metricsText.Length / 1024.0:N0} KB", "");
    }

    /// <summary>How many times the operator's log says a watch expired and it relisted (the log is still open for writing).</summary>
    private static int RelistsLogged(string logPath)
    {
        using var reader = new StreamReader(new FileStream(logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        var count = 0;
        while (reader.ReadLine() is { } line)
        {
            if (line.Contains("watch expired", StringComparison.Ordinal)) count++;
        }
        return count;
    }
}

/// <summary>
/// Kills the operator when the bench leaves the run by any path (an exception, or SIGINT or SIGTERM
/// to the bench), so a failed or stopped run never leaves it behind holding its ports.
/// </summary>
internal sealed class KillOnExit : IDisposable
{
    private readonly Process _process;
    private readonly PosixSignalRegistration _sigint;
    private readonly PosixSignalRegistration _sigterm;

    public KillOnExit(Process process)
    {
        _process = process;
        // The signal's default action (ending the bench) still follows.
        _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => Kill());
        _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => Kill());
    }

    private void Kill()
    {
        try
        {
            _process.Kill();
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    public void Dispose()
    {
        _sigint.Dispose();
        _sigterm.Dispose();
        Kill();
    }
}

/// <summary>
/// What the load bench reads of a record: its workload, revision and phase. Its watches cache only
/// that: this process is also the API server, and 110,000 whole records (10,000 x 11) in its heap
/// make each of its collections slower, which the operator's latencies would then show.
/// </summary>
internal sealed record RecordSeen(string? Namespace, string? Name, string? ResourceVersion, string Workload, long Revision, string? Phase) : ICacheItem
{
    public static InformerOptions<DeploymentRecord, RecordSeen> Options { get; } = new()
    {
        Namespace = "load",
        UnknownFields = UnknownFields.Skip,
        Transform = r => new RecordSeen(r.Metadata.Namespace, r.Metadata.Name, r.Metadata.ResourceVersion, r.Spec.Workload.Name, r.Spec.Revision, r.Status?.Phase),
    };
}

/// <summary>
/// Counters read at a phase's start and end: the operator's collection pauses, collections and
/// those of generation 2, its requests answered 429; the Sandbox's 429s, and this process's
/// (the Sandbox's) collection pauses and generation-2 collections.
/// </summary>
internal sealed record Pauses(double OperatorPause, double OperatorCollections, double OperatorGen2, double OperatorThrottled, int Rejected, TimeSpan ServerPause, int ServerGen2)
{
    /// <summary>What happened between <paramref name="before"/> and this reading, as the table prints it.</summary>
    public (string Operator, string Throttled, string Server) Since(Pauses before) => (
        $"{(OperatorPause - before.OperatorPause) * 1000:N0} ms in {OperatorCollections - before.OperatorCollections:N0} collections ({OperatorGen2 - before.OperatorGen2:N0} of generation 2)",
        $"{Rejected - before.Rejected:N0} ({OperatorThrottled - before.OperatorThrottled:N0})",
        $"{(ServerPause - before.ServerPause).TotalMilliseconds:N0} ms ({ServerGen2 - before.ServerGen2:N0} of generation 2)");
}
