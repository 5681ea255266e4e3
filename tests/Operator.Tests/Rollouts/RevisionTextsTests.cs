using DoraOperator.Entities.BuiltIn;
using DoraOperator.Entities.Dora;
using DoraOperator.Operator.Caching;
using DoraOperator.Operator.Hosting;
using DoraOperator.Testing;

namespace DoraOperator.Operator.Tests.Rollouts;

/// <summary>A revision's image is held once across the Deployment, ReplicaSet and record caches, its commit SHA across the Deployment's and ReplicaSet's (a record packs it).</summary>
public sealed class RevisionTextsTests : IAsyncLifetime
{
    private const string Sha1 = "0123456789abcdef0123456789abcdef01234567";
    private const string Sha2 = "89abcdef0123456789abcdef0123456789abcdef";
    private OperatorOnSandbox _env = null!;

    public async Task InitializeAsync()
    {
        _env = await OperatorOnSandbox.StartAsync();
        await _env.Kubectl.OkAsync("apply -f -", OperatorOnSandbox.ShopProject);
    }

    public async Task DisposeAsync() => await _env.DisposeAsync();

    [Fact]
    public async Task ARevisionsShaAndImage_AreOneInstanceInEveryCache_AlsoAfterARestart()
    {
        var host = await _env.StartOperatorAsync();
        await _env.Kubectl.OkAsync("apply -f -", OperatorOnSandbox.WebDeployment(Sha1, $"registry.example.com/shop/web:{Sha1[..12]}"));
        await _env.Kubectl.OkAsync("rollout status deployment/web --timeout=30s");
        var patch = """{"spec":{"template":{"metadata":{"annotations":{"dora-operator.io/commit-sha":"SHA"}},"spec":{"containers":[{"name":"web","image":"registry.example.com/shop/web:TAG"}]}}}}"""
            .Replace("SHA", Sha2, StringComparison.Ordinal).Replace("TAG", Sha2[..12], StringComparison.Ordinal);
        await _env.Kubectl.OkAsync($"patch deployment web --type strategic -p '{patch}'");
        await _env.Kubectl.OkAsync("rollout status deployment/web --timeout=30s");
        await Records.WaitAsync(_env.Kubectl, "web-2", r => Records.Phase(r) == "Succeeded", "web-2 to succeed");

        await Eventually.True(() => host.Cache.Records.Get("shop", "web-2")?.Status?.Phase == "Succeeded", "the cache to hold web-2's outcome");
        AssertShared(host, "web-2", Sha2, withDeployment: true);
        AssertShared(host, "web-1", Sha1, withDeployment: false);

        // A restarted operator lists records that already exist: they share with the ReplicaSets listed first.
        await host.DisposeAsync();
        host = await _env.StartOperatorAsync();
        await using (host)
        {
            AssertShared(host, "web-2", Sha2, withDeployment: false);
            AssertShared(host, "web-1", Sha1, withDeployment: false);
        }
    }

    private static void AssertShared(OperatorHost host, string recordName, string sha, bool withDeployment)
    {
        var record = host.Cache.Records.Get("shop", recordName) ?? throw new Xunit.Sdk.XunitException($"{recordName} is not cached");
        var deployment = host.Cache.Deployments.Get("shop", "web")!;
        var rs = host.Cache.ReplicaSets.ByIndex(CacheIndexes.Owner, deployment.Metadata.Uid!)
            .Single(r => r.Annotations?.GetValueOrDefault(Workloads.RevisionAnnotation) == record.Spec.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var rsSha = rs.TemplateAnnotations!.Single(a => a.Key == DoraNames.CommitShaAnnotation).Value;
        Assert.Equal(sha, record.Spec.CommitSha);
        Assert.Equal(sha, rsSha);
        Assert.Equal($"registry.example.com/shop/web:{sha[..12]}", record.Spec.Image);
        Assert.Same(rs.Image, record.Spec.Image);
        if (!withDeployment) return;
        Assert.Same(rs.Image, deployment.Spec!.Template!.LeanImage);
        Assert.Same(rsSha, Workloads.TemplateAnnotation(deployment.Spec.Template, DoraNames.CommitShaAnnotation));
    }
}
