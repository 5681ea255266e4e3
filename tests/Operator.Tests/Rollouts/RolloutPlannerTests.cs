using DoraOperator.Entities.Vocabulary;
using System.Text.Json;
using DoraOperator.Entities.BuiltIn;
using DoraOperator.Entities.Dora;
using DoraOperator.Kube.Meta;
using DoraOperator.Operator.Rollouts;

namespace DoraOperator.Operator.Tests.Rollouts;

/// <summary>The rollout semantics of DESIGN.md, one scenario per test, on hand-built cluster states.</summary>
public sealed class RolloutPlannerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Now = T0.AddHours(6);

    private static Deployment Dep(long revision, long generation = 1, long observed = 1, int replicas = 2, int updated = 2, int available = 2,
        string progressing = "NewReplicaSetAvailable", DateTimeOffset? lastUpdate = null, string? image = "web:1") => new()
    {
        Metadata = new ObjectMeta
        {
            Name = "web", Namespace = "shop", Uid = "d-uid", Generation = generation,
            Annotations = new() { [RolloutPlanner.RevisionAnnotation] = revision.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        },
        Spec = new DeploymentSpec
        {
            Replicas = replicas,
            Template = new PodTemplateSpec { Spec = new PodSpec { Containers = [new Container { Name = "app", Image = image }] } },
        },
        Status = new DeploymentStatus
        {
            ObservedGeneration = observed, Replicas = replicas, UpdatedReplicas = updated, AvailableReplicas = available,
            Conditions = [new DeploymentCondition { Type = "Progressing", Status = progressing == "ProgressDeadlineExceeded" ? "False" : "True", Reason = progressing, LastUpdateTime = lastUpdate ?? T0.AddMinutes(3) }],
        },
    };

    private static LeanReplicaSet Rs(string hash, long revision, DateTimeOffset created, string? sha = "abc", string? commitTime = "2026-11-01T10:00:00Z",
        string? history = null, string fingerprint = "", string? changeType = null)
    {
        var annotations = new Dictionary<string, string> { [RolloutPlanner.RevisionAnnotation] = revision.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (history is not null) annotations[RolloutPlanner.RevisionHistoryAnnotation] = history;
        var template = new List<KeyValuePair<string, string>>();
        if (sha is not null) template.Add(KeyValuePair.Create(DoraNames.CommitShaAnnotation, sha));
        if (commitTime is not null) template.Add(KeyValuePair.Create(DoraNames.CommitTimeAnnotation, commitTime));
        if (changeType is not null) template.Add(KeyValuePair.Create(DoraNames.ChangeTypeAnnotation, changeType));
        return new LeanReplicaSet
        {
            Name = $"web-{hash}",
            Namespace = "shop",
            CreationTimestamp = created,
            Annotations = annotations,
            HasTemplate = true,
            Fingerprint = Fingerprint(fingerprint.Length > 0 ? fingerprint : hash),
            TemplateAnnotations = [.. template],
            Image = $"web:{hash}",
        };
    }

    /// <summary>A distinct fingerprint per label: the fingerprint of the label's digest.</summary>
    private static TemplateFingerprint Fingerprint(string label) => TemplateFingerprint.Of(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(label)));

    private static RolloutPlan Plan(Deployment d, IReadOnlyList<LeanReplicaSet> sets, params DeploymentRecord[] records) =>
        RolloutPlanner.Plan(new RolloutInput(d, sets, records, "shop", "production", Now));

    private static DeploymentRecord Record(RolloutPlan plan, string name) => plan.Records.Single(r => r.Metadata.Name == name);

    private static DeploymentRecord Stored(string name, long revision, string phase, string? sha = "abc", DateTimeOffset? deployedAt = null) => new()
    {
        Metadata = new ObjectMeta { Name = name, Namespace = "shop" },
        Spec = new DeploymentRecordSpec { Project = "shop", Revision = revision, CommitSha = sha, Workload = new WorkloadReference { Name = "web" } },
        Status = new DeploymentRecordStatus { Phase = phase, StartedAt = T0, DeployedAt = deployedAt },
    };

    [Fact]
    public void NewRevision_InProgress_IsProgressing_WithTheReplicaSetsCreationAsStart()
    {
        var plan = Plan(Dep(1, updated: 1, progressing: "ReplicaSetUpdated"), [Rs("a", 1, T0)]);
        var r = Record(plan, "web-1");
        Assert.Equal("Progressing", r.Status!.Phase);
        Assert.Equal(T0, r.Status.StartedAt);
        Assert.Null(r.Status.DeployedAt);
        Assert.Equal("abc", r.Spec.CommitSha);
        Assert.Equal(T0.AddHours(-2), r.Spec.CommitTime);
        Assert.Equal("web:a", r.Spec.Image);
        Assert.Equal("shop", r.Metadata.Labels![DoraNames.ProjectLabel]);
        Assert.Equal("d-uid", r.Spec.Workload.Uid);
    }

    [Fact]
    public void CompletedRollout_Succeeds_WithTimesFromTheObjects()
    {
        var r = Record(Plan(Dep(1, lastUpdate: T0.AddMinutes(3)), [Rs("a", 1, T0)]), "web-1");
        Assert.Equal("Succeeded", r.Status!.Phase);
        Assert.Equal(T0.AddMinutes(3), r.Status.DeployedAt);
        Assert.Equal(180, r.Status.DurationSeconds);
        Assert.Equal(2 * 3600 + 180, r.Status.LeadTimeSeconds);
    }

    [Fact]
    public void StaleStatus_FromBeforeTheNewGeneration_IsNotCompletion()
    {
        var r = Record(Plan(Dep(2, generation: 3, observed: 2), [Rs("a", 1, T0), Rs("b", 2, T0.AddHours(1))]), "web-2");
        Assert.Equal("Progressing", r.Status!.Phase);
    }

    [Fact]
    public void ProgressDeadlineExceeded_Fails()
    {
        var r = Record(Plan(Dep(1, updated: 1, available: 1, progressing: "ProgressDeadlineExceeded", lastUpdate: T0.AddMinutes(10)), [Rs("a", 1, T0)]), "web-1");
        Assert.Equal("Failed", r.Status!.Phase);
        Assert.Equal(T0.AddMinutes(10), r.Status.FailedAt);
        Assert.Null(r.Status.LeadTimeSeconds);
    }

    [Fact]
    public void Rollback_MarksTheRolledBackRecord_AndLinksBoth()
    {
        var sets = new[] { Rs("a", 3, T0, history: "1"), Rs("b", 2, T0.AddHours(1), sha: "def") };
        var plan = Plan(Dep(3, updated: 1, progressing: "FoundNewReplicaSet"), sets, Stored("web-1", 1, "Succeeded"), Stored("web-2", 2, "Succeeded", "def"));
        var rollback = Record(plan, "web-3");
        var rolledBack = Record(plan, "web-2");
        Assert.Equal("web-2", rollback.Status!.RollbackOf);
        Assert.Equal(Now, rollback.Status.StartedAt);
        Assert.Equal("RolledBack", rolledBack.Status!.Phase);
        Assert.Equal("web-3", rolledBack.Status.RolledBackBy);
        Assert.Equal(Now, rolledBack.Status.FailedAt);
        Assert.DoesNotContain(plan.Records, r => r.Metadata.Name == "web-1");
    }

    [Fact]
    public void ARollbackFirstSeenComplete_StartsNoLaterThanItWasDeployed()
    {
        var sets = new[] { Rs("a", 3, T0, history: "1"), Rs("b", 2, T0.AddHours(1), sha: "def") };
        var plan = Plan(Dep(3, lastUpdate: T0.AddHours(2)), sets, Stored("web-1", 1, "Succeeded"), Stored("web-2", 2, "Succeeded", "def"));
        var rollback = Record(plan, "web-3");
        Assert.Equal("Succeeded", rollback.Status!.Phase);
        Assert.Equal(T0.AddHours(2), rollback.Status.DeployedAt);
        Assert.Equal(T0.AddHours(2), rollback.Status.StartedAt);
        Assert.Equal(0, rollback.Status.DurationSeconds);
        Assert.Equal(T0.AddHours(2), Record(plan, "web-2").Status!.FailedAt);
    }

    [Fact]
    public void RestartOnly_IsRecordedAsRestart_WithNoLeadTime()
    {
        var sets = new[] { Rs("a", 1, T0, fingerprint: "same"), Rs("b", 2, T0.AddHours(1), fingerprint: "same") };
        var r = Record(Plan(Dep(2), sets, Stored("web-1", 1, "Succeeded")), "web-2");
        Assert.Equal("Restart", r.Status!.Phase);
        Assert.Null(r.Status.LeadTimeSeconds);
        Assert.Null(r.Status.DeployedAt);
    }

    [Fact]
    public void SameCommitAsThePreviousDeployment_IsAConfigChange_WithoutALeadTimeSample()
    {
        var sets = new[] { Rs("a", 1, T0), Rs("b", 2, T0.AddHours(1)) };
        var r = Record(Plan(Dep(2), sets, Stored("web-1", 1, "Succeeded")), "web-2");
        Assert.Equal("Succeeded", r.Status!.Phase);
        Assert.Equal("config", r.Spec.ChangeType);
        Assert.Null(r.Status.LeadTimeSeconds);
    }

    [Fact]
    public void ANewRevisionBeforeThePreviousCompleted_SupersedesIt()
    {
        var sets = new[] { Rs("a", 1, T0), Rs("b", 2, T0.AddHours(1), sha: "def") };
        var plan = Plan(Dep(2, updated: 1, progressing: "NewReplicaSetCreated"), sets, Stored("web-1", 1, "Progressing"));
        var superseded = Record(plan, "web-1");
        Assert.Equal("Superseded", superseded.Status!.Phase);
        Assert.Contains("revision 2", superseded.Status.Reason);
        Assert.Equal("Progressing", Record(plan, "web-2").Status!.Phase);
    }

    [Fact]
    public void Scaling_ChangesNothing_AndASecondPlanOfTheSameStateIsIdentical()
    {
        var sets = new[] { Rs("a", 1, T0) };
        var first = Record(Plan(Dep(1), sets), "web-1");
        var scaled = Plan(Dep(1, generation: 2, observed: 2, replicas: 5, updated: 5, available: 5, lastUpdate: T0.AddHours(3)), sets, first);
        var again = Record(scaled, "web-1");
        Assert.Equal(Json(first), Json(again));
        Assert.Single(scaled.Records);
    }

    [Theory]
    [InlineData("yesterday", "CommitTimeInvalid")]
    [InlineData("2026-11-01 10:00", "CommitTimeInvalid")]
    [InlineData("2026-11-01T10:00:00", "CommitTimeInvalid")]
    [InlineData("2026-11-01T13:00:00Z", "CommitTimeInFuture")]
    public void BadCommitTimes_AreConditionsAndWarnings_AndNeverAZeroLeadTime(string commitTime, string reason)
    {
        var plan = Plan(Dep(1, lastUpdate: T0.AddMinutes(3)), [Rs("a", 1, T0, commitTime: commitTime)]);
        var r = Record(plan, "web-1");
        Assert.Equal("Succeeded", r.Status!.Phase);
        Assert.Null(r.Status.LeadTimeSeconds);
        var condition = Assert.Single(r.Status.Conditions!);
        Assert.Equal(reason, condition.Type);
        var problem = Assert.Single(plan.Problems);
        Assert.Equal(reason, problem.Reason);
        Assert.Contains(reason == "CommitTimeInvalid" ? commitTime : "after the deployment", problem.Message);

        var replanned = Plan(Dep(1, lastUpdate: T0.AddMinutes(3)), [Rs("a", 1, T0, commitTime: commitTime)], r);
        Assert.Empty(replanned.Problems);

        // A record whose status write was lost gets the condition back on the next plan.
        r.Status = null;
        var recovered = Record(Plan(Dep(1, lastUpdate: T0.AddMinutes(3)), [Rs("a", 1, T0, commitTime: commitTime)], r), "web-1");
        Assert.Equal(reason, Assert.Single(recovered.Status!.Conditions!).Type);
    }

    [Theory]
    [InlineData("1793520000", 2026, 11, 1, 8)]
    [InlineData("2026-11-01T10:00:00+02:00", 2026, 11, 1, 8)]
    [InlineData("2026-11-01T10:00:00.000000000+02:00", 2026, 11, 1, 8)]
    [InlineData("2026-11-01T08:00:00.0000000004Z", 2026, 11, 1, 8)]
    public void CommitTimes_AcceptRfc3339WithOffsetAndUnixSeconds(string text, int y, int m, int d, int h)
    {
        Assert.True(CommitTimes.TryParse(text, out var t));
        Assert.Equal(new DateTimeOffset(y, m, d, h, 0, 0, TimeSpan.Zero), t);
    }

    [Theory]
    [InlineData("90m", 90 * 60)]
    [InlineData("24h", 24 * 3600)]
    [InlineData("30d", 30 * 86400)]
    [InlineData("2w", 14 * 86400)]
    [InlineData("0d", -1)]
    [InlineData("d", -1)]
    [InlineData("5y", -1)]
    [InlineData("1.5h", -1)]
    public void Durations_ParseTheSpecForm(string text, long seconds)
    {
        var ok = Durations.TryParse(text, out var value);
        Assert.Equal(seconds >= 0, ok);
        if (ok) Assert.Equal(TimeSpan.FromSeconds(seconds), value);
    }

    [Fact]
    public void RevisionsNobodyRecorded_AreSuperseded_WithTheirStart_AndOnlyAfterTheNewestRecord()
    {
        // Recorded up to revision 2; revisions 3 and 4 came and went unseen; 5 is current.
        var sets = new[] { Rs("a", 1, T0), Rs("b", 2, T0.AddMinutes(10)), Rs("c", 3, T0.AddMinutes(20)), Rs("d", 4, T0.AddMinutes(30)), Rs("e", 5, T0.AddMinutes(40)) };
        var plan = Plan(Dep(5), sets, Stored("web-2", 2, "Succeeded", deployedAt: T0.AddMinutes(12)));
        var three = Record(plan, "web-3");
        Assert.Equal("Superseded", three.Status!.Phase);
        Assert.Equal(T0.AddMinutes(20), three.Status.StartedAt);
        Assert.Contains("replaced by revision 4", three.Status.Reason);
        Assert.Null(three.Status.LeadTimeSeconds);
        Assert.Equal("Superseded", Record(plan, "web-4").Status!.Phase);
        Assert.Equal("Succeeded", Record(plan, "web-5").Status!.Phase);
        Assert.DoesNotContain(plan.Records, r => r.Metadata.Name == "web-1");

        // A Deployment seen for the first time records only its current revision.
        Assert.Equal(["web-5"], Plan(Dep(5), sets).Records.Select(r => r.Metadata.Name));
    }

    [Fact]
    public void NoRevisionYet_PlansNothing()
    {
        var d = Dep(1);
        d.Metadata.Annotations!.Clear();
        Assert.Empty(Plan(d, [Rs("a", 1, T0)]).Records);
    }

    [Fact]
    public void DeletedMidRollout_IsSuperseded_WithAReason()
    {
        var records = RolloutPlanner.PlanDeleted([Stored("web-1", 1, "Succeeded"), Stored("web-2", 2, "Progressing")]);
        var r = Assert.Single(records);
        Assert.Equal("Superseded", r.Status!.Phase);
        Assert.Contains("deleted", r.Status.Reason);
    }

    [Fact]
    public void LongNames_StayWithinKubernetesLimits_AndDeterministic()
    {
        var longName = new string('a', 250);
        var name = ObjectNames.Record(longName, 12345);
        Assert.True(name.Length <= 253);
        Assert.EndsWith("-12345", name);
        Assert.Equal(name, ObjectNames.Record(longName, 12345));
        Assert.NotEqual(name, ObjectNames.Record(longName + "b", 12345));
        Assert.Equal("web-7", ObjectNames.Record("web", 7));
        Assert.True(ObjectNames.LabelValue(longName).Length <= 63);
        Assert.Equal("shop", ObjectNames.LabelValue("shop"));
    }

    private static RolloutPlan Backfill(Deployment d, IReadOnlyList<LeanReplicaSet> sets, params DeploymentRecord[] records) =>
        RolloutPlanner.Plan(new RolloutInput(d, sets, records, "shop", "production", Now, backfillSince: T0.AddDays(-90)));

    [Fact]
    public void FirstSight_RecordsEveryRetainedRevision_BackfilledWithTheReplicaSetsTimes_BeforeTheCurrentOne()
    {
        var sets = new[]
        {
            Rs("a", 1, T0.AddDays(-20), sha: "s1", commitTime: "2026-10-12T10:00:00Z"),
            Rs("b", 2, T0.AddDays(-10), sha: "s2", commitTime: "2026-10-22T11:00:00Z"),
            Rs("c", 3, T0.AddDays(-5), sha: "s3", commitTime: "2026-10-27T09:00:00Z"),
        };
        var plan = Backfill(Dep(3), sets);
        Assert.Equal(["web-1", "web-2", "web-3"], plan.Records.Select(r => r.Metadata.Name));
        var first = Record(plan, "web-1");
        Assert.True(RolloutPlanner.IsBackfilled(first));
        Assert.Equal(RecordPhases.Succeeded, first.Status!.Phase);
        Assert.Equal(T0.AddDays(-20), first.Status.StartedAt);
        Assert.Equal(T0.AddDays(-20), first.Status.DeployedAt);
        Assert.Equal("s1", first.Spec.CommitSha);
        Assert.Equal("web:a", first.Spec.Image);
        // The lead time is a lower bound: commit to the ReplicaSet's creation.
        Assert.Equal((T0.AddDays(-20) - DateTimeOffset.Parse("2026-10-12T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture)).TotalSeconds, first.Status.LeadTimeSeconds);
        Assert.Contains("deployedAt and the lead time are lower bounds", Conditions.Find(first.Status.Conditions, "Backfilled")!.Message);
        Assert.Contains("the next revision's startedAt bounds them from above", Conditions.Find(first.Status.Conditions, "Backfilled")!.Message);
        // One text for every backfilled record, so a cache holds it once.
        Assert.Equal(Conditions.Find(first.Status.Conditions, "Backfilled")!.Message, Conditions.Find(Record(plan, "web-2").Status!.Conditions, "Backfilled")!.Message);
        var current = Record(plan, "web-3");
        Assert.False(RolloutPlanner.IsBackfilled(current));
        Assert.Equal(RecordPhases.Succeeded, current.Status!.Phase);
    }

    [Fact]
    public void Backfill_TellsRollbacksRestartsAndConfigChanges_AndSkipsWhatHasNoTimeOrIsPastRetention()
    {
        var sets = new[]
        {
            Rs("old", 1, T0.AddDays(-200), sha: "s0"),
            Rs("a", 2, T0.AddDays(-30), sha: "s1", history: "4", fingerprint: "fa"),
            Rs("b", 3, T0.AddDays(-20), sha: "s2", fingerprint: "fb"),
            Rs("c", 5, T0.AddDays(-10), sha: "s1", fingerprint: "fa-restart"),
            Rs("d", 6, T0.AddDays(-9), sha: "s1", fingerprint: "fa-restart"),
        };
        var plan = Backfill(Dep(7), [.. sets, Rs("e", 7, T0.AddDays(-1), sha: "s3")]);
        Assert.DoesNotContain(plan.Records, r => r.Metadata.Name == "web-1");
        Assert.DoesNotContain(plan.Records, r => r.Metadata.Name == "web-4");
        Assert.Equal(RecordPhases.Succeeded, Record(plan, "web-2").Status!.Phase);
        var rolledBack = Record(plan, "web-3");
        Assert.Equal(RecordPhases.RolledBack, rolledBack.Status!.Phase);
        Assert.Contains("rolled back by revision 4", rolledBack.Status.Reason);
        Assert.Equal(ChangeTypes.Config, Record(plan, "web-5").Spec.ChangeType);
        var restart = Record(plan, "web-6");
        Assert.Equal(RecordPhases.Restart, restart.Status!.Phase);
        Assert.Null(restart.Status.DeployedAt);
    }

    [Fact]
    public void Backfill_NeverOverTrackedHistory_AndOffWithoutASince()
    {
        var sets = new[] { Rs("a", 1, T0.AddDays(-20)), Rs("b", 2, T0.AddDays(-10)), Rs("c", 3, T0.AddDays(-5)) };
        Assert.Equal(["web-3"], RolloutPlanner.Plan(new RolloutInput(Dep(3), sets, [], "shop", "production", Now)).Records.Select(r => r.Metadata.Name));
        var tracked = Stored("web-2", 2, RecordPhases.Succeeded, deployedAt: T0.AddDays(-10));
        Assert.DoesNotContain(Backfill(Dep(3), sets, tracked).Records, r => r.Metadata.Name == "web-1");
        var current = Stored("web-3", 3, RecordPhases.Succeeded, deployedAt: T0.AddDays(-5));
        Assert.Equal(["web-3"], Backfill(Dep(3), sets, current).Records.Select(r => r.Metadata.Name));
        // Annotations of old revisions come from their own ReplicaSet, never from the Deployment.
        var bare = new[] { Rs("a", 1, T0.AddDays(-20), sha: null, commitTime: null), Rs("c", 2, T0.AddDays(-5)) };
        var d = Dep(2);
        d.Metadata.Annotations![DoraNames.CommitShaAnnotation] = "current-sha";
        Assert.Null(Record(Backfill(d, bare), "web-1").Spec.CommitSha);
    }

    private static string Json(DeploymentRecord r) => JsonSerializer.Serialize(r, DeploymentRecord.JsonType);
}
