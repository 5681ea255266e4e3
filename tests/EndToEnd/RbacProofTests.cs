using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using DoraOperator.Operator.Hosting;
using DoraOperator.Sandbox;
using DoraOperator.Sandbox.Security;
using DoraOperator.Testing;
using Microsoft.Extensions.Logging;

namespace DoraOperator.EndToEnd;

/// <summary>
/// The chart's RBAC rules against what the operator really calls: the Sandbox enforces RBAC, the
/// operator runs as a ServiceAccount bound to exactly the chart's rules, a scenario exercises every
/// path, and the audit of that ServiceAccount must equal the grant (plus leader election).
/// </summary>
public sealed class RbacProofTests : IAsyncLifetime
{
    private const string OperatorNamespace = "dora";
    private const string ServiceAccount = "dora-operator";
    private const string User = $"system:serviceaccount:{OperatorNamespace}:{ServiceAccount}";
    private readonly string _dir = Directory.CreateTempSubdirectory("rbac-proof-").FullName;
    private readonly LogSink _logs = new();
    private SandboxApiServer _server = null!;
    private Kubectl _admin = null!;
    private string _operatorKubeconfig = null!;

    public async Task InitializeAsync()
    {
        _server = await SandboxApiServer.StartAsync(new SandboxOptions { Authorization = AuthorizationMode.Rbac, RolloutPace = DoraOperator.Sandbox.Controllers.RolloutPace.After(TimeSpan.FromMilliseconds(200)) });
        var admin = Path.Combine(_dir, "admin");
        await _server.WriteKubeconfigAsync(admin);
        _operatorKubeconfig = Path.Combine(_dir, "operator");
        await _server.WriteKubeconfigAsync(_operatorKubeconfig, OperatorNamespace, _server.AddServiceAccountToken(OperatorNamespace, ServiceAccount));
        _admin = new Kubectl(admin, "shop");
        await _admin.OkAsync($"apply -f {Repo.Path("charts", "dora-operator", "crds")}");
        // Argo Rollouts installed, so the operator's rules for it are exercised too.
        await _admin.OkAsync("apply -f -", DoraOperator.Sandbox.Controllers.ArgoRolloutSimulator.CrdManifest);
        await _admin.OkAsync("create namespace dora");
        await _admin.OkAsync("create namespace shop");
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>The rules of a chart rules file (rbac/*.yaml), as JSON.</summary>
    internal static JsonArray ChartRules(string file)
    {
        return YamlJson.Parse(File.ReadAllText(Repo.Path("charts", "dora-operator", "rbac", file)))!.AsArray();
    }

    private static IEnumerable<(string Verb, string Group, string Resource)> Expand(JsonArray rules) =>
        from rule in rules
        from g in rule!["apiGroups"]!.AsArray()
        from r in rule["resources"]!.AsArray()
        from v in rule["verbs"]!.AsArray()
        select ((string)v!, (string)g!, (string)r!);

    private async Task GrantAsync(JsonArray operatorRules)
    {
        var clusterRole = new JsonObject
        {
            ["apiVersion"] = "rbac.authorization.k8s.io/v1", ["kind"] = "ClusterRole", ["metadata"] = new JsonObject { ["name"] = "dora-operator" }, ["rules"] = operatorRules,
        };
        var leaseRole = new JsonObject
        {
            ["apiVersion"] = "rbac.authorization.k8s.io/v1", ["kind"] = "Role", ["metadata"] = new JsonObject { ["name"] = "dora-operator-leader-election", ["namespace"] = OperatorNamespace },
            ["rules"] = ChartRules("leader-election-rules.yaml"),
        };
        await _admin.OkAsync("apply -f -", clusterRole.ToJsonString());
        using (var inOperatorNamespace = new Kubectl(_admin.KubeconfigPath, OperatorNamespace)) await inOperatorNamespace.OkAsync("apply -f -", leaseRole.ToJsonString());
        await _admin.OkAsync($"create clusterrolebinding dora-operator --clusterrole=dora-operator --serviceaccount={OperatorNamespace}:{ServiceAccount}");
        var intakeRole = new JsonObject
        {
            ["apiVersion"] = "rbac.authorization.k8s.io/v1", ["kind"] = "ClusterRole", ["metadata"] = new JsonObject { ["name"] = "dora-operator-intake" }, ["rules"] = ChartRules("intake-rules.yaml"),
        };
        await _admin.OkAsync("apply -f -", intakeRole.ToJsonString());
        await _admin.OkAsync($"create clusterrolebinding dora-operator-intake --clusterrole=dora-operator-intake --serviceaccount={OperatorNamespace}:{ServiceAccount}");
        using var leaseBinding = new Kubectl(_admin.KubeconfigPath, OperatorNamespace);
        await leaseBinding.OkAsync($"create rolebinding dora-operator-leader-election --role=dora-operator-leader-election --serviceaccount={OperatorNamespace}:{ServiceAccount}");
    }

    private async Task<OperatorHost> StartOperatorAsync(bool waitReady = true)
    {
        var loggers = LoggerFactory.Create(b => b.AddProvider(_logs).SetMinimumLevel(LogLevel.Information));
        var host = await OperatorHost.StartAsync(new OperatorOptions
        {
            Kubeconfig = _operatorKubeconfig, LeaderElect = true, LeaseNamespace = OperatorNamespace, HttpPort = 0, Intake = new() { Port = Ports.Unused(), Address = "127.0.0.1" }, HttpAddress = "127.0.0.1", KubeApiQps = 0,
            RetentionInterval = TimeSpan.FromSeconds(1), MinStatusInterval = TimeSpan.FromMilliseconds(200),
            RetryPeriod = TimeSpan.FromMilliseconds(200), LeaseDuration = TimeSpan.FromSeconds(3), RenewDeadline = TimeSpan.FromSeconds(2),
        }, loggers);
        if (waitReady) await Eventually.True(() => host.Ready && host.IsLeader, "the operator to sync and lead");
        return host;
    }

    [Fact]
    public async Task TheChartGrantsExactlyWhatTheOperatorUses()
    {
        var operatorRules = ChartRules("operator-rules.yaml");
        await GrantAsync(operatorRules);
        await using var host = await StartOperatorAsync();

        // A project keeping 2 records (retention deletes), three releases, an incident without a start
        // (the operator patches the default) linked to a record (read, then its status updated), and a
        // Deployment naming a missing project, touched twice (a repeated Warning event becomes a series).
        await _admin.OkAsync("apply -f -", """
            apiVersion: dora-operator.io/v1alpha1
            kind: DoraProject
            metadata: {name: shop}
            spec:
              selector:
                matchLabels: {team: shop}
              retention: {maxRecords: 2}
            """);
        await _admin.OkAsync("create deployment web --image=web:1");
        await _admin.OkAsync("label deployment web team=shop");
        foreach (var image in new[] { "web:2", "web:3" })
        {
            await _admin.OkAsync($"set image deployment/web web={image}");
            await _admin.OkAsync("rollout status deployment/web --timeout=30s");
        }
        await _admin.WaitForAsync("dr web-3", r => (string?)r["status"]?["phase"] == "Succeeded", "web-3");
        await _admin.OkAsync("apply -f -", "apiVersion: dora-operator.io/v1alpha1\nkind: Incident\nmetadata: {name: outage}\nspec: {project: shop, deploymentRef: web-3}\n");
        await _admin.WaitForAsync("dr web-3", r => r["status"]?["incidents"] is not null, "the incident linked to web-3");
        await _admin.WaitForAsync("inc outage", i => i["spec"]?["startedAt"] is not null, "startedAt defaulted");
        await Eventually.Until(() => _admin.OkAsync("get dr -o name"), names => !names.Contains("web-1", StringComparison.Ordinal), "retention to delete web-1");
        await _admin.OkAsync("create deployment orphan --image=o:1");
        await _admin.OkAsync("annotate deployment orphan dora-operator.io/project=missing");
        await _admin.OkAsync("label deployment orphan touched=1");
        await _admin.OkAsync("label deployment orphan touched=2 --overwrite");
        // A CI pipeline reports a deployment through the intake with its own ServiceAccount token.
        await _admin.OkAsync("create role ci --verb=create --resource=deploymentrecords.dora-operator.io,incidents.dora-operator.io");
        await _admin.OkAsync("create rolebinding ci --role=ci --serviceaccount=shop:ci");
        using (var intake = new HttpClient { BaseAddress = host.IntakeUrl })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/deployments/ci-1/deployed")
            {
                Content = new StringContent("""{"create_if_not_exists":true,"project_id":"shop/shop"}""", System.Text.Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _server.AddServiceAccountToken("shop", "ci"));
            using var reply = await intake.SendAsync(request);
            Assert.True(reply.StatusCode == System.Net.HttpStatusCode.Created, await reply.Content.ReadAsStringAsync());
            // An incident opened, then restored: the second request reads the incident and patches it.
            foreach (var (path, body) in new[] { ("/incidents", """{"id":"INC-1","project_id":"shop/shop"}"""), ("/incidents/INC-1/restored", "{}") })
            {
                using var post = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
                post.Headers.Authorization = request.Headers.Authorization;
                using var answer = await intake.SendAsync(post);
                Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
                await Eventually.Until(() => _admin.OkAsync("get inc -o name"), names => names.Contains("api-inc-1", StringComparison.Ordinal), "the intake incident in the cache");
            }
        }
        await _admin.WaitForAsync("dora shop", p => (int?)p["status"]?["changeFailureRate"]?["count"] == 1, "the project status");
        await Eventually.True(() => Used().Contains(("patch", "events.k8s.io", "events")), "a repeated event to be patched");

        Assert.DoesNotContain(_logs.Messages, m => m.Contains("forbidden", StringComparison.OrdinalIgnoreCase));
        var granted = Expand(operatorRules).Concat(Expand(ChartRules("intake-rules.yaml"))).ToHashSet();
        var leases = Expand(ChartRules("leader-election-rules.yaml")).ToHashSet();
        var used = Used();
        Assert.Empty(used.Except(granted).Except(leases));
        Assert.Empty(granted.Except(used));
    }

    [Fact]
    public async Task AMissingRuleIsReportedWithTheAPIServers403()
    {
        var rules = new JsonArray(ChartRules("operator-rules.yaml").Where(r => !r!["resources"]!.AsArray().Any(x => (string?)x == "incidents")).Select(r => r!.DeepClone()).ToArray());
        await GrantAsync(rules);
        await using var host = await StartOperatorAsync(waitReady: false);
        var message = await Eventually.Until(() => Task.FromResult(_logs.Messages.FirstOrDefault(m => m.Contains("forbidden", StringComparison.Ordinal))), m => m is not null, "a 403 in the operator's log");
        Assert.Contains($"incidents.dora-operator.io is forbidden: User \"{User}\" cannot list resource \"incidents\" in API group \"dora-operator.io\" at the cluster scope", message);
        Assert.False(host.Ready);
        using var http = new HttpClient();
        Assert.Equal(503, (int)(await http.GetAsync(new Uri(host.HttpUrl!, "/readyz"))).StatusCode);
    }

    private HashSet<(string Verb, string Group, string Resource)> Used() =>
        _server.Audit.Keys.Where(k => k.User == User)
            .Select(k => (k.Verb, k.Group, k.Subresource is null ? k.Resource : $"{k.Resource}/{k.Subresource}"))
            .ToHashSet();

    private sealed class LogSink : ILoggerProvider
    {
        public ConcurrentQueue<string> Queue { get; } = new();

        public IEnumerable<string> Messages => Queue;

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(LogSink sink) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                sink.Queue.Enqueue($"{logLevel}: {formatter(state, exception)}");
        }
    }
}
