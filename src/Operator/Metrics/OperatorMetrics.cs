using System.Diagnostics.Metrics;
using DoraOperator.Entities.Dora;
using DoraOperator.Kube.Informers;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Operator.Dora;
using DoraOperator.Operator.Projects;

namespace DoraOperator.Operator.Metrics;

/// <summary>
/// Every instrument of the operator, in one <see cref="Meter"/> named <c>DoraOperator</c>. DORA
/// series (<c>dora_*</c>) are fed from the custom resources by <see cref="DoraLedger"/> and by the
/// aggregator's reports; health series (<c>dora_operator_*</c>) from the controllers, queues,
/// informers and the API client. Names are those Prometheus shows, minus <c>_total</c> on counters
/// (the exposition adds it), so OTLP and Prometheus carry the same names.
/// </summary>
internal sealed class OperatorMetrics
{
    public const string MeterName = "DoraOperator";

    /// <summary>Lead time buckets: 1 minute to 180 days.</summary>
    public static readonly double[] LeadTimeBuckets = [60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 345600, 604800, 1209600, 2592000, 7776000, 15552000];

    /// <summary>Rollout duration buckets: 5 seconds to 2 hours.</summary>
    public static readonly double[] DurationBuckets = [5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200];

    /// <summary>Restore and detect buckets: 1 minute to 30 days.</summary>
    public static readonly double[] IncidentBuckets = [60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400, 259200, 604800, 2592000];

    /// <summary>Reconcile duration buckets: 1 ms to 10 s.</summary>
    public static readonly double[] ReconcileBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

    private readonly Counter<long> _reconciles;
    private readonly Histogram<double> _reconcileDuration;
    private readonly Counter<long> _apiRequests;
    private readonly Counter<long> _unrouted;

    public OperatorMetrics(IMeterFactory factory, string meterName = MeterName)
    {
        Meter = factory.Create(new MeterOptions(meterName) { Version = typeof(OperatorMetrics).Assembly.GetName().Version?.ToString() });
        _reconciles = Meter.CreateCounter<long>("dora_operator_reconcile", null, "Reconciles by controller and result (success, requeue, error).");
        _reconcileDuration = Meter.CreateHistogram("dora_operator_reconcile_duration_seconds", "s", "Time one reconcile took, by controller.", null, new InstrumentAdvice<double> { HistogramBucketBoundaries = ReconcileBuckets });
        _apiRequests = Meter.CreateCounter<long>("dora_operator_api_requests", null, "Requests to the Kubernetes API by verb and HTTP status code (0: no answer).");
        Deployments = Meter.CreateCounter<long>("dora_deployments", null, "Rollouts that finished, by outcome: succeeded (reached the environment), failed (never did), rolled_back (was rolled back; also counted as succeeded or failed).");
        LeadTime = Meter.CreateHistogram("dora_deployment_lead_time_seconds", "s", "Change lead time of each deployment (commit to running in the environment).", null, new InstrumentAdvice<double> { HistogramBucketBoundaries = LeadTimeBuckets });
        Duration = Meter.CreateHistogram("dora_deployment_duration_seconds", "s", "Rollout duration of each deployment (new ReplicaSet created to rollout complete).", null, new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        Started = Meter.CreateCounter<long>("dora_deployments_started", null, "Deployments that started (a record with a start time), whether or not they reached the environment.");
        _unrouted = Meter.CreateCounter<long>("dora_operator_intake_unrouted", null, "Intake inputs no DoraProject claims (acknowledged, nothing written), by source.");
        Incidents = Meter.CreateCounter<long>("dora_incidents", null, "Incidents opened, by severity.");
        Restored = Meter.CreateCounter<long>("dora_incidents_restored", null, "Incidents whose service was restored.");
        Resolved = Meter.CreateCounter<long>("dora_incidents_resolved", null, "Incidents resolved.");
        TimeToRestore = Meter.CreateHistogram("dora_time_to_restore_seconds", "s", "Incident start to service restored.", null, new InstrumentAdvice<double> { HistogramBucketBoundaries = IncidentBuckets });
        TimeToDetect = Meter.CreateHistogram("dora_time_to_detect_seconds", "s", "Linked deployment's deployedAt to incident start.", null, new InstrumentAdvice<double> { HistogramBucketBoundaries = IncidentBuckets });
    }

    public Meter Meter { get; }
    public Counter<long> Started { get; }

    public void Unrouted(string source) => _unrouted.Add(1, new KeyValuePair<string, object?>("source", source));
    public Counter<long> Deployments { get; }
    public Histogram<double> LeadTime { get; }
    public Histogram<double> Duration { get; }
    public Counter<long> Incidents { get; }
    public Counter<long> Restored { get; }
    public Counter<long> Resolved { get; }
    public Histogram<double> TimeToRestore { get; }
    public Histogram<double> TimeToDetect { get; }

    public void ApiResponse(string verb, int code) => _apiRequests.Add(1, new("verb", verb), new("code", code.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    public void Reconciled(string controller, string result, TimeSpan duration)
    {
        _reconciles.Add(1, new("controller", controller), new("result", result));
        _reconcileDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("controller", controller));
    }

    /// <summary>The observable series: queues, watches, leadership, and the windowed DORA gauges from the aggregators' latest reports.</summary>
    public void Observe(
        Func<IEnumerable<(string Controller, int Depth)>> queues,
        Func<IEnumerable<(string Resource, int Restarts, long Events)>> watches,
        Func<bool> leader,
        Func<IEnumerable<(DoraProject Project, DoraReport Report)>> reports)
    {
        Meter.CreateObservableGauge("dora_operator_workqueue_depth", () => queues().Select(q => new Measurement<int>(q.Depth, new KeyValuePair<string, object?>("controller", q.Controller))), null, "Items waiting in each controller's work queue.");
        Meter.CreateObservableCounter("dora_operator_watch_restarts", () => watches().Select(w => new Measurement<long>(w.Restarts, new KeyValuePair<string, object?>("resource", w.Resource))), null, "Watches re-opened after they ended or failed, by resource.");
        Meter.CreateObservableCounter("dora_operator_watch_events", () => watches().Select(w => new Measurement<long>(w.Events, new KeyValuePair<string, object?>("resource", w.Resource))), null, "Watch events decoded and applied to the caches (adds, updates, deletes), by resource.");
        Meter.CreateObservableGauge("dora_operator_leader", () => leader() ? 1 : 0, null, "1 while this replica leads (writes and exports DORA series), else 0.");
        Meter.CreateObservableGauge("dora_operator_managed_heap_bytes", () => GC.GetGCMemoryInfo().HeapSizeBytes, "By", "Size of the .NET managed heap at the last garbage collection.");
        Meter.CreateObservableGauge("dora_operator_working_set_bytes", () => Environment.WorkingSet, "By", "Resident memory of the operator process.");
        Meter.CreateObservableCounter("dora_operator_cpu_seconds", () => Environment.CpuUsage.TotalTime.TotalSeconds, "s", "CPU time the operator process has used, user and system.");
        Meter.CreateObservableCounter("dora_operator_gc_pause_seconds", () => GC.GetTotalPauseDuration().TotalSeconds, "s", "Time the process was paused for garbage collections.");
        Meter.CreateObservableCounter("dora_operator_gc_collections", GcCollections, null, "Garbage collections by generation; a collection of generation 2 also counts for 1 and 0.");

        IEnumerable<Measurement<double>> Gauge(Func<DoraReport, double?> value) =>
            leader() ? reports().Where(r => value(r.Report) is not null).Select(r => new Measurement<double>(value(r.Report)!.Value, Tags(r.Project))) : [];
        Meter.CreateObservableGauge("dora_deployment_frequency_per_day", () => Gauge(r => r.DeploymentFrequency.PerDay), null, "Successful deployments per day over the project's window.");
        Meter.CreateObservableGauge("dora_lead_time_median_seconds", () => Gauge(r => r.LeadTime.MedianSeconds), "s", "Median change lead time over the project's window.");
        Meter.CreateObservableGauge("dora_change_failure_ratio", () => Gauge(r => r.ChangeFailureRate.Ratio), null, "Failed changes / changes over the project's window (0..1).");
        Meter.CreateObservableGauge("dora_recovery_time_median_seconds", () => Gauge(r => r.RecoveryTime.MedianSeconds), "s", "Median failed-deployment recovery time over the project's window.");
        Meter.CreateObservableGauge("dora_rework_ratio", () => Gauge(r => r.ReworkRate.Ratio), null, "Share of deployments with change type fix or hotfix over the project's window (0..1).");
        Meter.CreateObservableGauge("dora_incidents_open", () => Gauge(r => r.OpenIncidents), null, "Incidents of the project not yet restored.");
        Meter.CreateObservableGauge("dora_tier", () => leader() ? reports().SelectMany(TierMeasurements) : [], null, "1 for the project's current tier per metric (deployment_frequency, lead_time, change_failure_rate, recovery_time, overall).");
        // Teams: one series per (team, environment) and metric, pooled from the same reports (TeamRollup)
        // once per collection: the five team gauges are read one after the other.
        IEnumerable<Measurement<double>> TeamGauge(Func<DoraReport, double?> value) =>
            leader() ? Teams(reports).Where(t => value(t.Report) is not null).Select(t => new Measurement<double>(value(t.Report)!.Value, TeamTags(t))) : [];
        Meter.CreateObservableGauge("dora_team_deployment_frequency_per_day", () => TeamGauge(r => r.DeploymentFrequency.PerDay), null, "Successful deployments per day of all the team's projects (each over its own window).");
        Meter.CreateObservableGauge("dora_team_lead_time_median_seconds", () => TeamGauge(r => r.LeadTime.MedianSeconds), "s", "Median change lead time over the pooled lead times of the team's projects.");
        Meter.CreateObservableGauge("dora_team_change_failure_ratio", () => TeamGauge(r => r.ChangeFailureRate.Ratio), null, "Failed changes / changes of all the team's projects (0..1).");
        Meter.CreateObservableGauge("dora_team_recovery_time_median_seconds", () => TeamGauge(r => r.RecoveryTime.MedianSeconds), "s", "Median recovery time over the pooled failed changes of the team's projects.");
        Meter.CreateObservableGauge("dora_team_tier", () => leader() ? Teams(reports).Select(t => new Measurement<int>(1, [.. TeamTags(t), new("tier", t.Report.Tier)])) : [], null, "1 for the team's overall tier.");
        Meter.CreateObservableGauge("dora_project_info", () => leader() ? reports().Select(r => new Measurement<int>(1, [.. Tags(r.Project), new("benchmark", r.Report.Benchmark), new("window", DoraDefaults.WindowOf(r.Project))])) : [], null, "Static facts about each project; always 1.");
    }

    private static IEnumerable<Measurement<long>> GcCollections()
    {
        for (var generation = 0; generation <= GC.MaxGeneration; generation++)
        {
            yield return new Measurement<long>(GC.CollectionCount(generation), new KeyValuePair<string, object?>("generation", generation.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
    }

    private static IEnumerable<Measurement<int>> TierMeasurements((DoraProject Project, DoraReport Report) r)
    {
        var tags = Tags(r.Project);
        (string Metric, string? Tier)[] tiers =
        [
            ("deployment_frequency", r.Report.DeploymentFrequency.Tier), ("lead_time", r.Report.LeadTime.Tier), ("change_failure_rate", r.Report.ChangeFailureRate.Tier),
            ("recovery_time", r.Report.RecoveryTime.Tier), ("overall", r.Report.Tier),
        ];
        foreach (var (metric, tier) in tiers) yield return new Measurement<int>(1, [.. tags, new("metric", metric), new("tier", tier ?? Benchmark.Unknown)]);
    }

    /// <summary>The labels of every DORA series of a project.</summary>
    public static KeyValuePair<string, object?>[] Tags(DoraProject project) =>
        Tags(project.Metadata.Namespace, project.Metadata.Name, project.Spec.Team, DoraDefaults.EnvironmentOf(project));

    public static KeyValuePair<string, object?>[] Tags(string? ns, string? project, string? team, string environment) =>
    [
        new("namespace", ns ?? ""), new("project", project ?? ""), new("team", team ?? ""), new("environment", environment),
        new(DeploymentEnvironmentAttribute, environment),
    ];

    private (long At, IReadOnlyList<TeamReport> Teams)? _teams;

    /// <summary>The team rollups, pooled at most once a second (a collection reads all five team gauges within it).</summary>
    private IReadOnlyList<TeamReport> Teams(Func<IEnumerable<(DoraProject Project, DoraReport Report)>> reports)
    {
        var now = TimeProvider.System.GetTimestamp();
        lock (_teamsGate)
        {
            if (_teams is { } cached && TimeProvider.System.GetElapsedTime(cached.At, now) < TimeSpan.FromSeconds(1)) return cached.Teams;
            var teams = TeamRollup.All(reports()).ToList();
            _teams = (now, teams);
            return teams;
        }
    }

    private readonly Lock _teamsGate = new();

    private static KeyValuePair<string, object?>[] TeamTags(TeamReport t) =>
        [new("team", t.Team), new("environment", t.Environment), new(DeploymentEnvironmentAttribute, t.Environment)];

    /// <summary>OpenTelemetry's semantic-convention name for the environment; OTLP carries it, the Prometheus exposition drops it (it repeats <c>environment</c>).</summary>
    public const string DeploymentEnvironmentAttribute = "deployment.environment.name";

    /// <summary>
    /// The most series one project can give a DORA metric over the process's life: dora_tier has five
    /// metrics times five tier values (a tier that changes starts a new series), dora_deployments three
    /// outcomes, dora_incidents four severities; the others one.
    /// </summary>
    public static int SeriesPerProject(string name) => name switch
    {
        "dora_tier" => 25,
        "dora_team_tier" => 5,
        "dora_incidents" => 4,
        "dora_deployments" => 3,
        _ => 1,
    };

    /// <summary>True for series only the leader exports.</summary>
    public static bool IsDoraSeries(string name) => name.StartsWith("dora_", StringComparison.Ordinal) && !name.StartsWith("dora_operator_", StringComparison.Ordinal);
}
