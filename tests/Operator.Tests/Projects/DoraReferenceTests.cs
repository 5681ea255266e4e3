using DoraOperator.Entities.Dora;
using DoraOperator.Operator.Dora;
using DoraOperator.Operator.Projects;
using static DoraOperator.Operator.Tests.Projects.History;

namespace DoraOperator.Operator.Tests.Projects;

/// <summary>
/// The calculator against a deliberately naive reference (one loop per metric, written from the
/// definitions in docs/dora.md, 1-based percentile ranks) on random histories.
/// </summary>
public sealed class DoraReferenceTests
{
    private static readonly DateTimeOffset End = At(11, 30, 0);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void RandomHistoriesMatchTheReference(int seed)
    {
        var random = new Random(seed);
        for (var run = 0; run < 60; run++)
        {
            var (records, incidents) = RandomHistory(random);
            var windowDays = random.Next(1, 45);
            var start = End.AddDays(-windowDays);
            var actual = DoraCalculator.Compute(new DoraInput(records, incidents, "production", start, End, Benchmark.Dora2023));
            var expected = Reference(records, incidents, start, End);

            Assert.Equal(expected.Deployments, actual.DeploymentFrequency.Count);
            Assert.Equal(expected.Failed, actual.ChangeFailureRate.Count);
            Assert.Equal(expected.Changes, actual.ChangeFailureRate.Total);
            Assert.Equal(expected.Rework, actual.ReworkRate.Count);
            Assert.Equal(expected.Lead.Count, actual.LeadTime.Samples);
            Assert.Equal(expected.Recovery.Count, actual.RecoveryTime.Samples);
            Assert.Equal(expected.Open, actual.OpenIncidents);
            AssertClose(Percentile(expected.Lead, 50), actual.LeadTime.MedianSeconds);
            AssertClose(Percentile(expected.Lead, 90), actual.LeadTime.P90Seconds);
            AssertClose(expected.Lead.Count == 0 ? null : expected.Lead.Sum() / expected.Lead.Count, actual.LeadTime.MeanSeconds);
            AssertClose(Percentile(expected.Recovery, 50), actual.RecoveryTime.MedianSeconds);
            if (expected.Deployments > 0) AssertClose(expected.Deployments / (double)windowDays, actual.DeploymentFrequency.PerDay);
            else Assert.Null(actual.DeploymentFrequency.PerDay);
        }
    }

    private static void AssertClose(double? expected, double? actual)
    {
        if (expected is null)
        {
            Assert.Null(actual);
            return;
        }
        Assert.NotNull(actual);
        Assert.True(Math.Abs(expected.Value - actual.Value) <= 0.001 + (Math.Abs(expected.Value) * 1e-9), $"expected {expected}, got {actual}");
    }

    /// <summary>1-based rank r = 1 + (n - 1) p / 100, interpolated between the neighbouring values.</summary>
    private static double? Percentile(List<double> values, int p)
    {
        if (values.Count == 0) return null;
        var sorted = values.OrderBy(v => v).ToArray();
        var rank = 1 + ((sorted.Length - 1) * p / 100.0);
        var below = (int)rank;
        if (below >= sorted.Length) return sorted[^1];
        return sorted[below - 1] + ((rank - below) * (sorted[below] - sorted[below - 1]));
    }

    private sealed record Expected(int Deployments, int Changes, int Failed, int Rework, List<double> Lead, List<double> Recovery, int Open);

    private static Expected Reference(List<DeploymentRecord> records, List<Incident> incidents, DateTimeOffset start, DateTimeOffset end)
    {
        int deployments = 0, changes = 0, failed = 0, rework = 0, open = 0;
        var lead = new List<double>();
        var recovery = new List<double>();
        foreach (var i in incidents)
        {
            if (i.Spec.RestoredAt is null && i.Spec.ResolvedAt is null) open++;
        }
        foreach (var r in records)
        {
            var s = r.Status!;
            if (r.Spec.Environment != "production") continue;
            DateTimeOffset when;
            var reachedProduction = false;
            if ((s.Phase == "Succeeded" || s.Phase == "RolledBack") && s.DeployedAt != null)
            {
                when = s.DeployedAt.Value;
                reachedProduction = true;
            }
            else if ((s.Phase == "Failed" || s.Phase == "RolledBack") && s.FailedAt != null)
            {
                when = s.FailedAt.Value;
            }
            else
            {
                continue;
            }
            if (when < start || when > end) continue;
            changes++;
            if (reachedProduction)
            {
                deployments++;
                if (r.Spec.ChangeType == "fix" || r.Spec.ChangeType == "hotfix") rework++;
                if (s.LeadTimeSeconds != null && s.RollbackOf == null) lead.Add((s.DeployedAt!.Value - r.Spec.CommitTime!.Value).TotalSeconds);
            }
            var mine = incidents.Where(i => i.Status!.LinkedDeployment == r.Metadata.Name).ToList();
            if (mine.Count > 0)
            {
                failed++;
                if (mine.All(i => i.Spec.RestoredAt != null))
                {
                    recovery.Add((mine.Max(i => i.Spec.RestoredAt!.Value) - mine.Min(i => i.Spec.StartedAt!.Value)).TotalSeconds);
                }
            }
            else if (s.Phase == "Failed")
            {
                failed++;
                DateTimeOffset? next = null;
                foreach (var o in records)
                {
                    if (o.Spec.Workload.Name == r.Spec.Workload.Name && o.Spec.Environment == "production" && o.Status!.Phase == "Succeeded" && o.Status.DeployedAt > s.FailedAt && (next == null || o.Status.DeployedAt < next)) next = o.Status.DeployedAt;
                }
                if (next != null) recovery.Add((next.Value - s.FailedAt!.Value).TotalSeconds);
            }
            else if (s.Phase == "RolledBack")
            {
                failed++;
                var by = records.First(o => o.Metadata.Name == s.RolledBackBy);
                recovery.Add((by.Status!.DeployedAt!.Value - (s.DeployedAt ?? s.FailedAt)!.Value).TotalSeconds);
            }
        }
        return new Expected(deployments, changes, failed, rework, lead, recovery, open);
    }

    /// <summary>Two workloads over ~60 days: releases, failures, rollbacks (always completed), restarts, config changes, staging noise and incidents.</summary>
    private static (List<DeploymentRecord>, List<Incident>) RandomHistory(Random random)
    {
        var records = new List<DeploymentRecord>();
        var incidents = new List<Incident>();
        var t = End.AddDays(-60);
        var n = random.Next(0, 40);
        string[] types = ["feature", "fix", "hotfix", "config", "chore"];
        for (var i = 1; i <= n; i++)
        {
            t = t.AddMinutes(random.Next(30, 4000));
            var workload = random.Next(2) == 0 ? "api" : "web";
            var name = $"{workload}-{i}";
            var commit = random.Next(5) == 0 ? (DateTimeOffset?)null : t.AddMinutes(-random.Next(1, 20000));
            var changeType = types[random.Next(types.Length)];
            switch (random.Next(10))
            {
                case 0:
                    records.Add(Record(name, "Failed", failedAt: t, workload: workload, commit: commit));
                    break;
                case 1:
                    var back = $"{workload}-{i}b";
                    records.Add(Record(name, "RolledBack", random.Next(2) == 0 ? t : null, commit: commit, failedAt: t.AddMinutes(10), workload: workload, rolledBackBy: back, changeType: changeType));
                    records.Add(Record(back, "Succeeded", t.AddMinutes(15 + random.Next(60)), commit: commit, workload: workload, rollbackOf: name));
                    break;
                case 2:
                    records.Add(Record(name, "Restart", t, workload: workload));
                    break;
                case 3:
                    records.Add(Record(name, "Succeeded", t, commit: commit, workload: workload, environment: "staging"));
                    break;
                case 4:
                    records.Add(Record(name, "Superseded", workload: workload, startedAt: t));
                    break;
                default:
                    records.Add(Record(name, "Succeeded", t, commit: commit, workload: workload, changeType: changeType));
                    if (random.Next(4) == 0)
                    {
                        var started = t.AddMinutes(random.Next(1, 300));
                        for (var k = random.Next(1, 3); k > 0; k--)
                        {
                            incidents.Add(Incident($"inc-{i}-{k}", started.AddMinutes(k), random.Next(3) == 0 ? null : started.AddMinutes(k + random.Next(5, 600)), linked: name));
                        }
                    }
                    break;
            }
        }
        for (var k = random.Next(0, 3); k > 0; k--) incidents.Add(Incident($"loose-{k}", End.AddDays(-random.Next(1, 20)), random.Next(2) == 0 ? null : End.AddDays(-0.5)));
        return (records, incidents);
    }
}
