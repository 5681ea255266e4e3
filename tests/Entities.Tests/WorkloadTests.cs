using System.Text.Json;
using System.Text.Json.Nodes;
using DoraOperator.Entities.BuiltIn;
using DoraOperator.Kube.Config;
using DoraOperator.Kube.Rest;
using DoraOperator.Sandbox;
using DoraOperator.Testing;

namespace DoraOperator.Entities.Tests;

public sealed class WorkloadTests
{
    private const string ServerDeployment = """
        {"apiVersion":"apps/v1","kind":"Deployment",
         "metadata":{"name":"web","namespace":"shop","uid":"u1","resourceVersion":"42","generation":3,"creationTimestamp":"2026-11-01T10:00:00Z",
           "annotations":{"deployment.kubernetes.io/revision":"7","dora-operator.io/project":"shop"},
           "managedFields":[{"manager":"kubectl","operation":"Update"}]},
         "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"revisionHistoryLimit":10,
           "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}},
           "template":{"metadata":{"labels":{"app":"web"},"annotations":{"dora-operator.io/commit-sha":"abc123","dora-operator.io/commit-time":"2026-11-01T09:00:00Z"}},
             "spec":{"containers":[{"name":"app","image":"shop/web:1.2.3","ports":[{"containerPort":8080}]}],"dnsPolicy":"ClusterFirst"}}},
         "status":{"observedGeneration":3,"replicas":2,"updatedReplicas":2,"availableReplicas":2,
           "conditions":[{"type":"Progressing","status":"True","lastUpdateTime":"2026-11-01T10:05:00Z","lastTransitionTime":"2026-11-01T10:00:00Z","reason":"NewReplicaSetAvailable","message":"ok"}],
           "futureField":{"x":1}}}
        """;

    [Fact]
    public void Deployment_ReadsTheFieldsTheOperatorUses()
    {
        var d = JsonSerializer.Deserialize(ServerDeployment, Deployment.JsonType)!;
        Assert.Equal("7", d.Metadata.Annotations!["deployment.kubernetes.io/revision"]);
        Assert.Equal("abc123", d.Spec!.Template!.Metadata!.Annotations!["dora-operator.io/commit-sha"]);
        Assert.Equal("shop/web:1.2.3", d.Spec.Template.Spec!.Containers![0].Image);
        var progressing = d.Status!.Conditions!.Single(c => c.Type == "Progressing");
        Assert.Equal("NewReplicaSetAvailable", progressing.Reason);
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 10, 5, 0, TimeSpan.Zero), progressing.LastUpdateTime);
        Assert.Equal(3, d.Status.ObservedGeneration);
    }

    [Fact]
    public void Deployment_RoundTripsUnknownFields_SoAWriteLosesNothing()
    {
        var d = JsonSerializer.Deserialize(ServerDeployment, Deployment.JsonType)!;
        var written = JsonNode.Parse(JsonSerializer.Serialize(d, Deployment.JsonType))!;
        Assert.Equal("RollingUpdate", (string?)written["spec"]!["strategy"]!["type"]);
        Assert.Equal(8080, (int)written["spec"]!["template"]!["spec"]!["containers"]![0]!["ports"]![0]!["containerPort"]!);
        Assert.Equal("ClusterFirst", (string?)written["spec"]!["template"]!["spec"]!["dnsPolicy"]);
        Assert.Equal("kubectl", (string?)written["metadata"]!["managedFields"]![0]!["manager"]);
        Assert.Equal("2026-11-01T10:00:00Z", (string?)written["metadata"]!["creationTimestamp"]);
    }

    [Fact]
    public void Lean_DropsWhatTheOperatorNeverReads()
    {
        var d = Workloads.Lean(JsonSerializer.Deserialize(ServerDeployment, Deployment.JsonType)!);
        var written = JsonNode.Parse(JsonSerializer.Serialize(d, Deployment.JsonType))!;
        Assert.Null(written["metadata"]!["managedFields"]);
        Assert.Null(written["spec"]!["strategy"]);
        Assert.Null(written["spec"]!["template"]!["spec"]!["containers"]![0]!["ports"]);
        Assert.Equal("abc123", d.Spec!.Template!.Metadata!.Annotations!["dora-operator.io/commit-sha"]);
    }

    [Fact]
    public async Task Deployment_AgainstTheSandbox_ReadsControllerStatusAndReplicaSets()
    {
        await using var server = await SandboxApiServer.StartAsync();
        var kubeconfig = Path.GetTempFileName();
        await server.WriteKubeconfigAsync(kubeconfig);
        using var client = new KubeApiClient(KubeConfigLoader.Load(kubeconfig));
        var created = await client.CreateAsync(new Deployment
        {
            Metadata = new() { Name = "web", Namespace = "default" },
            Spec = new DeploymentSpec
            {
                Replicas = 2,
                Selector = new() { MatchLabels = new() { ["app"] = "web" } },
                Template = new PodTemplateSpec
                {
                    Metadata = new() { Labels = new() { ["app"] = "web" } },
                    Spec = new PodSpec { Containers = [new Container { Name = "app", Image = "web:1" }] },
                },
            },
        });
        Assert.Equal(1, created.Metadata.Generation);
        var done = await Eventually.Until(() => client.GetAsync<Deployment>("web"),
            d => d.Status?.Conditions?.Any(c => c is { Type: "Progressing", Reason: "NewReplicaSetAvailable" }) == true, "the rollout");
        Assert.Equal(2, done.Status!.AvailableReplicas);
        var sets = await client.ListAsync<ReplicaSet>("default");
        var rs = Assert.Single(sets.Items);
        Assert.Equal("1", rs.Metadata.Annotations!["deployment.kubernetes.io/revision"]);
        Assert.Equal(created.Metadata.Uid, rs.Metadata.OwnerReferences![0].Uid);
        File.Delete(kubeconfig);
    }
}
