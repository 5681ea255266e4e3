using System.Diagnostics;
using System.Diagnostics.Metrics;
using DoraOperator.Entities.Dora;
using DoraOperator.Kube.Meta;
using DoraOperator.Operator.Metrics;
using DoraOperator.Operator.Dora;
using DoraOperator.Operator.Projects;
using Microsoft.Extensions.DependencyInjection;

namespace DoraOperator.Bench;

/// <summary>/metrics render cost for P projects with every DORA family populated (counters, histograms, gauges).</summary>
internal static class MetricsRender
{
    public static void Run(int projects, int scrapes)
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new OperatorMetrics(services.GetRequiredService<IMeterFactory>());
        var reports = new List<(DoraProject, DoraReport)>();
        metrics.Observe(() => [("rollouts", 0), ("incidents", 0), ("projects", 0)], () => [("deployments", 0, 0L)], () => true, () => reports);
        using var pipeline = new MetricsPipeline(new MetricsExportOptions(), () => true);
        var random = new Random(3);
        for (var p = 0; p < projects; p++)
        {
            var project = new DoraProject { Metadata = new ObjectMeta { Name = $"project-{p}", Namespace = $"team-{p % 50}" }, Spec = new DoraProjectSpec { Team = $"team-{p % 50}", Window = "30d" } };
            var tags = OperatorMetrics.Tags(project);
            foreach (var outcome in new[] { "succeeded", "failed", "rolled_back" }) metrics.Deployments.Add(random.Next(1, 100), [.. tags, new("outcome", outcome)]);
            foreach (var severity in new[] { "critical", "high" }) metrics.Incidents.Add(random.Next(1, 5), [.. tags, new("severity", severity)]);
            metrics.Restored.Add(1, tags);
            metrics.Resolved.Add(1, tags);
            for (var i = 0; i < 20; i++)
            {
                metrics.LeadTime.Record(random.Next(60, 86400 * 10), tags);
                metrics.Duration.Record(random.Next(5, 600), tags);
            }
            metrics.TimeToRestore.Record(random.Next(60, 86400), tags);
            metrics.TimeToDetect.Record(random.Next(60, 86400), tags);
            reports.Add((project, new DoraReport
            {
                WindowStart = DateTimeOffset.UnixEpoch, WindowEnd = DateTimeOffset.UnixEpoch, Benchmark = "dora-2023",
                DeploymentFrequency = new FrequencyMetric { PerDay = 1.2, Count = 36, Tier = "elite" },
                LeadTime = new DurationMetric { MedianSeconds = 7200, Tier = "elite" },
                ChangeFailureRate = new RatioMetric { Ratio = 0.1, Tier = "high" },
                RecoveryTime = new DurationMetric { MedianSeconds = 3000, Tier = "elite" },
                ReworkRate = new RatioMetric { Ratio = 0.2 },
                DeploymentDuration = new DurationMetric(), TimeToDetect = new DurationMetric(),
                Tier = "elite", OpenIncidents = 1, FailedChanges = [],
                // What the team gauges pool: 36 deployments with lead times, 4 failed changes.
                Samples = new DoraSamples
                {
                    WindowStart = DateTimeOffset.UnixEpoch, WindowEnd = DateTimeOffset.UnixEpoch, DeploymentsPerDay = 1.2, Deployments = 36, Changes = 40, Rework = 7,
                    LeadTimes = [.. Enumerable.Range(0, 36).Select(_ => (double)random.Next(600, 86400 * 3))], Durations = [], DetectTimes = [], OpenIncidents = 1,
                    FailedChanges = [.. Enumerable.Range(0, 4).Select(i => new FailedChange($"r{i}", "Failed", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(random.Next(600, 86400))))],
                },
            }));
        }
        var first = pipeline.Exposition.Scrape(false);
        var times = new double[scrapes];
        long allocated = 0;
        for (var i = 0; i < scrapes; i++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var sw = Stopwatch.StartNew();
            var (buffer, _) = pipeline.Exposition.RentUtf8(false);
            pipeline.Exposition.ReturnUtf8(buffer);
            times[i] = sw.Elapsed.TotalMilliseconds;
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Array.Sort(times);
        var collectOnly = new double[scrapes];
        for (var i = 0; i < scrapes; i++)
        {
            var sw = Stopwatch.StartNew();
            pipeline.Exposition.Reader.Collect();
            collectOnly[i] = sw.Elapsed.TotalMilliseconds;
        }
        Array.Sort(collectOnly);
        var series = first.Split('\n').Count(l => l.Length > 0 && l[0] != '#');
        Console.WriteLine();
        Console.WriteLine("| measure | value | goal |");
        Console.WriteLine("| --- | --- | --- |");
        Console.WriteLine($"| /metrics render, {projects:N0} projects ({series:N0} samples, {first.Length / 1024.0 / 1024.0:F1} MB) | {times[scrapes / 2]:F1} ms median, {times[(int)(scrapes * 0.9)]:F1} ms p90 | < 20 ms |");
        Console.WriteLine($"| of which OpenTelemetry's collection (observable callbacks, aggregation) | {collectOnly[scrapes / 2]:F1} ms median | - |");
        Console.WriteLine($"| allocations per scrape | {allocated / scrapes / 1024.0 / 1024.0:F1} MB | - |");
    }
}
