using System.Text.Json.Nodes;
using DoraOperator.Operator.Hosting;
using DoraOperator.Sandbox;
using DoraOperator.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace DoraOperator.Operator.Tests.Rollouts;

/// <summary>The operator in-process against the Sandbox and its simulated Deployment controller, driven with kubectl.</summary>
public sealed class RolloutTrackerTests : IAsyncLifetime
{
    private OperatorOnSandbox _env = null!;
    private string _kubeconfig = null!;
    private SandboxApiServer _server = null!;
    private Kubectl _kubectl = null!;
    private OperatorHost _operator = null!;

    public async Task InitializeAsync()
    {
        _env = await OperatorOnSandbox.StartAsync();
        (_kubeconfig, _server, _kubectl) = (_env.KubeconfigPath, _env.Server, _env.Kubectl);
        await _kubectl.OkAsync("apply -f -", OperatorOnSandbox.ShopProject);
        _operator = await _env.StartOperatorAsync();
    }

    public async Task DisposeAsync()
    {
        await _operator.DisposeAsync();
        await _env.DisposeAsync();
    }

    private Task<JsonObject> Record(string name, Func<JsonObject, bool> ready, string what) => Records.WaitAsync(_kubectl, name, ready, what);

    private static string? Phase(JsonObject r) => Records.Phase(r);

    /// <summary>Creates Deployment "web" with kubectl and labels it so the "shop" project selects it.</summary>
    private async Task CreateTrackedWebAsync(int replicas = 1, bool manualPace = false)
    {
        if (manualPace) _server.Deployments!.SetPace("shop", "web", DoraOperator.Sandbox.Controllers.RolloutPace.Manual);
        await _kubectl.OkAsync($"create deployment web --image=web:1 --replicas={replicas}");
        await _kubectl.OkAsync("label deployment web team=shop");
    }

    private async Task Release(string image, string sha, string commitTime)
    {
        var patch = """{"spec":{"template":{"metadata":{"annotations":{"dora-operator.io/commit-sha":"SHA","dora-operator.io/commit-time":"TIME"}},"spec":{"containers":[{"name":"web","image":"IMAGE"}]}}}}"""
            .Replace("SHA", sha, StringComparison.Ordinal).Replace("TIME", commitTime, StringComparison.Ordinal).Replace("IMAGE", image, StringComparison.Ordinal);
        await _kubectl.OkAsync($"patch deployment web --type strategic -p '{patch}'");
        await _kubectl.OkAsync("rollout status deployment/web --timeout=30s");
    }

    private int RecordWrites() => _server.Audit.Where(a => a.Key.Resource == "deploymentrecords" && a.Key.Verb is "create" or "update" or "patch").Sum(a => a.Value);

    [Fact]
    public async Task ReleasesRollbacksRestartsAndScaling_ProduceExactlyTheRecordsOfDesignMd()
    {
        await _kubectl.OkAsync("apply -f -", """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
              labels: {team: shop}
            spec:
              replicas: 2
              selector: {matchLabels: {app: web}}
              template:
                metadata:
                  labels: {app: web}
                  annotations:
                    dora-operator.io/commit-sha: aaa111
                    dora-operator.io/commit-time: "2020-01-01T00:00:00Z"
                spec:
                  containers: [{name: web, image: "web:1"}]
            """);
        await _kubectl.OkAsync("rollout status deployment/web --timeout=30s");
        var first = await Record("web-1", r => Phase(r) == "Succeeded", "web-1 to succeed");
        Assert.Equal("shop", (string?)first["spec"]!["project"]);
        Assert.Equal("aaa111", (string?)first["spec"]!["commitSha"]);
        Assert.Equal("web:1", (string?)first["spec"]!["image"]);
        Assert.True((double)first["status"]!["leadTimeSeconds"]! > 0);
        Assert.Equal("DoraProject", (string?)first["metadata"]!["ownerReferences"]![0]!["kind"]);
        var rs = JsonNode.Parse(await _kubectl.OkAsync("get rs -o json"))!["items"]![0]!;
        Assert.Equal((string?)rs["metadata"]!["creationTimestamp"], (string?)first["status"]!["startedAt"]);

        await Release("web:2", "bbb222", "2020-01-02T00:00:00Z");
        var second = await Record("web-2", r => Phase(r) == "Succeeded", "web-2 to succeed");
        Assert.Equal("bbb222", (string?)second["spec"]!["commitSha"]);

        await _kubectl.OkAsync("rollout undo deployment/web");
        await _kubectl.OkAsync("rollout status deployment/web --timeout=30s");
        var rollback = await Record("web-3", r => Phase(r) == "Succeeded", "the rollback to complete");
        Assert.Equal("web-2", (string?)rollback["status"]!["rollbackOf"]);
        var rolledBack = await Record("web-2", r => Phase(r) == "RolledBack", "web-2 to be marked rolled back");
        Assert.Equal("web-3", (string?)rolledBack["status"]!["rolledBackBy"]);

        await _kubectl.OkAsync("rollout restart deployment/web");
        await _kubectl.OkAsync("rollout status deployment/web --timeout=30s");
        var restart = await Record("web-4", r => Phase(r) == "Restart", "the restart to be recognised");
        Assert.Null(restart["status"]!["leadTimeSeconds"]);

        await _kubectl.OkAsync("scale deployment web --replicas=3");
        await _kubectl.OkAsync("rollout status deployment/web --timeout=30s");
        var table = await _kubectl.OkAsync("get dr");
        Assert.Equal(5, table.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Matches(@"(?m)^web-2\s+shop\s+web\s+2\s+RolledBack", table);

        var writes = RecordWrites();
        await _operator.Tracker.ReconcileAsync(new("shop", "web"), CancellationToken.None);
        Assert.Equal(writes, RecordWrites());
    }

    [Fact]
    public async Task TwoReplicas_WithLeaderElection_OneWrites_AndTheOtherTakesOver()
    {
        await _operator.DisposeAsync();
        OperatorOptions Replica() => new()
        {
            Kubeconfig = _kubeconfig, LeaderElect = true, HttpPort = 0, Intake = new() { Port = 0 }, HttpAddress = "127.0.0.1", LeaseNamespace = "shop",
            LeaseDuration = TimeSpan.FromSeconds(2), RenewDeadline = TimeSpan.FromSeconds(1.5), RetryPeriod = TimeSpan.FromMilliseconds(200),
        };
        var a = await OperatorHost.StartAsync(Replica(), NullLoggerFactory.Instance);
        var b = await OperatorHost.StartAsync(Replica(), NullLoggerFactory.Instance);
        try
        {
            await Eventually.True(() => a.Elector!.IsLeader || b.Elector!.IsLeader, "a leader");
            // The Lease names one holder, and it is the one replica that believes it leads.
            var holder = await Eventually.Until(async () => (await _kubectl.RunAsync("get lease dora-operator -o jsonpath={.spec.holderIdentity}")).Stdout,
                h => h.Length > 0 && (a.Elector!.IsLeader ? a : b).Elector!.Identity == h, "the lease to name the leader");
            Assert.True(a.Elector!.IsLeader ^ b.Elector!.IsLeader, "exactly one replica leads");
            var (leader, follower) = a.Elector.IsLeader ? (a, b) : (b, a);
            Assert.True(follower.Ready, "the follower keeps warm caches");

            await CreateTrackedWebAsync();
            await Record("web-1", r => Phase(r) == "Succeeded", "the leader to record web-1");
            Assert.Equal(1, _server.Audit.Where(x => x.Key.Resource == "deploymentrecords" && x.Key.Verb == "create").Sum(x => x.Value));

            await leader.DisposeAsync();
            await Eventually.True(() => follower.Elector!.IsLeader, "the follower to take over");
            await _kubectl.OkAsync("set image deployment/web web=web:2");
            await Record("web-2", r => Phase(r) == "Succeeded", "the new leader to record web-2");
            Assert.Equal(2, _server.Audit.Where(x => x.Key.Resource == "deploymentrecords" && x.Key.Verb == "create").Sum(x => x.Value));
        }
        finally
        {
            await a.DisposeAsync();
            await b.DisposeAsync();
            _operator = await OperatorHost.StartAsync(_env.Options, NullLoggerFactory.Instance);
        }
    }

    [Fact]
    public async Task FaultsOnRecordWrites_LoseNothing_AndDoubleNothing()
    {
        _server.Faults.Add(new DoraOperator.Sandbox.Faults.FaultRule { Verb = "create", Resource = "deploymentrecords", Code = 500, Times = 4 });
        _server.Faults.Add(new DoraOperator.Sandbox.Faults.FaultRule { Verb = "patch", Resource = "deploymentrecords", Subresource = "status", Code = 409, Times = 2 });
        _server.Faults.Add(new DoraOperator.Sandbox.Faults.FaultRule { Verb = "patch", Resource = "deploymentrecords", Subresource = "status", Code = 429, RetryAfterSeconds = 0, Times = 2 });
        await CreateTrackedWebAsync();
        await Record("web-1", r => Phase(r) == "Succeeded", "web-1 to be recorded despite the faults");
        _server.Faults.CutWatches();
        await _kubectl.OkAsync("set image deployment/web web=web:2");
        await Record("web-2", r => Phase(r) == "Succeeded", "web-2 after a cut watch");
        Assert.Equal(8, _server.Faults.Fired);
        Assert.Equal(2, (await _kubectl.OkAsync("get dr -o name")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        var successfulCreates = _server.Audit.Where(x => x.Key.Resource == "deploymentrecords" && x.Key.Verb == "create").Sum(x => x.Value) - 4;
        Assert.Equal(2, successfulCreates);
    }

    [Fact]
    public async Task AnOperatorRestartMidRollout_RecordsTheOutcomeWithTheObjectsTimes()
    {
        await CreateTrackedWebAsync(replicas: 2, manualPace: true);
        await Record("web-1", r => Phase(r) == "Progressing", "web-1 in progress");
        await _operator.DisposeAsync();

        _server.Deployments!.Complete("shop", "web");
        await _kubectl.OkAsync("rollout status deployment/web --timeout=30s");
        var deployment = JsonNode.Parse(await _kubectl.OkAsync("get deployment web -o json"))!;
        var completedAt = (string?)deployment["status"]!["conditions"]!.AsArray().Single(c => (string?)c!["type"] == "Progressing")!["lastUpdateTime"];
        // Restart only once the clock has left the completion's second, so a record stamped with the observed time would differ.
        var completed = DateTimeOffset.Parse(completedAt!, System.Globalization.CultureInfo.InvariantCulture);
        await Eventually.True(() => DateTimeOffset.UtcNow >= completed.AddSeconds(1), "the clock to pass the completion second");

        _operator = await OperatorHost.StartAsync(_env.Options, NullLoggerFactory.Instance);
        var done = await Record("web-1", r => Phase(r) == "Succeeded", "web-1 to be completed by the restarted operator");
        Assert.Equal(completedAt, (string?)done["status"]!["deployedAt"]);
        Assert.Equal(1, _server.Audit.Where(x => x.Key.Resource == "deploymentrecords" && x.Key.Verb == "create").Sum(x => x.Value));
    }

    [Fact]
    public async Task RevisionsThatCameAndWentWhileTheOperatorWasDown_AreRecordedAsUnobserved()
    {
        await CreateTrackedWebAsync();
        await Record("web-1", r => Phase(r) == "Succeeded", "web-1");
        await _operator.DisposeAsync();

        foreach (var image in new[] { "web:2", "web:3" })
        {
            await _kubectl.OkAsync($"set image deployment/web web={image}");
            await _kubectl.OkAsync("rollout status deployment/web --timeout=30s");
        }
        var rs2 = JsonNode.Parse(await _kubectl.OkAsync("get rs -o json"))!["items"]!.AsArray()
            .Single(rs => (string?)rs!["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"] == "2")!;

        _operator = await OperatorHost.StartAsync(_env.Options, NullLoggerFactory.Instance);
        var missed = await Record("web-2", r => Phase(r) == "Superseded", "web-2 recorded as unobserved");
        Assert.Equal((string?)rs2["metadata"]!["creationTimestamp"], (string?)missed["status"]!["startedAt"]);
        Assert.Contains("replaced by revision 3 before the operator recorded it", (string?)missed["status"]!["reason"]);
        Assert.Equal("web:2", (string?)missed["spec"]!["image"]);
        await Record("web-3", r => Phase(r) == "Succeeded", "web-3");
        Assert.Equal(3, _server.Audit.Where(x => x.Key.Resource == "deploymentrecords" && x.Key.Verb == "create").Sum(x => x.Value));
    }

    [Fact]
    public async Task HistoryFromBeforeTheOperator_IsBackfilledOnce_WithTheReplicaSetsTimes()
    {
        await _operator.DisposeAsync();
        await _kubectl.OkAsync("create deployment web --image=web:0");
        await _kubectl.OkAsync("rollout status deployment/web --timeout=30s");
        for (var i = 1; i <= 5; i++) await Release($"web:{i}", $"sha{i}", $"2026-11-{i:00}T10:00:00Z");
        await _kubectl.OkAsync("label deployment web team=shop");
        var sets = JsonNode.Parse(await _kubectl.OkAsync("get rs -o json"))!["items"]!.AsArray()
            .ToDictionary(rs => (string)rs!["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"]!, rs => (string)rs!["metadata"]!["creationTimestamp"]!);

        _operator = await OperatorHost.StartAsync(_env.Options, NullLoggerFactory.Instance);
        await Record("web-6", r => Phase(r) == "Succeeded", "the current revision");
        var records = JsonNode.Parse(await _kubectl.OkAsync("get dr -o json"))!["items"]!.AsArray().Select(r => r!.AsObject()).ToList();
        Assert.Equal(6, records.Count);
        foreach (var revision in Enumerable.Range(1, 5))
        {
            var record = records.Single(r => (string?)r["metadata"]!["name"] == $"web-{revision}");
            var backfilled = record["status"]!["conditions"]!.AsArray().Single(c => (string?)c!["type"] == "Backfilled")!;
            Assert.Equal("True", (string?)backfilled["status"]);
            Assert.Equal(sets[$"{revision}"], (string?)record["status"]!["startedAt"]);
            Assert.Equal("Succeeded", Phase(record));
        }
        var fifth = records.Single(r => (string?)r["metadata"]!["name"] == "web-5");
        Assert.Equal("sha4", (string?)fifth["spec"]!["commitSha"]);
        Assert.Equal("web:4", (string?)fifth["spec"]!["image"]);
        var creates = _server.Audit.Where(x => x.Key.Resource == "deploymentrecords" && x.Key.Verb == "create").Sum(x => x.Value);
        Assert.Equal(6, creates);

        await _operator.DisposeAsync();
        _operator = await OperatorHost.StartAsync(_env.Options, NullLoggerFactory.Instance);
        await Eventually.True(() => _operator.Ready, "the restarted operator to be ready");
        await Task.Delay(500);
        Assert.Equal(creates, _server.Audit.Where(x => x.Key.Resource == "deploymentrecords" && x.Key.Verb == "create").Sum(x => x.Value));
    }

    [Fact]
    public async Task BackfillFalse_StartsFromTheCurrentRevision()
    {
        await _operator.DisposeAsync();
        await _kubectl.OkAsync("apply -f -", "apiVersion: dora-operator.io/v1alpha1\nkind: DoraProject\nmetadata:\n  name: shop\nspec:\n  backfill: false\n  selector:\n    matchLabels:\n      team: shop\n");
        await _kubectl.OkAsync("create deployment web --image=web:0");
        for (var i = 1; i <= 2; i++) await Release($"web:{i}", $"sha{i}", $"2026-11-{i:00}T10:00:00Z");
        await _kubectl.OkAsync("label deployment web team=shop");
        _operator = await OperatorHost.StartAsync(_env.Options, NullLoggerFactory.Instance);
        await Record("web-3", r => Phase(r) == "Succeeded", "the current revision");
        await Task.Delay(300);
        Assert.Equal("deploymentrecord.dora-operator.io/web-3", (await _kubectl.OkAsync("get dr -o name")).Trim());
    }

    [Fact]
    public async Task TwoProjectsSelectingOneDeployment_TheOlderWins_AndTheOverlapIsAWarning()
    {
        await _kubectl.OkAsync("apply -f -", "apiVersion: dora-operator.io/v1alpha1\nkind: DoraProject\nmetadata:\n  name: younger\nspec:\n  selector:\n    matchExpressions: [{key: team, operator: Exists}]\n");
        await CreateTrackedWebAsync();
        var record = await Record("web-1", r => Phase(r) == "Succeeded", "web-1");
        Assert.Equal("shop", (string?)record["spec"]!["project"]);
        var events = await Eventually.Until(() => _kubectl.OkAsync("get events.events.k8s.io -o json"),
            e => e.Contains("SelectorOverlap", StringComparison.Ordinal), "a SelectorOverlap warning");
        Assert.Contains("shop, younger all select Deployment shop/web", events);
        var younger = await _kubectl.WaitForAsync("dora younger", p => (string?)p["status"]?["conditions"]?[0]?["reason"] == "SelectorOverlap", "SelectorOverlap on the younger project");
        Assert.Equal("False", (string?)younger["status"]!["conditions"]![0]!["status"]);
        Assert.Contains("web (recorded by shop)", (string?)younger["status"]!["conditions"]![0]!["message"]);
        await _kubectl.WaitForAsync("dora shop", p => (string?)p["status"]?["conditions"]?[0]?["reason"] == "Calculated", "the older project to be Ready");
    }

    [Fact]
    public async Task Retention_DeletesTheOldestFinishedRecordsBeyondMaxRecords()
    {
        await _kubectl.OkAsync("""patch doraproject shop --type merge -p '{"spec":{"retention":{"maxRecords":2}}}'""");
        await CreateTrackedWebAsync();
        await Record("web-1", r => Phase(r) == "Succeeded", "web-1");
        foreach (var image in new[] { "web:2", "web:3" })
        {
            await _kubectl.OkAsync($"set image deployment/web web={image}");
            await _kubectl.OkAsync("rollout status deployment/web --timeout=30s");
        }
        await Record("web-3", r => Phase(r) == "Succeeded", "web-3");
        var tracker = _operator.Tracker;
        await Eventually.True(() => _operator.Cache.Projects.Get("shop", "shop")?.Spec.Retention?.MaxRecords == 2 && _operator.Cache.Records.Count == 3, "the caches to see the policy and three records");
        Assert.InRange(await tracker.EnforceRetentionAsync(CancellationToken.None), 0, 1);
        var names = await Eventually.Until(() => _kubectl.OkAsync("get dr -o name"), o => !o.Contains("web-1", StringComparison.Ordinal), "web-1 to be deleted");
        Assert.Equal(["deploymentrecord.dora-operator.io/web-2", "deploymentrecord.dora-operator.io/web-3"], names.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());
        await Eventually.True(() => _operator.Cache.Records.Count == 2, "the cache to catch up");
        Assert.Equal(0, await tracker.EnforceRetentionAsync(CancellationToken.None));
    }

    [Fact]
    public async Task ManyRecordsWrittenAtOnce_LeaveNoExpectationBehind_WhenTheWatchOutrunsTheResponses()
    {
        // Each record's create and status write set an expectation that its watch event clears; the
        // event often arrives before the write's response. Twenty Deployments created in one apply.
        var yaml = string.Join("---\n", Enumerable.Range(1, 20).Select(i => $$$"""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: app{{{i}}}, labels: {team: shop}}
            spec:
              selector: {matchLabels: {app: app{{{i}}}}}
              template:
                metadata: {labels: {app: app{{{i}}}}}
                spec: {containers: [{name: app, image: "app:1"}]}

            """));
        await _kubectl.OkAsync("apply -f -", yaml);
        await Eventually.True(() => _operator.Cache.Records.List("shop").Count(r => r.Status?.Phase == "Succeeded") == 20, "twenty records to succeed", TimeSpan.FromSeconds(60));
        await Eventually.True(() => _operator.Tracker.PendingExpectations == 0, "every expectation to be cleared by its watch event");
        // And no write was wasted: one create and one status write per record, none refused for a
        // version the cache had already moved past.
        Assert.True(RecordWrites() == 40, "record writes: " + string.Join("; ", _server.Audit.Where(a => a.Key.Resource == "deploymentrecords").Select(a => $"{a.Key.Verb} {a.Key.Subresource} x{a.Value}")));
    }

    [Fact]
    public async Task ARolloutSeenInProgress_CostsTwoWrites_AndShowsProgressingFromTheCrdDefault()
    {
        var before = RecordWrites();
        await CreateTrackedWebAsync(replicas: 2, manualPace: true);
        var progressing = await Record("web-1", r => r.ContainsKey("metadata"), "web-1 to be created");
        Assert.Equal("Progressing", Phase(progressing));
        Assert.Null(progressing["status"]!["startedAt"]);
        Assert.Matches(@"(?m)^web-1\s+shop\s+web\s+1\s+Progressing", await _kubectl.OkAsync("get dr"));
        // Reconciles while the rollout progresses write nothing.
        await _operator.Tracker.ReconcileAsync(new("shop", "web"), CancellationToken.None);
        Assert.Equal(before + 1, RecordWrites());

        _server.Deployments!.Complete("shop", "web");
        var done = await Record("web-1", r => Phase(r) == "Succeeded", "web-1 to succeed");
        var rs = JsonNode.Parse(await _kubectl.OkAsync("get rs -o json"))!["items"]![0]!;
        Assert.Equal((string?)rs["metadata"]!["creationTimestamp"], (string?)done["status"]!["startedAt"]);
        Assert.Equal(before + 2, RecordWrites());

        // A rollback reuses a ReplicaSet, which carries no start time: the record's creation is the start.
        await _kubectl.OkAsync("set image deployment/web web=web:2");
        await Record("web-2", r => Phase(r) == "Progressing", "web-2 to start");
        _server.Deployments.Complete("shop", "web");
        await Record("web-2", r => Phase(r) == "Succeeded", "web-2 to succeed");
        await _kubectl.OkAsync("rollout undo deployment/web");
        var rollback = await Record("web-3", r => r.ContainsKey("metadata"), "the rollback's record");
        Assert.Equal("Progressing", Phase(rollback));
        var created = DateTimeOffset.Parse((string)rollback["metadata"]!["creationTimestamp"]!, System.Globalization.CultureInfo.InvariantCulture);
        await Eventually.True(() => DateTimeOffset.UtcNow >= created.AddSeconds(1), "the clock to pass the record's creation second");
        _server.Deployments.Complete("shop", "web");
        rollback = await Record("web-3", r => Phase(r) == "Succeeded", "the rollback to complete");
        Assert.Equal((string?)rollback["metadata"]!["creationTimestamp"], (string?)rollback["status"]!["startedAt"]);
        Assert.True(DateTimeOffset.Parse((string)rollback["status"]!["deployedAt"]!, System.Globalization.CultureInfo.InvariantCulture)
            > DateTimeOffset.Parse((string)rollback["status"]!["startedAt"]!, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task ANewRevisionDuringARollout_SupersedesIt_AndPausedRolloutsWaitUntilResumed()
    {
        await CreateTrackedWebAsync(replicas: 2, manualPace: true);
        await Record("web-1", r => Phase(r) == "Progressing", "web-1 in progress");
        await _kubectl.OkAsync("set image deployment/web web=web:2");
        var superseded = await Record("web-1", r => Phase(r) == "Superseded", "web-1 to be superseded");
        Assert.Contains("revision 2", (string?)superseded["status"]!["reason"]);
        _server.Deployments!.Complete("shop", "web");
        await Record("web-2", r => Phase(r) == "Succeeded", "web-2");

        await _kubectl.OkAsync("rollout pause deployment/web");
        var reconciles = _operator.Tracker.Reconciles;
        var generation = (long)JsonNode.Parse(await _kubectl.OkAsync("set image deployment/web web=web:3 -o json"))!["metadata"]!["generation"]!;
        // The tracker has seen the paused Deployment's new template and reconciled it: no revision, so no record.
        await Eventually.True(() => _operator.Cache.Deployments.Get("shop", "web")?.Metadata.Generation >= generation && _operator.Tracker.Reconciles > reconciles,
            "the tracker to reconcile the paused Deployment");
        Assert.NotEqual(0, (await _kubectl.RunAsync("get dr web-3")).ExitCode);
        await _kubectl.OkAsync("rollout resume deployment/web");
        // The resumed rollout has started once its record exists; completing it before would be a no-op.
        await Record("web-3", r => Phase(r) == "Progressing", "web-3 to start after resume");
        _server.Deployments.Complete("shop", "web");
        await Record("web-3", r => Phase(r) == "Succeeded", "web-3 after resume");
    }

    [Fact]
    public async Task AThousandDeploymentsRollingAtOnce_GetAThousandCorrectRecords()
    {
        const int count = 1000;
        using var client = new DoraOperator.Kube.Rest.KubeApiClient(DoraOperator.Kube.Config.KubeConfigLoader.Load(_kubeconfig), new DoraOperator.Kube.Rest.KubeClientOptions { Qps = 0 });
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
            await client.CreateAsync(new DoraOperator.Entities.BuiltIn.Deployment
            {
                Metadata = new() { Name = $"svc-{i:D4}", Namespace = "shop", Labels = new() { ["team"] = "shop" } },
                Spec = new DoraOperator.Entities.BuiltIn.DeploymentSpec
                {
                    Replicas = 1,
                    Selector = new() { MatchLabels = new() { ["app"] = $"svc-{i:D4}" } },
                    Template = new DoraOperator.Entities.BuiltIn.PodTemplateSpec
                    {
                        Metadata = new() { Labels = new() { ["app"] = $"svc-{i:D4}" }, Annotations = new() { ["dora-operator.io/commit-sha"] = $"sha{i}", ["dora-operator.io/commit-time"] = "2026-11-01T00:00:00Z" } },
                        Spec = new DoraOperator.Entities.BuiltIn.PodSpec { Containers = [new DoraOperator.Entities.BuiltIn.Container { Name = "app", Image = $"svc:{i}" }] },
                    },
                },
            }, ct));
        var tracker = _operator.Tracker;
        await Eventually.True(() => _operator.Cache.Records.List("shop").Count(r => r.Status?.Phase == "Succeeded") == count, "a thousand Succeeded records in the operator's cache", TimeSpan.FromSeconds(120));
        var records = await client.ListAsync<DoraOperator.Entities.Dora.DeploymentRecord>("shop");
        Assert.Equal(count, records.Items.Count(r => r.Status?.Phase == "Succeeded"));
        Assert.Equal(count, records.Items.Select(r => r.Metadata.Name).Distinct().Count());
        Assert.All(records.Items, r =>
        {
            Assert.Equal(1, r.Spec.Revision);
            Assert.Equal($"sha{r.Spec.Workload.Name[4..].TrimStart('0').DefaultIfEmpty('0').Aggregate("", (a, c) => a + c)}", r.Spec.CommitSha);
            Assert.True(r.Status!.LeadTimeSeconds > 0);
        });
        Assert.Equal(count, _server.Audit.Where(x => x.Key.Resource == "deploymentrecords" && x.Key.Verb == "create").Sum(x => x.Value));
    }

    [Fact]
    public async Task HealthAndReadiness_AreServed()
    {
        using var http = new HttpClient { BaseAddress = _operator.HttpUrl };
        Assert.Equal("ok", await http.GetStringAsync("/healthz"));
        Assert.Equal("ok", await http.GetStringAsync("/readyz"));
    }

    [Fact]
    public async Task ADeploymentDeletedMidRollout_LeavesItsRecordSuperseded()
    {
        await CreateTrackedWebAsync(manualPace: true);
        await Record("web-1", r => Phase(r) == "Progressing", "web-1 to be recorded as progressing");
        await _kubectl.OkAsync("delete deployment web");
        var gone = await Record("web-1", r => Phase(r) == "Superseded", "web-1 to be superseded");
        Assert.Contains("deleted", (string?)gone["status"]!["reason"]);
    }

    [Fact]
    public async Task FailedRollouts_AndMalformedCommitTimes_AreRecordedAsSuch()
    {
        await _kubectl.OkAsync("apply -f -", """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
              annotations: {dora-operator.io/project: shop}
            spec:
              selector: {matchLabels: {app: web}}
              template:
                metadata:
                  labels: {app: web}
                  annotations: {dora-operator.io/commit-time: "last tuesday"}
                spec:
                  containers: [{name: web, image: "web:1"}]
            """);
        var first = await Record("web-1", r => Phase(r) == "Succeeded", "web-1 to succeed");
        Assert.Null(first["status"]!["leadTimeSeconds"]);
        Assert.Equal("CommitTimeInvalid", (string?)first["status"]!["conditions"]![0]!["type"]);
        var events = await Eventually.Until(() => _kubectl.OkAsync("get events.events.k8s.io -o json"),
            e => e.Contains("CommitTimeInvalid", StringComparison.Ordinal), "a Warning event about the commit time");
        Assert.Contains("last tuesday", events);

        _server.Deployments!.FailNextRollout("shop", "web");
        await _kubectl.OkAsync("set image deployment/web web=web:broken");
        var failed = await Record("web-2", r => Phase(r) == "Failed", "web-2 to fail");
        Assert.Contains("ProgressDeadlineExceeded", (string?)failed["status"]!["reason"]);
    }

    [Fact]
    public async Task WatchingTwoNamespaces_OpensOneWatchPerKindAndNamespace_AndRunsOneControllerEach()
    {
        await _operator.DisposeAsync();
        await Eventually.True(() => _server.OpenWatches == 0, "the single-scope operator's watches to close");
        await _kubectl.OkAsync("create namespace team-a");
        await _kubectl.OkAsync("create namespace team-b");
        _operator = await _env.StartOperatorAsync(_env.Options with { Namespaces = ["team-a", "team-b"] });
        // Deployments, ReplicaSets, StatefulSets, DaemonSets, ControllerRevisions, DoraProjects,
        // DeploymentRecords and Incidents, in each of the two namespaces.
        Assert.Equal(16, _operator.Cache.Watches);
        await Eventually.True(() => _server.OpenWatches == 16, $"sixteen open watches on the server (now {_server.OpenWatches})");
        using var a = new Kubectl(_kubeconfig, "team-a");
        await a.OkAsync("apply -f -", "apiVersion: dora-operator.io/v1alpha1\nkind: DoraProject\nmetadata: {name: a}\nspec: {selector: {matchLabels: {team: a}}}\n");
        await a.OkAsync("create deployment api --image=api:1");
        await a.OkAsync("label deployment api team=a");
        await a.WaitForAsync("dr api-1", r => (string?)r["status"]?["phase"] == "Succeeded", "one tracker to record in team-a");
        Assert.Null(_operator.Cache.Projects.Get("shop", "shop"));
    }
}
