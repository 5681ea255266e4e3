using DoraOperator.Sandbox.Security;
using DoraOperator.Testing;

namespace DoraOperator.Sandbox.Tests;

/// <summary>The RBAC authorization mode, driven with kubectl as a ServiceAccount and as the admin.</summary>
public sealed class RbacTests
{
    [Fact]
    public async Task AServiceAccountMayDoWhatItsBindingsGrantAndGetsKubeApiservers403Otherwise()
    {
        await using var server = await SandboxApiServer.StartAsync(new SandboxOptions { Authorization = AuthorizationMode.Rbac });
        var dir = Directory.CreateTempSubdirectory("rbac-").FullName;
        try
        {
            var adminConfig = Path.Combine(dir, "admin");
            var saConfig = Path.Combine(dir, "sa");
            await server.WriteKubeconfigAsync(adminConfig);
            await server.WriteKubeconfigAsync(saConfig, "shop", server.AddServiceAccountToken("dora", "operator"));
            using var admin = new Kubectl(adminConfig, "shop");
            using var sa = new Kubectl(saConfig, "shop");
            await admin.OkAsync("create namespace shop");
            await admin.OkAsync("create deployment web --image=web:1");

            var denied = await sa.RunAsync("get deployments");
            Assert.NotEqual(0, denied.ExitCode);
            Assert.Contains("Error from server (Forbidden): deployments.apps is forbidden: User \"system:serviceaccount:dora:operator\" cannot list resource \"deployments\" in API group \"apps\" in the namespace \"shop\"", denied.Stderr);

            // A ClusterRole bound in one namespace grants there only.
            await admin.OkAsync("create clusterrole read-deployments --verb=get,list,watch --resource=deployments.apps");
            await admin.OkAsync("create rolebinding operator-reads --clusterrole=read-deployments --serviceaccount=dora:operator");
            Assert.Contains("web", await sa.OkAsync("get deployments"));
            var elsewhere = await sa.RunAsync("get deployments -n default");
            Assert.Contains("in the namespace \"default\"", elsewhere.Stderr);
            var write = await sa.RunAsync("scale deployment web --replicas=2");
            Assert.Contains("cannot patch resource \"deployments/scale\" in API group \"apps\"", write.Stderr);

            // A ClusterRoleBinding grants everywhere; a subresource needs its own rule.
            await admin.OkAsync("create clusterrole status-writer --verb=update --resource=deployments.apps/status");
            await admin.OkAsync("create clusterrolebinding operator-status --clusterrole=status-writer --serviceaccount=dora:operator");
            await admin.OkAsync("create clusterrolebinding operator-reads-all --clusterrole=read-deployments --serviceaccount=dora:operator");
            Assert.Contains("No resources found", (await sa.RunAsync("get deployments -n default")).Stderr);
            Assert.Contains(server.Audit.Keys, k => k.User == "system:serviceaccount:dora:operator" && k.Verb == "list" && k.Resource == "deployments");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
