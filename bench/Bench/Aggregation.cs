using System.Diagnostics;
using DoraOperator.Entities.Dora;
using DoraOperator.Kube.Meta;
using DoraOperator.Operator.Dora;
using DoraOperator.Operator.Projects;

namespace DoraOperator.Bench;

/// <summary>
/// Cost of the DORA calculation: a full recompute of one project with many records in its window,
/// and the cost of one new record when 1,000 projects share 100,000 records (each event recomputes
/// only its own project).
/// </summary>
internal static class Aggregation
{
    public static void Run(int bigProject, int projects, int recordsPerProject)
    {
        var end = new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero);
        var big = Records("big", bigProject, end);
        var bigIncidents = Incidents("big", big, end);
        var full = Measure(() => DoraCalculator.Compute(new DoraInput(big, bigIncidents, "production", end.AddDays(-30), end, Benchmark.Dora2023)), 20);

        var all = Enumerable.Range(0, projects).Select(p => Records($"p{p}", recordsPerProject, end)).ToArray();
        var incidents = all.Select((r, p) => Incidents($"p{p}", r, end)).ToArray();
        var random = new Random(7);
        var perEvent = Measure(() =>
        {
            var p = random.Next(projects);
            return DoraCalculator.Compute(new DoraInput(all[p], incidents[p], "production", end.AddDays(-30), end, Benchmark.Dora2023));
        }, 2_000);

        Console.WriteLine();
        Console.WriteLine("| measure | value | goal |");
        Console.WriteLine("| --- | --- | --- |");
        Console.WriteLine($"| full recompute, 1 project with {bigProject:N0} records in the window | {full.Mean:F2} ms mean, {full.Max:F2} ms max, {full.AllocatedKb:N0} KB allocated | - |");
        Console.WriteLine($"| per new record, {projects:N0} projects x {recordsPerProject} records ({projects * recordsPerProject:N0}) | {perEvent.Mean * 1000:F0} us mean, {perEvent.P99 * 1000:F0} us p99, {perEvent.AllocatedKb:N1} KB allocated | < 1 ms |");
    }

    private static (double Mean, double P99, double Max, double AllocatedKb) Measure(Func<DoraReport> work, int runs)
    {
        for (var i = 0; i < Math.Min(runs, 50); i++) work();
        var times = new double[runs];
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            work();
            times[i] = sw.Elapsed.TotalMilliseconds;
        }
        var allocated = (GC.GetAllocatedBytesForCurrentThread() - before) / 1024.0 / runs;
        Array.Sort(times);
        return (times.Average(), times[(int)Math.Min(runs - 1, Math.Ceiling(runs * 0.99) - 1)], times[^1], allocated);
    }

    internal static List<DeploymentRecord> Records(string project, int n, DateTimeOffset end)
    {
        var random = new Random(project.GetHashCode(StringComparison.Ordinal));
        var list = new List<DeploymentRecord>(n);
        for (var i = 0; i < n; i++)
        {
            var deployed = end.AddSeconds(-random.Next(0, 30 * 86400));
            var phase = random.Next(20) switch { 0 => "Failed", 1 => "RolledBack", 2 => "Restart", _ => "Succeeded" };
            list.Add(new DeploymentRecord
            {
                Metadata = new ObjectMeta { Name = $"w{i % 20}-{i}", Namespace = "bench" },
                Spec = new DeploymentRecordSpec { Project = project, Workload = new WorkloadReference { Name = $"w{i % 20}" }, Revision = i + 1, CommitTime = deployed.AddHours(-random.Next(1, 48)), Environment = "production", ChangeType = random.Next(5) == 0 ? "fix" : "feature" },
                Status = new DeploymentRecordStatus
                {
                    Phase = phase,
                    DeployedAt = phase is "Failed" ? null : deployed,
                    FailedAt = phase is "Failed" or "RolledBack" ? deployed.AddMinutes(5) : null,
                    LeadTimeSeconds = phase is "Succeeded" ? random.Next(3600, 48 * 3600) : null,
                },
            });
        }
        return list;
    }

    internal static List<Incident> Incidents(string project, List<DeploymentRecord> records, DateTimeOffset end) =>
        records.Where((_, i) => i % 25 == 0).Select((r, i) => new Incident
        {
            Metadata = new ObjectMeta { Name = $"inc-{i}", Namespace = "bench" },
            Spec = new IncidentSpec { Project = project, StartedAt = (r.Status!.DeployedAt ?? end).AddMinutes(10), RestoredAt = (r.Status.DeployedAt ?? end).AddMinutes(70) },
            Status = new IncidentStatus { LinkedDeployment = r.Metadata.Name },
        }).ToList();
}
