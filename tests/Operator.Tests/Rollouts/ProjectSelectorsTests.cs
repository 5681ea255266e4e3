using DoraOperator.Entities.Vocabulary;
using DoraOperator.Kube.Meta;
using DoraOperator.Operator.Hosting;
using DoraOperator.Testing;

namespace DoraOperator.Operator.Tests.Rollouts;

/// <summary>The index of the projects' selectors claims exactly what matching every project would, also after projects change.</summary>
public sealed class ProjectSelectorsTests : IAsyncLifetime
{
    private OperatorOnSandbox _env = null!;

    public async Task InitializeAsync() => _env = await OperatorOnSandbox.StartAsync();

    public async Task DisposeAsync() => await _env.DisposeAsync();

    private static string Project(string name, string selector) =>
        $"apiVersion: dora-operator.io/v1alpha1\nkind: DoraProject\nmetadata:\n  name: {name}\nspec:\n  selector: {selector}\n---\n";

    [Fact]
    public async Task EveryLabelCombination_IsClaimedAsByMatchingEveryProject()
    {
        await _env.Kubectl.OkAsync("apply -f -",
            Project("team-a", "{matchLabels: {team: a}}")
            + Project("team-a-tier-b", "{matchLabels: {team: a, tier: b}}")
            + Project("tiered", "{matchExpressions: [{key: tier, operator: In, values: [a, b]}]}")
            + Project("no-app", "{matchExpressions: [{key: app, operator: DoesNotExist}]}")
            + Project("app-a-not-team-b", "{matchLabels: {app: a}, matchExpressions: [{key: team, operator: NotIn, values: [b]}]}")
            + Project("tier-a", "{matchLabels: {tier: a}}"));
        await using var host = await _env.StartOperatorAsync();
        await Eventually.True(() => host.Cache.Projects.List("shop").Count == 6, "the cache to hold the six projects");
        AssertSameAsLinear(host, expectSomeOverlap: true);
        var builds = host.Cache.ProjectSelectors.Builds;
        AssertSameAsLinear(host, expectSomeOverlap: true);
        Assert.Equal(builds, host.Cache.ProjectSelectors.Builds);

        // A changed selector, a deleted project and a new one: the index follows.
        await _env.Kubectl.OkAsync("""patch doraproject tier-a --type merge -p '{"spec":{"selector":{"matchLabels":{"tier":null,"app":"b"}}}}'""");
        await _env.Kubectl.OkAsync("delete doraproject team-a");
        await _env.Kubectl.OkAsync("apply -f -", Project("app-b", "{matchLabels: {app: b}}"));
        await Eventually.True(() => host.Cache.Projects.Get("shop", "team-a") is null && host.Cache.Projects.Get("shop", "app-b") is not null
            && host.Cache.Projects.Get("shop", "tier-a")?.Spec.Selector?.MatchLabels?.ContainsKey("app") == true, "the cache to show the changes");
        AssertSameAsLinear(host, expectSomeOverlap: true);
        Assert.True(host.Cache.ProjectSelectors.Builds > builds, "the index was built again");
    }

    private static void AssertSameAsLinear(OperatorHost host, bool expectSomeOverlap)
    {
        string?[] values = [null, "a", "b"];
        var overlaps = 0;
        foreach (var team in values)
        {
            foreach (var tier in values)
            {
                foreach (var app in values)
                {
                    var labels = new Dictionary<string, string>();
                    if (team is not null) labels["team"] = team;
                    if (tier is not null) labels["tier"] = tier;
                    if (app is not null) labels["app"] = app;
                    var meta = new ObjectMeta { Name = "w", Namespace = "shop", Labels = labels.Count == 0 ? null : labels };
                    var linear = ProjectClaims.Claimants(host.Cache.Projects.List("shop"), meta).Select(p => p.Metadata.Name).ToList();
                    var indexed = host.Cache.ProjectSelectors.Claimants("shop", meta).Select(p => p.Metadata.Name).ToList();
                    Assert.True(linear.SequenceEqual(indexed), $"team={team} tier={tier} app={app}: [{string.Join(", ", linear)}] by matching each, [{string.Join(", ", indexed)}] by the index");
                    if (linear.Count > 1) overlaps++;
                }
            }
        }
        Assert.Equal(expectSomeOverlap, overlaps > 0);
    }
}
