using System.Diagnostics.Metrics;
using System.Text;
using BenchmarkDotNet.Attributes;
using DoraOperator.Entities.BuiltIn;
using DoraOperator.Entities.Dora;
using DoraOperator.Kube.Meta;
using DoraOperator.Kube.Rest;
using DoraOperator.Operator.Metrics;
using DoraOperator.Operator.Dora;
using DoraOperator.Operator.Projects;
using Microsoft.Extensions.DependencyInjection;

namespace DoraOperator.Micro;

/// <summary>One watch event of a Deployment as a real API server sends it (with managedFields), decoded and made lean.</summary>
[MemoryDiagnoser]
public class WatchEventDecoding
{
    private byte[] _line = [];

    [GlobalSetup]
    public void Setup()
    {
        const string Deployment = """
            {"type":"MODIFIED","object":{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"checkout","namespace":"shop","uid":"5b1f0f4e-2a8e-4c1e-9d1f-1f2d3e4c5b6a",
             "resourceVersion":"123456","generation":7,"creationTimestamp":"2026-11-01T09:00:00Z","labels":{"app":"checkout","app.kubernetes.io/part-of":"shop","team":"payments"},
             "annotations":{"deployment.kubernetes.io/revision":"7","dora-operator.io/project":"shop","kubectl.kubernetes.io/last-applied-configuration":"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"annotations\":{},\"name\":\"checkout\"}}"},
             "managedFields":[{"manager":"kubectl-client-side-apply","operation":"Update","apiVersion":"apps/v1","time":"2026-11-20T09:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:annotations":{".":{},"f:kubectl.kubernetes.io/last-applied-configuration":{}},"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"checkout\"}":{".":{},"f:image":{},"f:name":{}}}}}}}},
              {"manager":"kube-controller-manager","operation":"Update","apiVersion":"apps/v1","time":"2026-11-20T09:01:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:availableReplicas":{},"f:conditions":{},"f:observedGeneration":{},"f:readyReplicas":{},"f:replicas":{},"f:updatedReplicas":{}}},"subresource":"status"}]},
             "spec":{"replicas":3,"selector":{"matchLabels":{"app":"checkout"}},"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}},"revisionHistoryLimit":10,"progressDeadlineSeconds":600,
              "template":{"metadata":{"labels":{"app":"checkout"},"annotations":{"dora-operator.io/commit-sha":"4f2a9c1d","dora-operator.io/commit-time":"2026-11-20T08:30:00Z"}},
               "spec":{"containers":[{"name":"checkout","image":"registry.example/checkout:1.42.0","ports":[{"containerPort":8080,"protocol":"TCP"}],"env":[{"name":"MODE","value":"production"}],
                "resources":{"requests":{"cpu":"100m","memory":"128Mi"},"limits":{"memory":"256Mi"}},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],
                "restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}}},
             "status":{"observedGeneration":7,"replicas":3,"updatedReplicas":3,"readyReplicas":3,"availableReplicas":3,
              "conditions":[{"type":"Available","status":"True","lastUpdateTime":"2026-11-20T09:01:00Z","lastTransitionTime":"2026-11-01T09:01:00Z","reason":"MinimumReplicasAvailable","message":"Deployment has minimum availability."},
               {"type":"Progressing","status":"True","lastUpdateTime":"2026-11-20T09:01:00Z","lastTransitionTime":"2026-11-01T09:00:00Z","reason":"NewReplicaSetAvailable","message":"ReplicaSet \"checkout-7d9f8c6b5\" has successfully progressed."}]}}}
            """;
        _line = Encoding.UTF8.GetBytes(Deployment.ReplaceLineEndings(""));
        const string ReplicaSet = """
            {"type":"MODIFIED","object":{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"checkout-7d9f8c6b5","namespace":"shop","uid":"7c2e1a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b",
             "resourceVersion":"123470","generation":3,"creationTimestamp":"2026-11-20T09:00:00Z","labels":{"app":"checkout","pod-template-hash":"7d9f8c6b5"},
             "annotations":{"deployment.kubernetes.io/desired-replicas":"3","deployment.kubernetes.io/max-replicas":"4","deployment.kubernetes.io/revision":"7","dora-operator.io/project":"shop"},
             "ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"checkout","uid":"5b1f0f4e-2a8e-4c1e-9d1f-1f2d3e4c5b6a","controller":true,"blockOwnerDeletion":true}],
             "managedFields":[{"manager":"kube-controller-manager","operation":"Update","apiVersion":"apps/v1","time":"2026-11-20T09:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:annotations":{".":{},"f:deployment.kubernetes.io/desired-replicas":{},"f:deployment.kubernetes.io/max-replicas":{},"f:deployment.kubernetes.io/revision":{}},"f:labels":{".":{},"f:app":{},"f:pod-template-hash":{}},"f:ownerReferences":{".":{},"k:{\"uid\":\"5b1f0f4e\"}":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{},"f:pod-template-hash":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"checkout\"}":{".":{},"f:image":{},"f:name":{}}}}}}}},
              {"manager":"kube-controller-manager","operation":"Update","apiVersion":"apps/v1","time":"2026-11-20T09:01:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:availableReplicas":{},"f:fullyLabeledReplicas":{},"f:observedGeneration":{},"f:readyReplicas":{},"f:replicas":{}}},"subresource":"status"}]},
             "spec":{"replicas":3,"selector":{"matchLabels":{"app":"checkout","pod-template-hash":"7d9f8c6b5"}},
              "template":{"metadata":{"labels":{"app":"checkout","pod-template-hash":"7d9f8c6b5"},"annotations":{"dora-operator.io/commit-sha":"4f2a9c1d","dora-operator.io/commit-time":"2026-11-20T08:30:00Z"}},
               "spec":{"containers":[{"name":"checkout","image":"registry.example/checkout:1.42.0","ports":[{"containerPort":8080,"protocol":"TCP"}],"env":[{"name":"MODE","value":"production"}],
                "resources":{"requests":{"cpu":"100m","memory":"128Mi"},"limits":{"memory":"256Mi"}},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],
                "restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}}},
             "status":{"replicas":3,"fullyLabeledReplicas":3,"readyReplicas":3,"availableReplicas":3,"observedGeneration":3}}}
            """;
        _replicaSetLine = Encoding.UTF8.GetBytes(ReplicaSet.ReplaceLineEndings(""));
        _replicaSet = Workloads.Lean(KubeApiClient.DecodeEvent(_replicaSetLine, DoraOperator.Entities.BuiltIn.ReplicaSet.JsonType).Object!);
        _template = KubeApiClient.DecodeEvent(_replicaSetLine, DoraOperator.Entities.BuiltIn.ReplicaSet.JsonType).Object!.Spec!.Template!;
    }

    private PodTemplateSpec _template = null!;

    /// <summary>The pod template digest each ReplicaSet event computes.</summary>
    [Benchmark]
    public TemplateFingerprint Fingerprint() => Workloads.Fingerprint(_template);

    private byte[] _replicaSetLine = [];
    private LeanReplicaSet _replicaSet = null!;

    [Benchmark]
    public Deployment DecodeAndLean() => Workloads.Lean(KubeApiClient.DecodeEvent(_line, Deployment.JsonType).Object!);

    [Benchmark]
    public ReplicaSet DecodeReplicaSet() => KubeApiClient.DecodeEvent(_replicaSetLine, DoraOperator.Entities.BuiltIn.ReplicaSet.JsonType).Object!;

    [Benchmark]
    public LeanReplicaSet DecodeAndLeanReplicaSet() => Workloads.Lean(KubeApiClient.DecodeEvent(_replicaSetLine, DoraOperator.Entities.BuiltIn.ReplicaSet.JsonType).Object!);

    [Benchmark]
    public ReplicaSet DecodeReplicaSetSkippingMetadataUnknowns() => KubeApiClient.DecodeEvent(_replicaSetLine, UnknownFieldsContract<ReplicaSet>.For(UnknownFields.SkipInMetadata)).Object!;

    [Benchmark]
    public LeanReplicaSet DecodeAndLeanReplicaSetSkippingMetadataUnknowns() => Workloads.Lean(KubeApiClient.DecodeEvent(_replicaSetLine, UnknownFieldsContract<ReplicaSet>.For(UnknownFields.SkipInMetadata)).Object!);

    [Benchmark]
    public Deployment DecodeAndLeanSkippingUnknowns() => Workloads.Lean(KubeApiClient.DecodeEvent(_line, UnknownFieldsContract<Deployment>.For(UnknownFields.Skip)).Object!);

    [Benchmark]
    public bool SameRevision() => Workloads.SameRevision(_replicaSet, _replicaSet);
}

/// <summary>The aggregator's work per event: recomputing one project with 100 records and 4 incidents in its window.</summary>
[MemoryDiagnoser]
public class AggregatorUpdate
{
    private DoraInput _input = null!;

    [GlobalSetup]
    public void Setup()
    {
        var end = new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero);
        var random = new Random(11);
        var records = Enumerable.Range(0, 100).Select(i =>
        {
            var deployed = end.AddSeconds(-random.Next(0, 30 * 86400));
            var phase = i % 17 == 0 ? "Failed" : i % 23 == 0 ? "RolledBack" : "Succeeded";
            return new DeploymentRecord
            {
                Metadata = new ObjectMeta { Name = $"w{i % 5}-{i}", Namespace = "bench" },
                Spec = new DeploymentRecordSpec { Project = "p", Workload = new WorkloadReference { Name = $"w{i % 5}" }, Revision = i + 1, CommitTime = deployed.AddHours(-random.Next(1, 48)), Environment = "production" },
                Status = new DeploymentRecordStatus { Phase = phase, DeployedAt = phase == "Failed" ? null : deployed, FailedAt = phase == "Succeeded" ? null : deployed.AddMinutes(5), LeadTimeSeconds = phase == "Succeeded" ? 3600 : null },
            };
        }).ToList();
        var incidents = records.Where((_, i) => i % 25 == 0).Select((r, i) => new Incident
        {
            Metadata = new ObjectMeta { Name = $"inc-{i}", Namespace = "bench" },
            Spec = new IncidentSpec { Project = "p", StartedAt = (r.Status!.DeployedAt ?? end).AddMinutes(10), RestoredAt = (r.Status.DeployedAt ?? end).AddMinutes(70) },
            Status = new IncidentStatus { LinkedDeployment = r.Metadata.Name },
        }).ToList();
        _input = new DoraInput(records, incidents, "production", end.AddDays(-30), end, Benchmark.Dora2023);
    }

    [Benchmark]
    public object Recompute() => DoraCalculator.Compute(_input);
}

/// <summary>/metrics for 100 projects with every DORA family populated: collection and text.</summary>
[MemoryDiagnoser]
public class MetricsRendering
{
    private ServiceProvider _services = null!;
    private MetricsPipeline _pipeline = null!;

    [GlobalSetup]
    public void Setup()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new OperatorMetrics(_services.GetRequiredService<IMeterFactory>());
        var reports = new List<(DoraProject, DoraReport)>();
        metrics.Observe(() => [("rollouts", 0)], () => [("deployments", 0, 0L)], () => true, () => reports);
        _pipeline = new MetricsPipeline(new MetricsExportOptions(), () => true);
        for (var p = 0; p < 100; p++)
        {
            var project = new DoraProject { Metadata = new ObjectMeta { Name = $"project-{p}", Namespace = "team" }, Spec = new DoraProjectSpec { Team = "t" } };
            var tags = OperatorMetrics.Tags(project);
            metrics.Deployments.Add(10, [.. tags, new("outcome", "succeeded")]);
            for (var i = 0; i < 10; i++) metrics.LeadTime.Record(3600 * (i + 1), tags);
            reports.Add((project, new DoraReport
            {
                WindowStart = DateTimeOffset.UnixEpoch, WindowEnd = DateTimeOffset.UnixEpoch, Benchmark = "dora-2023",
                DeploymentFrequency = new FrequencyMetric { PerDay = 1, Count = 30, Tier = "elite" }, LeadTime = new DurationMetric { MedianSeconds = 3600, Tier = "elite" },
                ChangeFailureRate = new RatioMetric { Ratio = 0.1, Tier = "high" }, RecoveryTime = new DurationMetric { Tier = "unknown" }, ReworkRate = new RatioMetric { Ratio = 0 },
                DeploymentDuration = new DurationMetric(), TimeToDetect = new DurationMetric(), Tier = "high", OpenIncidents = 0, FailedChanges = [],
                Samples = new DoraSamples
                {
                    WindowStart = DateTimeOffset.UnixEpoch, WindowEnd = DateTimeOffset.UnixEpoch, DeploymentsPerDay = 1, Deployments = 30, Changes = 33, Rework = 0,
                    LeadTimes = [.. Enumerable.Range(1, 30).Select(i => 600.0 * i)], Durations = [], DetectTimes = [], FailedChanges = [], OpenIncidents = 0,
                },
            }));
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _pipeline.Dispose();
        _services.Dispose();
    }

    [Benchmark]
    public byte[] Scrape() => _pipeline.Exposition.ScrapeUtf8(openMetrics: false);
}
