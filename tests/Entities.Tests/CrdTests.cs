using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Schema;
using DoraOperator.Sandbox;
using DoraOperator.Testing;

namespace DoraOperator.Entities.Tests;

/// <summary>The CRDs as users meet them: generated files, samples applied with kubectl, the API server's rejections.</summary>
public sealed class CrdTests : IAsyncLifetime
{
    private SandboxApiServer _server = null!;
    private Kubectl _kubectl = null!;
    private readonly string _kubeconfig = Path.GetTempFileName();

    public async Task InitializeAsync()
    {
        _server = await SandboxApiServer.StartAsync(new SandboxOptions { KubeconfigPath = _kubeconfig });
        _kubectl = new Kubectl(_kubeconfig, "shop");
        await _kubectl.OkAsync("create namespace shop -n default");
        var applied = await _kubectl.OkAsync($"apply -f {Repo.Path("config", "crds")}");
        Assert.Equal(3, Regex.Count(applied, "created"));
    }

    public async Task DisposeAsync()
    {
        _kubectl.Dispose();
        await _server.DisposeAsync();
        File.Delete(_kubeconfig);
    }

    [Fact]
    public void ConfigCrds_AreUpToDateWithTheEntityTypes()
    {
        foreach (var (file, yaml) in CrdGenerator.GenerateAll())
        {
            var path = Repo.Path("config", "crds", file);
            Assert.True(File.Exists(path), $"{path} is missing: run dotnet run --project src/Operator -- generate crds --output config/crds");
            Assert.True(File.ReadAllText(path) == yaml, $"{path} is stale: run dotnet run --project src/Operator -- generate crds --output config/crds");
        }
        Assert.Equal(3, Directory.GetFiles(Repo.Path("config", "crds"), "*.yaml").Length);
    }

    [Fact]
    public async Task Samples_ApplyCleanly_AndReadBackWithDefaults()
    {
        foreach (var sample in Directory.GetFiles(Repo.Path("config", "samples"), "*.yaml"))
        {
            var result = await _kubectl.RunAsync($"apply -f {sample}");
            Assert.True(result.ExitCode == 0, $"{sample}: {result}");
            Assert.DoesNotContain("Warning", result.Stderr);
        }
        var project = JsonNode.Parse(await _kubectl.OkAsync("get doraproject checkout -o json"))!;
        Assert.Equal("dora-2023", (string?)project["spec"]!["benchmark"]);
        Assert.Equal("24h", (string?)project["spec"]!["incidentAttribution"]!["maxAge"]);
        var incident = JsonNode.Parse(await _kubectl.OkAsync("get incident checkout-latency -o json"))!;
        Assert.Equal("alertmanager", (string?)incident["spec"]!["source"]);

        await _kubectl.OkAsync("apply -f -", "apiVersion: dora-operator.io/v1alpha1\nkind: DoraProject\nmetadata:\n  name: minimal\nspec: {}\n");
        var minimal = JsonNode.Parse(await _kubectl.OkAsync("get dp minimal -o json"))!["spec"]!;
        Assert.Equal("production", (string?)minimal["environment"]);
        Assert.Equal("30d", (string?)minimal["window"]);
        Assert.Equal("dora-2023", (string?)minimal["benchmark"]);
        Assert.Equal("commit", (string?)minimal["leadTimeFrom"]);

        await _kubectl.OkAsync("apply -f -", "apiVersion: dora-operator.io/v1alpha1\nkind: Incident\nmetadata:\n  name: bare\nspec:\n  project: checkout\n");
        var bare = JsonNode.Parse(await _kubectl.OkAsync("get inc bare -o json"))!["spec"]!;
        Assert.Equal("medium", (string?)bare["severity"]);
        Assert.Equal("manual", (string?)bare["source"]);
    }

    [Theory]
    [InlineData("Incident", "spec:\n  title: no project", "spec.project: Required value")]
    [InlineData("Incident", "spec:\n  project: checkout\n  severity: urgent", "spec.severity: Unsupported value: \"urgent\"")]
    [InlineData("Incident", "spec:\n  project: checkout\n  startedAt: yesterday", "spec.startedAt: Invalid value: \"yesterday\"")]
    [InlineData("DoraProject", "spec:\n  window: a month", "spec.window: Invalid value: \"a month\"")]
    [InlineData("DoraProject", "spec:\n  benchmark: dora-2019", "spec.benchmark: Unsupported value: \"dora-2019\"")]
    [InlineData("DoraProject", "spec:\n  retention:\n    maxRecords: 0", "spec.retention.maxRecords: Invalid value: 0")]
    [InlineData("DeploymentRecord", "spec:\n  project: checkout\n  revision: 1", "spec.workload: Required value")]
    [InlineData("DeploymentRecord", "spec:\n  project: checkout\n  revision: 1\n  workload: {name: web}\n  source: ftp", "spec.source: Unsupported value: \"ftp\"")]
    public async Task InvalidObjects_AreRejectedByTheApiServer_WithAFieldPath(string kind, string body, string expected)
    {
        var yaml = $"apiVersion: dora-operator.io/v1alpha1\nkind: {kind}\nmetadata:\n  name: bad-{Guid.NewGuid():N}\n{body}\n";
        var result = await _kubectl.RunAsync("apply -f -", yaml);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("is invalid", result.Stderr);
        Assert.Contains(expected, result.Stderr);
    }

    [Theory]
    [InlineData("restoredAt", "spec.restoredAt: Invalid value: \"object\": restoredAt must not be before startedAt")]
    [InlineData("resolvedAt", "spec.resolvedAt: Invalid value: \"object\": resolvedAt must not be before startedAt")]
    public async Task IncidentTimesBeforeTheStart_AreRejectedByTheCelRule(string field, string expected)
    {
        var yaml = $"apiVersion: dora-operator.io/v1alpha1\nkind: Incident\nmetadata:\n  name: backwards\nspec:\n  project: checkout\n  startedAt: \"2026-11-02T10:00:00Z\"\n  {field}: \"2026-11-01T10:00:00Z\"\n";
        var result = await _kubectl.RunAsync("apply -f -", yaml);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(expected, result.Stderr);
        var fine = yaml.Replace("2026-11-01T10:00:00Z", "2026-11-02T11:00:00+01:00", StringComparison.Ordinal);
        Assert.Equal(0, (await _kubectl.RunAsync("apply -f -", fine)).ExitCode);
    }

    [Fact]
    public async Task CustomBenchmark_WithoutThresholds_IsRejected()
    {
        var result = await _kubectl.RunAsync("apply -f -", "apiVersion: dora-operator.io/v1alpha1\nkind: DoraProject\nmetadata:\n  name: custom\nspec:\n  benchmark: custom\n");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("benchmark 'custom' needs spec.thresholds", result.Stderr);
    }

    [Fact]
    public async Task KubectlGet_ShowsThePrinterColumns()
    {
        await _kubectl.OkAsync($"apply -f {Repo.Path("config", "samples")}");
        await _kubectl.OkAsync("apply -f -", "apiVersion: dora-operator.io/v1alpha1\nkind: DeploymentRecord\nmetadata:\n  name: checkout-7\nspec:\n  project: checkout\n  revision: 7\n  workload: {name: checkout}\n");
        await _kubectl.OkAsync("""patch dr checkout-7 --subresource status --type merge -p '{"status":{"phase":"Succeeded","leadTimeSeconds":8640,"display":{"leadTime":"2.4h"}}}'""");
        await _kubectl.OkAsync("""patch dp checkout --subresource status --type merge -p '{"status":{"display":{"deploysPerDay":"1.3","leadTime":"2.4h","changeFailureRate":"12%","recoveryTime":"42m","tier":"high"}}}'""");
        var output = await _kubectl.OkAsync("get dora,dr,inc");
        Assert.Matches(@"(?m)^NAME\s+DEPLOYS/DAY\s+LEAD TIME\s+CFR\s+RECOVERY\s+TIER\s+AGE$", output);
        Assert.Matches(@"(?m)^doraproject.dora-operator.io/checkout\s+1.3\s+2.4h\s+12%\s+42m\s+high\s+\d+s$", output);
        Assert.Matches(@"(?m)^NAME\s+PROJECT\s+WORKLOAD\s+REVISION\s+PHASE\s+LEAD TIME\s+AGE$", output);
        Assert.Matches(@"(?m)^deploymentrecord.dora-operator.io/checkout-7\s+checkout\s+checkout\s+7\s+Succeeded\s+2.4h\s+\d+s$", output);
        Assert.Matches(@"(?m)^NAME\s+PROJECT\s+SEVERITY\s+PHASE\s+STARTED\s+RESTORED IN\s+AGE$", output);
        Assert.Matches(@"(?m)^incident.dora-operator.io/checkout-500s\s+checkout\s+high\s+\S+\s+\d+s$", output);
        Assert.Contains("checkout", await _kubectl.OkAsync("get dora"));
    }

    [Fact]
    public void EveryKind_RoundTrips_AndToleratesUnknownFields()
    {
        var project = """{"apiVersion":"dora-operator.io/v1alpha1","kind":"DoraProject","metadata":{"name":"p"},"spec":{"window":"2w","selector":{"matchLabels":{"a":"b"}},"futureKnob":true},"status":{"tier":"elite","deploymentFrequency":{"perDay":3.5,"count":105,"bucket":"On demand","tier":"elite"},"conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2026-11-01T00:00:00Z","reason":"Calculated","message":"ok"}]}}""";
        var record = """{"apiVersion":"dora-operator.io/v1alpha1","kind":"DeploymentRecord","metadata":{"name":"web-3"},"spec":{"project":"p","workload":{"apiVersion":"apps/v1","kind":"Deployment","name":"web","uid":"u"},"revision":3,"commitTime":"2026-11-01T08:00:00+02:00"},"status":{"phase":"Succeeded","leadTimeSeconds":3600.5,"incidents":["i1"],"newThing":1}}""";
        var incident = """{"apiVersion":"dora-operator.io/v1alpha1","kind":"Incident","metadata":{"name":"i1"},"spec":{"project":"p","severity":"critical","startedAt":"2026-11-01T10:00:00Z","restoredAt":"2026-11-01T10:30:00Z"},"status":{"phase":"Restored","timeToRestoreSeconds":1800}}""";

        var p = JsonSerializer.Deserialize(project, DoraProject.JsonType)!;
        Assert.Equal("2w", p.Spec.Window);
        Assert.Equal(105, p.Status!.DeploymentFrequency!.Count);
        Assert.True(p.Spec.Selector!.MatchLabels!.ContainsKey("a"));
        var r = JsonSerializer.Deserialize(record, DeploymentRecord.JsonType)!;
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 6, 0, 0, TimeSpan.Zero), r.Spec.CommitTime);
        Assert.Equal(3600.5, r.Status!.LeadTimeSeconds);
        var i = JsonSerializer.Deserialize(incident, Incident.JsonType)!;
        Assert.Equal(1800, i.Status!.TimeToRestoreSeconds);

        var again = JsonNode.Parse(JsonSerializer.Serialize(r, DeploymentRecord.JsonType))!;
        Assert.Equal("2026-11-01T06:00:00Z", (string?)again["spec"]!["commitTime"]);
        Assert.Equal(3, (long)again["spec"]!["revision"]!);
        var roundTrip = JsonSerializer.Deserialize(JsonSerializer.Serialize(i, Incident.JsonType), Incident.JsonType)!;
        Assert.Equal(i.Spec.RestoredAt, roundTrip.Spec.RestoredAt);
        Assert.Equal("critical", roundTrip.Spec.Severity);
    }
}
