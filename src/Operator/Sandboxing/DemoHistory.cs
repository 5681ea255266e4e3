namespace DoraOperator.Operator.Sandboxing;

/// <summary>A step of the demo's month: what happens, and when on the demo clock.</summary>
internal abstract record DemoStep(DateTimeOffset At);

/// <summary>A release of a workload whose commit is <see cref="CommitAge"/> old; <see cref="Fails"/>: its rollout never becomes available.</summary>
internal sealed record DemoRelease(DateTimeOffset At, string Workload, string ChangeType, TimeSpan CommitAge, bool Fails = false) : DemoStep(At);

/// <summary>An incident opens on a project (the operator attributes it to the last deployment before it).</summary>
internal sealed record DemoIncident(DateTimeOffset At, string Namespace, string Project, string Name, string Title, string Severity) : DemoStep(At);

/// <summary>An incident is restored.</summary>
internal sealed record DemoRestore(DateTimeOffset At, string Namespace, string Name) : DemoStep(At);

/// <summary>One demo project and how its team delivers: how often, how long from commit to production, how often it breaks, how long recovery takes.</summary>
internal sealed record DemoProfile(
    string Namespace,
    string Project,
    string Team,
    string[] Workloads,
    double ReleasesPerDay,
    (double Min, double Max) LeadHours,
    double FailureShare,
    (double Min, double Max) RecoveryHours,
    bool FailedRollouts);

/// <summary>
/// The demo's month, planned up front from a fixed seed: four projects of three teams whose habits
/// put them in different tiers (storefront elite, ledger high, search medium, reports low).
/// </summary>
internal static class DemoHistory
{
    /// <summary>How far back the history starts: the 30-day window and part of the one before, so comparisons have something to compare.</summary>
    public static readonly TimeSpan Length = TimeSpan.FromDays(42);

    public static readonly DemoProfile[] Profiles =
    [
        new(DemoDriver.Namespace, DemoDriver.Project, "web", ["frontend", "checkout", "catalog"], 2.2, (0.5, 20), 0.1, (0.2, 0.7), FailedRollouts: true),
        new("payments", "ledger", "payments", ["ledger-api"], 0.3, (26, 90), 0.12, (2, 9), FailedRollouts: false),
        new("data", "search", "data", ["search-indexer"], 0.11, (8 * 24, 16 * 24), 0.2, (30, 60), FailedRollouts: false),
        new("data", "reports", "data", ["report-builder"], 0.13, (12 * 24, 26 * 24), 0.8, (8 * 24, 20 * 24), FailedRollouts: false),
    ];

    /// <summary>The steps between <paramref name="start"/> and <paramref name="end"/>, in time order.</summary>
    public static IReadOnlyList<DemoStep> Plan(DateTimeOffset start, DateTimeOffset end, int seed = 2026)
    {
        var random = new Random(seed);
        var steps = new List<DemoStep>();
        var incidents = 0;
        double Between((double Min, double Max) range) => range.Min + (random.NextDouble() * (range.Max - range.Min));
        foreach (var p in Profiles)
        {
            // A first release a few hours in, so that no project starts the month with nothing.
            var credit = 1.0;
            for (var day = start.UtcDateTime.Date; day < end; day = day.AddDays(1))
            {
                credit += p.ReleasesPerDay * (0.5 + random.NextDouble());
                var weekend = day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday;
                while (credit >= 1 && !weekend)
                {
                    credit -= 1;
                    var at = new DateTimeOffset(day, TimeSpan.Zero).AddHours(9 + (random.NextDouble() * 9));
                    if (at <= start) at = start.AddHours(1 + random.NextDouble());
                    var workload = p.Workloads[random.Next(p.Workloads.Length)];
                    var fails = random.NextDouble() < p.FailureShare;
                    var lead = TimeSpan.FromHours(Between(p.LeadHours));
                    var type = random.Next(5) == 0 ? "fix" : "feature";
                    if (fails && p.FailedRollouts && random.Next(2) == 0)
                    {
                        steps.Add(new DemoRelease(at, workload, type, lead, Fails: true));
                        var fixAt = at + TimeSpan.FromHours(Between(p.RecoveryHours));
                        steps.Add(new DemoRelease(fixAt, workload, "hotfix", (fixAt - at) * (0.3 + (random.NextDouble() * 0.5))));
                        continue;
                    }
                    steps.Add(new DemoRelease(at, workload, type, lead));
                    if (!fails) continue;
                    var opened = at + TimeSpan.FromMinutes(random.Next(5, 40));
                    var name = $"{p.Project}-{++incidents}";
                    steps.Add(new DemoIncident(opened, p.Namespace, p.Project, name, Titles[random.Next(Titles.Length)].Replace("{w}", workload, StringComparison.Ordinal), random.Next(3) == 0 ? "high" : "medium"));
                    steps.Add(new DemoRestore(opened + TimeSpan.FromHours(Between(p.RecoveryHours)), p.Namespace, name));
                }
            }
        }
        return [.. steps.Where(s => s.At > start && s.At < end).OrderBy(s => s.At)];
    }

    private static readonly string[] Titles = ["{w}: error rate above 5%", "{w}: p99 latency above 2 s", "{w}: pods crash-looping", "{w}: stale results reported"];

    /// <summary>The project a workload belongs to.</summary>
    public static DemoProfile ProfileOf(string workload) => Profiles.First(p => p.Workloads.Contains(workload));
}
