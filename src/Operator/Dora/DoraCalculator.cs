using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;

namespace DoraOperator.Operator.Dora;

/// <summary>What the calculation reads: one project's records and incidents, and how to count them.</summary>
internal sealed record DoraInput(
    IReadOnlyList<DeploymentRecord> Records,
    IReadOnlyList<Incident> Incidents,
    string Environment,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    Benchmark Benchmark,
    bool LeadTimeFromFirstCommit = false);

/// <summary>A change that failed, why, and when it was restored (null while it is not).</summary>
internal sealed record FailedChange(string Record, string Reason, DateTimeOffset FailedAt, DateTimeOffset? RestoredAt)
{
    public double? RecoverySeconds => RestoredAt is { } r ? (r - FailedAt).TotalSeconds : null;
}

/// <summary>The DORA numbers of one project over one window, with the samples behind them.</summary>
internal sealed class DoraReport
{
    public required DateTimeOffset WindowStart { get; init; }
    public required DateTimeOffset WindowEnd { get; init; }
    public required string Benchmark { get; init; }
    public required FrequencyMetric DeploymentFrequency { get; init; }
    public required DurationMetric LeadTime { get; init; }
    public required RatioMetric ChangeFailureRate { get; init; }
    public required DurationMetric RecoveryTime { get; init; }
    public required RatioMetric ReworkRate { get; init; }
    public required DurationMetric DeploymentDuration { get; init; }
    public required DurationMetric TimeToDetect { get; init; }
    public required string Tier { get; init; }

    /// <summary>Distance to the nearest cluster profile (see <see cref="Benchmark.Overall"/>).</summary>
    public double? TierDistance { get; init; }

    public LastDeployment? LastDeployment { get; init; }
    public required int OpenIncidents { get; init; }
    public required IReadOnlyList<FailedChange> FailedChanges { get; init; }

    /// <summary>The samples the numbers summarize, for pooling several projects (a team).</summary>
    public required DoraSamples Samples { get; init; }
}

/// <summary>
/// What one window's numbers are computed from. Pools add up: counts and per-day rates sum (each
/// project over its own window), samples concatenate, so a pooled median is the median of every
/// sample and not a mean of medians.
/// </summary>
internal sealed class DoraSamples
{
    public required DateTimeOffset WindowStart { get; init; }
    public required DateTimeOffset WindowEnd { get; init; }
    public required double DeploymentsPerDay { get; init; }
    public required int Deployments { get; init; }
    public required int Changes { get; init; }
    public required int Rework { get; init; }
    public required IReadOnlyList<double> LeadTimes { get; init; }
    public required IReadOnlyList<double> Durations { get; init; }
    public required IReadOnlyList<double> DetectTimes { get; init; }
    public required IReadOnlyList<FailedChange> FailedChanges { get; init; }
    public required int OpenIncidents { get; init; }
    public LastDeployment? LastDeployment { get; init; }

    /// <summary>Several projects' samples as one; the window is the widest of theirs.</summary>
    public static DoraSamples Pool(IReadOnlyCollection<DoraSamples> parts)
    {
        if (parts.Count == 0) throw new ArgumentException("nothing to pool", nameof(parts));
        return new DoraSamples
        {
            WindowStart = parts.Min(p => p.WindowStart),
            WindowEnd = parts.Max(p => p.WindowEnd),
            DeploymentsPerDay = parts.Sum(p => p.DeploymentsPerDay),
            Deployments = parts.Sum(p => p.Deployments),
            Changes = parts.Sum(p => p.Changes),
            Rework = parts.Sum(p => p.Rework),
            LeadTimes = [.. parts.SelectMany(p => p.LeadTimes)],
            Durations = [.. parts.SelectMany(p => p.Durations)],
            DetectTimes = [.. parts.SelectMany(p => p.DetectTimes)],
            FailedChanges = [.. parts.SelectMany(p => p.FailedChanges)],
            OpenIncidents = parts.Sum(p => p.OpenIncidents),
            LastDeployment = parts.Select(p => p.LastDeployment).Where(l => l?.DeployedAt is not null).MaxBy(l => l!.DeployedAt),
        };
    }
}

/// <summary>
/// The DORA calculations as one pure function (docs/dora.md explains every rule):
/// <list type="bullet">
/// <item>A change is in the window when its time (deployedAt, or failedAt for a rollout that never
/// completed) is within [start, end]. Deployments are Succeeded and RolledBack records that reached
/// production; changes are deployments plus Failed rollouts. Restart, Superseded and Progressing
/// records count nowhere; neither do records of another environment.</item>
/// <item>Deployment frequency: deployments / window days. Lead time: per deployment with a lead-time
/// sample (none for config-only changes or invalid commit times), deployedAt minus its commit time.</item>
/// <item>Change failure rate: failed changes / changes, a change failing once however many reasons it
/// has: its rollout Failed, it was RolledBack, or a valid incident links to it.</item>
/// <item>Recovery time per failed change: with incidents, from the earliest incident start to the
/// last restore (once all are restored); a Failed rollout, from failedAt to the workload's next
/// successful deployment; a RolledBack one, from when it went live (deployedAt, else failedAt) to
/// the rollback's deployedAt.</item>
/// </list>
/// </summary>
internal static class DoraCalculator
{
    public static DoraReport Compute(DoraInput input) => Summarize(Collect(input), input.Benchmark);

    /// <summary>
    /// The samples behind one project's numbers over one window. One pass over the records picks the
    /// changes in the window; the name lookup and the incident links are built only when there are
    /// incidents or failed changes to resolve (a project recomputes on every change, at most once a
    /// second, over every record it keeps).
    /// </summary>
    public static DoraSamples Collect(DoraInput input)
    {
        var records = new List<DeploymentRecord>(input.Records.Count);
        var changes = new List<DeploymentRecord>();
        var leadTimes = new List<double>();
        var durations = new List<double>();
        var (deployments, rework) = (0, 0);
        DeploymentRecord? last = null;
        foreach (var r in input.Records)
        {
            if (DoraDefaults.EnvironmentOf(r) != input.Environment) continue;
            records.Add(r);
            if (r.Status is not { } status) continue;
            var deployedAt = status.DeployedAt;
            if (status.Phase == RecordPhases.Succeeded && deployedAt is { } succeeded && (last is null || succeeded > last.Status!.DeployedAt)) last = r;
            if (ChangeTime(status.Phase, deployedAt, status) is not { } t || t < input.WindowStart || t > input.WindowEnd) continue;
            changes.Add(r);
            if (!IsDeployment(status.Phase, deployedAt)) continue;
            deployments++;
            if (ChangeTypes.IsRework(r.Spec.ChangeType)) rework++;
            if (LeadTime(r, input.LeadTimeFromFirstCommit) is { } lead) leadTimes.Add(lead);
            if (status.DurationSeconds is { } duration) durations.Add(duration);
        }

        Dictionary<string, DeploymentRecord>? byName = null;
        Dictionary<string, DeploymentRecord> ByName() => byName ??= records.ToDictionary(r => r.Metadata.Name!, StringComparer.Ordinal);
        var incidents = input.Incidents.Where(IsValid).ToList();
        var incidentsByRecord = incidents.Count == 0 ? null : incidents
            .Select(i => (Incident: i, Record: LinkedRecord(i)))
            .Where(x => x.Record is not null && ByName().ContainsKey(x.Record))
            .ToLookup(x => x.Record!, x => x.Incident, StringComparer.Ordinal);

        var failed = new List<FailedChange>();
        Dictionary<string, List<DateTimeOffset>>? successes = null;
        foreach (var r in changes)
        {
            var linked = incidentsByRecord is not null && incidentsByRecord.Contains(r.Metadata.Name!) ? incidentsByRecord[r.Metadata.Name!].ToList() : [];
            if (linked.Count == 0 && r.Status?.Phase is not (RecordPhases.Failed or RecordPhases.RolledBack)) continue;
            successes ??= SuccessesByWorkload(records);
            failed.Add(Failure(r, linked, successes, ByName()));
        }

        var detect = incidents
            .Where(i => StartedAt(i) is { } s && s >= input.WindowStart && s <= input.WindowEnd)
            .Select(i => LinkedRecord(i) is { } name && ByName().TryGetValue(name, out var r) && r.Status?.DeployedAt is { } at && StartedAt(i) is { } s
                ? (s - at).TotalSeconds
                : (double?)null)
            .Where(v => v >= 0)
            .OfType<double>()
            .ToList();

        return new DoraSamples
        {
            WindowStart = input.WindowStart,
            WindowEnd = input.WindowEnd,
            DeploymentsPerDay = deployments / Math.Max((input.WindowEnd - input.WindowStart).TotalDays, 1.0 / 1440),
            Deployments = deployments,
            Changes = changes.Count,
            Rework = rework,
            LeadTimes = leadTimes,
            Durations = durations,
            DetectTimes = detect,
            FailedChanges = failed,
            OpenIncidents = input.Incidents.Count(i => IsValid(i) && RestoredAt(i) is null),
            LastDeployment = last is null ? null : new LastDeployment { Record = last.Metadata.Name, DeployedAt = last.Status!.DeployedAt, CommitSha = last.Spec.CommitSha },
        };
    }

    /// <summary>The numbers and tiers of a sample set (one project's, or several pooled) against a benchmark.</summary>
    public static DoraReport Summarize(DoraSamples samples, Benchmark benchmark)
    {
        var frequency = new FrequencyMetric { Count = samples.Deployments, Tier = Benchmark.Unknown };
        if (samples.Deployments > 0)
        {
            var perDay = samples.DeploymentsPerDay;
            frequency.PerDay = Round(perDay);
            frequency.PerWeek = Round(perDay * 7);
            frequency.Bucket = Benchmark.Bucket(DoraMetric.DeploymentFrequency, perDay);
            frequency.Tier = benchmark.Tier(DoraMetric.DeploymentFrequency, perDay);
        }
        var leadTime = Durations(samples.LeadTimes, benchmark, DoraMetric.LeadTime);
        var cfr = Ratio(samples.FailedChanges.Count, samples.Changes, benchmark, DoraMetric.ChangeFailureRate);
        var recovery = Durations(samples.FailedChanges.Select(f => f.RecoverySeconds).OfType<double>(), benchmark, DoraMetric.RecoveryTime);
        var (tier, distance) = benchmark.Overall(
            samples.Deployments > 0 ? samples.DeploymentsPerDay : null,
            leadTime.MedianSeconds,
            samples.Changes > 0 ? (double)samples.FailedChanges.Count / samples.Changes : null,
            recovery.MedianSeconds);
        return new DoraReport
        {
            WindowStart = samples.WindowStart,
            WindowEnd = samples.WindowEnd,
            Benchmark = benchmark.Name,
            DeploymentFrequency = frequency,
            LeadTime = leadTime,
            ChangeFailureRate = cfr,
            RecoveryTime = recovery,
            ReworkRate = Ratio(samples.Rework, samples.Deployments, null, null),
            DeploymentDuration = Durations(samples.Durations, null, null),
            TimeToDetect = Durations(samples.DetectTimes, null, null),
            Tier = tier,
            TierDistance = distance,
            LastDeployment = samples.LastDeployment,
            OpenIncidents = samples.OpenIncidents,
            FailedChanges = samples.FailedChanges,
            Samples = samples,
        };
    }

    /// <summary>When a change counts: deployedAt for one that reached production, failedAt for one that did not; null for phases that count nowhere.</summary>
    public static DateTimeOffset? ChangeTime(DeploymentRecord r) => r.Status is { } s ? ChangeTime(s.Phase, s.DeployedAt, s) : null;

    /// <summary><see cref="ChangeTime(DeploymentRecord)"/> with the phase and deployedAt already read (each read of a packed time unpacks it).</summary>
    private static DateTimeOffset? ChangeTime(string? phase, DateTimeOffset? deployedAt, DeploymentRecordStatus status) => phase switch
    {
        RecordPhases.Succeeded or RecordPhases.RolledBack when deployedAt is { } at => at,
        RecordPhases.Failed or RecordPhases.RolledBack => status.FailedAt,
        _ => null,
    };

    public static bool IsDeployment(DeploymentRecord r) => r.Status is { } s && IsDeployment(s.Phase, s.DeployedAt);

    private static bool IsDeployment(string? phase, DateTimeOffset? deployedAt) => phase is RecordPhases.Succeeded or RecordPhases.RolledBack && deployedAt is not null;

    /// <summary>
    /// The lead-time sample of a deployment: none when the tracker recorded none (config-only, invalid
    /// or missing commit time), and none for a rollback, which redeploys old code and ships no new commit.
    /// </summary>
    public static double? LeadTime(DeploymentRecord r, bool fromFirstCommit)
    {
        if (r.Status is not { LeadTimeSeconds: { } recorded, DeployedAt: { } deployedAt } || r.Status.RollbackOf is not null) return null;
        return CommitTimes.LeadTimeStart(r.Spec, fromFirstCommit) is null ? recorded : CommitTimes.LeadTimeSeconds(r.Spec, deployedAt, fromFirstCommit);
    }

    public static bool IsValid(Incident i) => i.Status?.Conditions?.Any(c => c.Type == "Invalid" && c.Status == "True") != true;

    public static DateTimeOffset? StartedAt(Incident i) => i.Spec.StartedAt ?? i.Metadata.CreationTimestamp;

    public static DateTimeOffset? RestoredAt(Incident i) => i.Spec.RestoredAt ?? i.Spec.ResolvedAt;

    public static string? LinkedRecord(Incident i) => i.Status?.LinkedDeployment ?? (string.IsNullOrEmpty(i.Spec.DeploymentRef) ? null : i.Spec.DeploymentRef);

    private static FailedChange Failure(DeploymentRecord r, List<Incident> linked, Dictionary<string, List<DateTimeOffset>> successes, Dictionary<string, DeploymentRecord> byName)
    {
        var name = r.Metadata.Name!;
        if (linked.Count > 0)
        {
            var start = linked.Select(StartedAt).Where(t => t is not null).Min() ?? ChangeTime(r)!.Value;
            var restores = linked.Select(RestoredAt).ToList();
            var restored = restores.All(t => t is not null) ? restores.Max() : null;
            var incidentReason = linked.Count == 1 ? $"incident {linked[0].Metadata.Name}" : $"{linked.Count} incidents";
            return new FailedChange(name, r.Status?.Phase is RecordPhases.Failed or RecordPhases.RolledBack ? $"{r.Status.Phase}, {incidentReason}" : incidentReason, start, restored);
        }
        if (r.Status!.Phase == RecordPhases.RolledBack)
        {
            var start = r.Status.DeployedAt ?? r.Status.FailedAt!.Value;
            var rollback = r.Status.RolledBackBy is { } by && byName.TryGetValue(by, out var rb) ? rb.Status?.DeployedAt : null;
            return new FailedChange(name, RecordPhases.RolledBack, start, rollback ?? NextDeployment(r, start, successes));
        }
        var failedAt = r.Status.FailedAt!.Value;
        return new FailedChange(name, RecordPhases.Failed, failedAt, r.Status.RestoredAt ?? NextDeployment(r, failedAt, successes));
    }

    /// <summary>Each workload's successful deployment times, sorted.</summary>
    private static Dictionary<string, List<DateTimeOffset>> SuccessesByWorkload(List<DeploymentRecord> records)
    {
        var result = new Dictionary<string, List<DateTimeOffset>>(StringComparer.Ordinal);
        foreach (var r in records)
        {
            if (r.Status is not { Phase: RecordPhases.Succeeded, DeployedAt: { } at }) continue;
            var workload = ObjectNames.WorkloadKey(r.Spec.Workload.Kind, r.Spec.Workload.Name);
            if (!result.TryGetValue(workload, out var list)) result[workload] = list = [];
            list.Add(at);
        }
        foreach (var list in result.Values) list.Sort();
        return result;
    }

    /// <summary>The deployedAt of the workload's first successful deployment after <paramref name="after"/>.</summary>
    private static DateTimeOffset? NextDeployment(DeploymentRecord failed, DateTimeOffset after, Dictionary<string, List<DateTimeOffset>> successes)
    {
        if (!successes.TryGetValue(ObjectNames.WorkloadKey(failed.Spec.Workload.Kind, failed.Spec.Workload.Name), out var times)) return null;
        var i = times.BinarySearch(after);
        i = i < 0 ? ~i : i + 1;
        while (i < times.Count && times[i] <= after) i++;
        return i < times.Count ? times[i] : null;
    }

    private static DurationMetric Durations(IEnumerable<double> samples, Benchmark? benchmark, DoraMetric? metric)
    {
        var values = samples.ToList();
        var (median, p90, mean) = Statistics.Summarize(values);
        var result = new DurationMetric { Samples = values.Count, MedianSeconds = Round(median), P90Seconds = Round(p90), MeanSeconds = Round(mean) };
        if (benchmark is not null && metric is { } m)
        {
            result.Tier = median is { } v ? benchmark.Tier(m, v) : Benchmark.Unknown;
            result.Bucket = median is { } b ? Benchmark.Bucket(m, b) : null;
        }
        return result;
    }

    private static RatioMetric Ratio(int count, int total, Benchmark? benchmark, DoraMetric? metric)
    {
        var result = new RatioMetric { Count = count, Total = total };
        if (total > 0) result.Ratio = Round((double)count / total, 4);
        if (benchmark is not null && metric is { } m)
        {
            result.Tier = total > 0 ? benchmark.Tier(m, (double)count / total) : Benchmark.Unknown;
            result.Bucket = total > 0 ? Benchmark.Bucket(m, (double)count / total) : null;
        }
        return result;
    }

    private static double? Round(double? v, int digits = 3) => v is { } x ? Math.Round(x, digits) : null;

    /// <summary>The benchmark a project asks for; custom thresholds come from its spec.</summary>
    public static Benchmark BenchmarkFor(DoraProjectSpec spec)
    {
        if (spec.Benchmark == "dora-2024") return Benchmark.Dora2024;
        if (spec.Benchmark != "custom" || spec.Thresholds is not { } t) return Benchmark.Dora2023;
        static double[]? Rates(RateBands? b) => b is null ? null : [b.Elite, b.High, b.Medium];
        static double[]? Seconds(DurationBands? b) =>
            b is not null && Entities.Vocabulary.Durations.TryParse(b.Elite, out var e) && Entities.Vocabulary.Durations.TryParse(b.High, out var h) && Entities.Vocabulary.Durations.TryParse(b.Medium, out var m)
                ? [e.TotalSeconds, h.TotalSeconds, m.TotalSeconds]
                : null;
        return Benchmark.Custom(Rates(t.DeploymentFrequency), Seconds(t.LeadTime), Rates(t.ChangeFailureRate), Seconds(t.RecoveryTime));
    }
}
