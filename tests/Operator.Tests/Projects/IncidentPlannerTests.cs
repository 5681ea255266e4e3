using DoraOperator.Entities.Dora;
using DoraOperator.Kube.Meta;
using DoraOperator.Operator.Incidents;
using static DoraOperator.Operator.Tests.Projects.History;

namespace DoraOperator.Operator.Tests.Projects;

/// <summary>The incident rules on hand-built objects: validation, phase, durations and attribution.</summary>
public sealed class IncidentPlannerTests
{
    private static readonly DateTimeOffset Now = At(11, 20, 12);

    private static DoraProject Project(string mode = "lastDeployment", string maxAge = "24h") => new()
    {
        Metadata = new ObjectMeta { Name = "shop", Namespace = "team" },
        Spec = new DoraProjectSpec { IncidentAttribution = new IncidentAttribution { Mode = mode, MaxAge = maxAge } },
    };

    private static Incident Inc(DateTimeOffset? started = null, DateTimeOffset? restored = null, DateTimeOffset? resolved = null, DateTimeOffset? detected = null, string? reference = null) => new()
    {
        Metadata = new ObjectMeta { Name = "inc", Namespace = "team", CreationTimestamp = At(11, 20, 10), Generation = 1 },
        Spec = new IncidentSpec { Project = "shop", StartedAt = started, RestoredAt = restored, ResolvedAt = resolved, DetectedAt = detected, DeploymentRef = reference },
    };

    private static readonly DeploymentRecord[] Records =
    [
        Record("api-1", "Succeeded", At(11, 18, 9)),
        Record("api-2", "Succeeded", At(11, 20, 8)),
        Record("api-3", "Failed", failedAt: At(11, 20, 9)),
        Record("api-4", "Succeeded", At(11, 20, 11)),
    ];

    private static string? Invalid(IncidentPlan plan) => plan.Status.Conditions?.FirstOrDefault(c => c.Type == "Invalid")?.Reason;

    [Theory]
    [InlineData(12, 10, null, null, "RestoredBeforeStarted")]
    [InlineData(10, null, 9, null, "ResolvedBeforeStarted")]
    [InlineData(9, 11, 10, null, "ResolvedBeforeRestored")]
    [InlineData(10, null, null, 9, "DetectedBeforeStarted")]
    [InlineData(13, null, null, null, "StartedInFuture")]
    [InlineData(10, 11, 11, 10, null)]
    public void RulesTheAPIServerCannotCheck(int startedHour, int? restoredHour, int? resolvedHour, int? detectedHour, string? reason)
    {
        DateTimeOffset? H(int? h) => h is { } x ? At(11, 20, x) : null;
        var plan = IncidentPlanner.Plan(Inc(H(startedHour), H(restoredHour), H(resolvedHour), H(detectedHour)), Project(), Records, Now);
        Assert.Equal(reason, Invalid(plan));
        if (reason is not null)
        {
            Assert.Null(plan.Status.LinkedDeployment);
            Assert.Null(plan.DefaultStartedAt);
        }
    }

    [Fact]
    public void AMissingStartDefaultsToCreationAndAResolvedIncidentIsRestoredThen()
    {
        var plan = IncidentPlanner.Plan(Inc(resolved: At(11, 20, 11)), Project(), Records, Now);
        Assert.Equal(At(11, 20, 10), plan.DefaultStartedAt);
        Assert.Equal(At(11, 20, 11), plan.DefaultRestoredAt);
        Assert.Equal("Resolved", plan.Status.Phase);
        Assert.Equal(3600, plan.Status.TimeToRestoreSeconds);
        Assert.Equal(3600, plan.Status.TimeToResolveSeconds);
        Assert.Equal("1h", plan.Status.Display!.RestoredIn);
    }

    [Fact]
    public void LastDeploymentAttributesToTheLatestDeploymentBeforeTheStart()
    {
        var plan = IncidentPlanner.Plan(Inc(At(11, 20, 10)), Project(), Records, Now);
        Assert.Equal("api-2", plan.Status.LinkedDeployment);
        Assert.Equal(7200, plan.Status.TimeToDetectSeconds);
        Assert.Equal("Open", plan.Status.Phase);
    }

    [Fact]
    public void LastDeploymentRespectsMaxAge()
    {
        var plan = IncidentPlanner.Plan(Inc(At(11, 20, 10)), Project(maxAge: "1h"), Records, Now);
        Assert.Null(plan.Status.LinkedDeployment);
        Assert.Equal("NoDeployment", plan.Status.Conditions!.Single(c => c.Type == "Linked").Reason);
    }

    [Fact]
    public void ExplicitAttributionLinksOnlyANamedRecordThatExists()
    {
        Assert.Null(IncidentPlanner.Plan(Inc(At(11, 20, 10)), Project("explicit"), Records, Now).Status.LinkedDeployment);
        Assert.Equal("api-1", IncidentPlanner.Plan(Inc(At(11, 20, 10), reference: "api-1"), Project("explicit"), Records, Now).Status.LinkedDeployment);
        var missing = IncidentPlanner.Plan(Inc(At(11, 20, 10), reference: "api-9"), Project("explicit"), Records, Now);
        Assert.Null(missing.Status.LinkedDeployment);
        Assert.Equal("DeploymentNotFound", missing.Status.Conditions!.Single(c => c.Type == "Linked").Reason);
        Assert.Null(Invalid(missing));
    }

    [Fact]
    public void WithoutItsProjectTheIncidentWaitsUnlinked()
    {
        var plan = IncidentPlanner.Plan(Inc(At(11, 20, 10), reference: "api-1"), null, Records, Now);
        Assert.Equal("ProjectNotFound", plan.Status.Conditions!.Single(c => c.Type == "Linked").Reason);
    }
}
