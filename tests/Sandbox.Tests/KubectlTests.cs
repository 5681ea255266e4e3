using System.Text;
using DoraOperator.Testing;

namespace DoraOperator.Sandbox.Tests;

/// <summary>The real kubectl (v1.32) against the Sandbox: what users and the docs will do.</summary>
public sealed class KubectlTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    private async Task<Kubectl> NewKubectl()
    {
        var ns = await fixture.Api.NewNamespaceAsync("kubectl");
        return new Kubectl(fixture.KubeconfigPath, ns);
    }

    /// <summary>
    /// A namespaced CRD with one version and the status subresource. <paramref name="columns"/> are
    /// printer columns in YAML flow style; <paramref name="properties"/> the top-level schema properties
    /// as YAML lines, indented from column 0.
    /// </summary>
    private static string CrdYaml(string group, string kind, string plural, string[] columns, string properties, string extraNames = "")
    {
        var yaml = new System.Text.StringBuilder($$$"""
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: {{{plural}}}.{{{group}}}}
            spec:
              group: {{{group}}}
              scope: Namespaced
              names: {plural: {{{plural}}}, singular: {{{kind.ToLowerInvariant()}}}, kind: {{{kind}}}{{{extraNames}}}}
              versions:
              - name: v1
                served: true
                storage: true
                subresources: {status: {}}
                additionalPrinterColumns:

            """);
        foreach (var c in columns) yaml.Append("    - ").Append(c).Append('\n');
        yaml.Append("    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n");
        foreach (var line in properties.Split('\n')) yaml.Append("          ").Append(line).Append('\n');
        return yaml.ToString();
    }

    private static string WidgetCrdYaml(string group) => CrdYaml(group, "Widget", "widgets",
        ["{name: Size, type: integer, jsonPath: .spec.size}", "{name: Color, type: string, jsonPath: .spec.color}", "{name: Age, type: date, jsonPath: .metadata.creationTimestamp}"],
        """
        spec:
          type: object
          required: [size]
          properties:
            size: {type: integer, minimum: 1}
            color: {type: string, default: blue}
        """, extraNames: ", shortNames: [wd]");

    [Fact]
    public async Task ApplyCrd_ThenCustomObject_AndGetShowsPrinterColumns()
    {
        using var kubectl = await NewKubectl();
        var group = $"k{Guid.NewGuid():N}"[..10] + ".example.io";
        Assert.Contains("created", await kubectl.OkAsync("apply -f -", WidgetCrdYaml(group)));
        Assert.Contains("created", await kubectl.OkAsync("apply -f -", $"apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: 3\n"));
        var table = await kubectl.OkAsync($"get widgets.{group}");
        var lines = table.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^NAME\s+SIZE\s+COLOR\s+AGE$", lines[0]);
        Assert.Matches(@"^w1\s+3\s+blue\s+\d+s$", lines[1]);
        Assert.Contains("unchanged", await kubectl.OkAsync("apply -f -", $"apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: 3\n"));
        var invalid = await kubectl.RunAsync("apply -f -", $"apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: w2\nspec:\n  size: 0\n");
        Assert.NotEqual(0, invalid.ExitCode);
        Assert.Contains("spec.size: Invalid value: 0", invalid.Stderr);
        var unknown = await kubectl.RunAsync("apply -f -", $"apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: w3\nspec:\n  size: 1\n  shape: round\n");
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("unknown field \"spec.shape\"", unknown.Stderr);
    }

    /// <summary>
    /// A status default (as Gateway API's CRDs use): status sent on create is dropped (status
    /// subresource), and the defaults show until a controller writes status, as kube-apiserver's
    /// defaulting on read does; a status write that removes the field shows the default again.
    /// </summary>
    [Fact]
    public async Task StatusDefaults_ShowUntilAControllerWritesStatus()
    {
        using var kubectl = await NewKubectl();
        var group = $"k{Guid.NewGuid():N}"[..10] + ".example.io";
        await kubectl.OkAsync("apply -f -", CrdYaml(group, "Job", "jobs", ["{name: Phase, type: string, jsonPath: .status.phase}"], """
            spec: {type: object, properties: {size: {type: integer}}}
            status:
              type: object
              default: {}
              properties:
                phase: {type: string, default: Pending}
                note: {type: string}
            """));
        await kubectl.OkAsync("apply -f -", $"apiVersion: {group}/v1\nkind: Job\nmetadata:\n  name: j1\nspec:\n  size: 1\nstatus:\n  phase: Done\n  note: ignored\n");
        Assert.Equal("Pending|", await kubectl.OkAsync($"get jobs.{group} j1 -o 'jsonpath={{.status.phase}}|{{.status.note}}'"));
        Assert.Matches(@"(?m)^j1\s+Pending\s*$", await kubectl.OkAsync($"get jobs.{group}"));
        await kubectl.OkAsync($$$"""patch jobs.{{{group}}} j1 --subresource=status --type merge -p '{"status":{"phase":"Done","note":"written"}}'""");
        Assert.Equal("Done|written", await kubectl.OkAsync($"get jobs.{group} j1 -o 'jsonpath={{.status.phase}}|{{.status.note}}'"));
        await kubectl.OkAsync($$$"""patch jobs.{{{group}}} j1 --subresource=status --type merge -p '{"status":{"phase":null}}'""");
        Assert.Equal("Pending|written", await kubectl.OkAsync($"get jobs.{group} j1 -o 'jsonpath={{.status.phase}}|{{.status.note}}'"));
        // An update of the main resource keeps the status as it was.
        await kubectl.OkAsync($$$"""patch jobs.{{{group}}} j1 --type merge -p '{"spec":{"size":2},"status":{"phase":"Done"}}'""");
        Assert.Equal("Pending|written|2", await kubectl.OkAsync($"get jobs.{group} j1 -o 'jsonpath={{.status.phase}}|{{.status.note}}|{{.spec.size}}'"));
    }

    [Fact]
    public async Task PatchMergeAndJson_ChangeTheObject()
    {
        using var kubectl = await NewKubectl();
        await kubectl.OkAsync("create configmap settings --from-literal=a=1");
        await kubectl.OkAsync("""patch configmap settings --type merge -p '{"data":{"b":"2"}}'""");
        await kubectl.OkAsync("""patch configmap settings --type json -p '[{"op":"replace","path":"/data/a","value":"9"}]'""");
        var data = await kubectl.OkAsync("get configmap settings -o 'jsonpath={.data.a},{.data.b}'");
        Assert.Equal("9,2", data);
    }

    [Fact]
    public async Task CreateDeployment_SetImage_RolloutStatus_AndUndo()
    {
        using var kubectl = await NewKubectl();
        await kubectl.OkAsync("create deployment web --image=nginx:1.27 --replicas=2");
        Assert.Contains("successfully rolled out", await kubectl.OkAsync("rollout status deployment/web --timeout=30s"));
        await kubectl.OkAsync("set image deployment/web nginx=nginx:1.28");
        Assert.Contains("successfully rolled out", await kubectl.OkAsync("rollout status deployment/web --timeout=30s"));
        var history = await kubectl.OkAsync("rollout history deployment/web");
        Assert.Matches(@"(?m)^1\s", history);
        Assert.Matches(@"(?m)^2\s", history);

        Assert.Contains("rolled back", await kubectl.OkAsync("rollout undo deployment/web"));
        Assert.Contains("successfully rolled out", await kubectl.OkAsync("rollout status deployment/web --timeout=30s"));
        Assert.Equal("nginx:1.27", await kubectl.OkAsync("get deployment web -o jsonpath={.spec.template.spec.containers[0].image}"));
        var sets = await kubectl.OkAsync("get rs -o 'jsonpath={range .items[*]}{.metadata.annotations.deployment\\.kubernetes\\.io/revision}:{.spec.template.spec.containers[0].image}:{.metadata.annotations.deployment\\.kubernetes\\.io/revision-history}{\"\\n\"}{end}'");
        var rows = sets.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order().ToList();
        Assert.Equal(["2:nginx:1.28:", "3:nginx:1.27:1"], rows);

        await kubectl.OkAsync("scale deployment web --replicas=3");
        Assert.Contains("successfully rolled out", await kubectl.OkAsync("rollout status deployment/web --timeout=30s"));
        Assert.Equal(2, (await kubectl.OkAsync("get rs -o name")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        await kubectl.OkAsync("rollout restart deployment/web");
        Assert.Contains("successfully rolled out", await kubectl.OkAsync("rollout status deployment/web --timeout=30s"));
        Assert.Equal("4", await kubectl.OkAsync("get deployment web -o jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}"));
    }

    [Fact]
    public async Task GetWatch_StreamsAChange()
    {
        using var kubectl = await NewKubectl();
        await kubectl.OkAsync("create deployment watched --image=nginx:1.27");
        await kubectl.OkAsync("rollout status deployment/watched --timeout=30s");
        using var watch = kubectl.Start("get deployments -w");
        var output = new StringBuilder();
        var lines = new List<string>();
        var reading = Task.Run(async () =>
        {
            while (await watch.StandardOutput.ReadLineAsync() is { } line)
            {
                lock (lines) lines.Add(line);
            }
        });
        await Eventually.True(() => { lock (lines) return lines.Any(l => l.StartsWith("watched", StringComparison.Ordinal)); }, "the initial listing");
        await kubectl.OkAsync("scale deployment watched --replicas=2");
        await Eventually.True(() => { lock (lines) return lines.Any(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^watched\s+2/2\s")); }, "the watch to show 2/2");
        watch.Kill();
        lock (lines)
        {
            Assert.Matches(@"^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$", lines[0]);
            Assert.Single(lines, l => l.StartsWith("NAME", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Delete_WithFinalizer_LeavesTheObjectUntilTheFinalizerIsRemoved()
    {
        using var kubectl = await NewKubectl();
        await kubectl.OkAsync("apply -f -", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  finalizers: [example.io/hold]\ndata: {a: b}\n");
        await kubectl.OkAsync("delete configmap held --wait=false");
        var deleting = await kubectl.OkAsync("get configmap held -o jsonpath={.metadata.deletionTimestamp}");
        Assert.NotEmpty(deleting);
        await kubectl.OkAsync("""patch configmap held --type merge -p '{"metadata":{"finalizers":null}}'""");
        var gone = await kubectl.RunAsync("get configmap held");
        Assert.NotEqual(0, gone.ExitCode);
        Assert.Contains("NotFound", gone.Stderr);
    }

    [Fact]
    public async Task ServerSideApply_Works()
    {
        using var kubectl = await NewKubectl();
        var yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: \"1\"\n";
        Assert.Contains("serverside-applied", await kubectl.OkAsync("apply --server-side -f -", yaml));
        Assert.Equal("1", await kubectl.OkAsync("get configmap ssa -o jsonpath={.data.a}"));
    }

    [Fact]
    public async Task ApiResources_ListsBuiltInsWithShortNames()
    {
        using var kubectl = await NewKubectl();
        var output = await kubectl.OkAsync("api-resources");
        Assert.Matches(@"(?m)^deployments\s+deploy\s+apps/v1\s+true\s+Deployment$", output);
        Assert.Matches(@"(?m)^leases\s+coordination.k8s.io/v1\s+true\s+Lease$", output);
    }

    [Fact]
    public async Task SecretStringData_IsStoredAsBase64Data_AndNeverReturned()
    {
        using var kubectl = await NewKubectl();
        await kubectl.OkAsync("apply -f -", "apiVersion: v1\nkind: Secret\nmetadata: {name: hooks}\nstringData: {github: s3cret}\ndata: {jira: " + Convert.ToBase64String(Encoding.UTF8.GetBytes("j1")) + "}\n");
        var secret = System.Text.Json.Nodes.JsonNode.Parse(await kubectl.OkAsync("get secret hooks -o json"))!;
        Assert.Null(secret["stringData"]);
        Assert.Equal("s3cret", Encoding.UTF8.GetString(Convert.FromBase64String((string)secret["data"]!["github"]!)));
        Assert.Equal("j1", Encoding.UTF8.GetString(Convert.FromBase64String((string)secret["data"]!["jira"]!)));
        Assert.Equal("Opaque", (string?)secret["type"]);
    }

    [Fact]
    public async Task DeleteNamespace_WithKubectl_WaitsUntilItIsGone()
    {
        using var kubectl = await NewKubectl();
        await kubectl.OkAsync("create configmap c --from-literal=a=b");
        var output = await kubectl.OkAsync($"delete namespace {kubectl.Namespace} --timeout=30s");
        Assert.Contains($"namespace \"{kubectl.Namespace}\" deleted", output, StringComparison.Ordinal);
        var get = await kubectl.RunAsync($"get namespace {kubectl.Namespace}");
        Assert.NotEqual(0, get.ExitCode);
        Assert.Contains("NotFound", get.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BothEventApis_ShowEveryEvent_EachInItsOwnShape()
    {
        using var kubectl = await NewKubectl();
        var ns = kubectl.Namespace!;
        // An event written through events.k8s.io/v1, as the operator's recorder writes them.
        var posted = await fixture.Api.PostAsync($"/apis/events.k8s.io/v1/namespaces/{ns}/events", new System.Text.Json.Nodes.JsonObject
        {
            ["apiVersion"] = "events.k8s.io/v1", ["kind"] = "Event", ["metadata"] = new System.Text.Json.Nodes.JsonObject { ["name"] = "rolled.1" },
            ["eventTime"] = "2026-11-30T10:00:00.000000Z", ["reportingController"] = "dora-operator", ["reportingInstance"] = "dora-operator-0",
            ["action"] = "Track", ["reason"] = "Restored", ["type"] = "Normal", ["note"] = "service restored after 8s",
            ["regarding"] = new System.Text.Json.Nodes.JsonObject { ["kind"] = "Incident", ["name"] = "outage", ["namespace"] = ns },
        });
        Assert.Equal(201, posted.Code);
        // kubectl get events reads core/v1: the same event, as a core Event.
        var table = await kubectl.OkAsync("get events");
        Assert.Contains("Restored", table, StringComparison.Ordinal);
        Assert.Contains("service restored after 8s", table, StringComparison.Ordinal);
        var core = System.Text.Json.Nodes.JsonNode.Parse(await kubectl.OkAsync("get events.v1. rolled.1 -o json"))!;
        Assert.Equal("outage", (string?)core["involvedObject"]!["name"]);
        Assert.Equal("dora-operator", (string?)core["reportingComponent"]);
        Assert.Equal((string?)posted.Object["metadata"]!["uid"], (string?)core["metadata"]!["uid"]);

        // And the other way round: a core Event shows through events.k8s.io/v1.
        await kubectl.OkAsync("apply -f -", "apiVersion: v1\nkind: Event\nmetadata: {name: pulled.2}\ninvolvedObject: {kind: Pod, name: web-1}\nreason: Pulled\nmessage: image pulled\ntype: Normal\nsource: {component: kubelet}\nfirstTimestamp: \"2026-11-30T10:01:00Z\"\nlastTimestamp: \"2026-11-30T10:01:00Z\"\ncount: 1\n");
        var v1 = System.Text.Json.Nodes.JsonNode.Parse(await kubectl.OkAsync("get events.v1.events.k8s.io pulled.2 -o json"))!;
        Assert.Equal("image pulled", (string?)v1["note"]);
        Assert.Equal("web-1", (string?)v1["regarding"]!["name"]);
        Assert.Equal("kubelet", (string?)v1["reportingController"]);
        Assert.Equal(1, (int)v1["deprecatedCount"]!);

        // Deleting through one API deletes it from both.
        await kubectl.OkAsync("delete events.v1.events.k8s.io rolled.1");
        Assert.NotEqual(0, (await kubectl.RunAsync("get events.v1. rolled.1")).ExitCode);
    }

    [Fact]
    public async Task EveryAnswerCarriesPriorityAndFairnessHeaders_AsKubectlPrintsThem()
    {
        using var kubectl = await NewKubectl();
        var result = await kubectl.RunAsync("get configmaps -v=8");
        Assert.Equal(0, result.ExitCode);
        // kubectl logs response headers at -v=8 with Go's canonical casing.
        Assert.Matches(@"X-Kubernetes-Pf-Flowschema-Uid: [0-9a-f-]{36}", result.Stderr);
        Assert.Matches(@"X-Kubernetes-Pf-Prioritylevel-Uid: [0-9a-f-]{36}", result.Stderr);
    }
}
