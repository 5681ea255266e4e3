using System.CommandLine;
using DoraOperator.Operator.Crds;
using DoraOperator.Operator.Hosting;
using DoraOperator.Operator.Metrics;
using DoraOperator.Operator.Sandboxing;
using Microsoft.Extensions.Logging;

// Idle thread-pool workers sleep at once instead of spinning for work first: work comes in small
// pieces (a watch event, a reconcile), so the spinning mostly burned CPU (docs/rollouts.md). Set
// before the pool starts, where the Native AOT binary reads it too (it does not take it from
// runtimeconfig); DOTNET_ThreadPool_UnfairSemaphoreSpinLimit overrides it.
if (Environment.GetEnvironmentVariable("DOTNET_ThreadPool_UnfairSemaphoreSpinLimit") is null)
{
    AppContext.SetData("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit", 0);
}

var kubeconfig = new Option<string?>("--kubeconfig") { Description = "Path to a kubeconfig file (default: KUBECONFIG, ~/.kube/config, or in-cluster config inside a pod)." };
var context = new Option<string?>("--context") { Description = "The kubeconfig context to use (default: its current context)." };
var namespaces = new Option<string[]>("--namespaces")
{
    Description = "Namespaces to watch, comma-separated or repeated (default: all).",
    AllowMultipleArgumentsPerToken = true,
    CustomParser = r => r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray(),
};
var leaderElect = new Option<bool?>("--leader-elect") { Description = "Elect a leader on a Lease so only one replica writes (default: on in a cluster, off outside)." };
var httpPort = new Option<int>("--http-port") { Description = "Port for /metrics, /api/v1/projects, /healthz and /readyz.", DefaultValueFactory = _ => 8080 };
var otlpEndpoint = new Option<string?>("--otlp-endpoint") { Description = "Push metrics by OTLP to this endpoint (default: OTEL_EXPORTER_OTLP_ENDPOINT; off when neither is set)." };
var clusterName = new Option<string?>("--cluster-name") { Description = "The k8s.cluster.name resource attribute on pushed metrics." };
var qps = new Option<double?>("--kube-api-qps")
{
    Description = "Client-side limit on Kubernetes API requests per second (0: off). Default: none when the API server applies Priority and Fairness (Kubernetes 1.20+, seen in its answers; its 429 Retry-After is honoured), else 100.",
};
var burst = new Option<int>("--kube-api-burst") { Description = "Burst allowed above --kube-api-qps.", DefaultValueFactory = _ => 200 };
var maxProjects = new Option<int>("--metrics-max-projects")
{
    Description = "Projects the DORA metrics have room for (memory is reserved up front: about 10 KB per project).",
    DefaultValueFactory = _ => MetricsExportOptions.DefaultMaxProjects,
};
var workers = new Option<int>("--workers") { Description = "Concurrent reconciles of the rollout tracker (the incident and project controllers run one each).", DefaultValueFactory = _ => OperatorOptions.DefaultWorkers };
var intakePort = new Option<int>("--intake-port") { Description = "Port of the HTTP intake for CI pipelines and incident tools (0 turns it off).", DefaultValueFactory = _ => 8081 };
var intakeAuth = new Option<DoraOperator.Operator.Intake.IntakeAuth>("--intake-auth")
{
    Description = "How intake callers authenticate: Kubernetes (a bearer token checked by TokenReview and SubjectAccessReview) or None (anyone; logged as a warning).",
    DefaultValueFactory = _ => DoraOperator.Operator.Intake.IntakeAuth.Kubernetes,
};
var intakeRate = new Option<double>("--intake-rate") { Description = "Requests a second each intake client may send, with a burst of twice that (0: no limit); over it: 429 with Retry-After.", DefaultValueFactory = _ => 50 };
var webhookSecretsDir = new Option<string?>("--webhook-secrets-dir") { Description = "Directory with the signed webhooks' secrets, a file per source: github, gitlab, pagerduty, opsgenie, jira (one secret per line)." };
var intakeCredentials = new Option<string?>("--intake-credentials-file") { Description = "File of static intake credentials for tools without a Kubernetes token, a line each: token|basic <name> <secret> <namespace>[,<namespace>...] (see docs/intake.md)." };
InRange(maxProjects, 1, 100_000);
InRange(intakePort, 0, 65535);
InRange(workers, 1, 64);

var root = new RootCommand(
    "DoraOperator measures the DORA metrics of the workloads on a Kubernetes cluster.\n" +
    "Run without a command, it records every rollout of the Deployments that DoraProjects select (DeploymentRecords),\n" +
    "tracks Incidents, writes each project's four keys to its status, and serves /metrics and /api/v1/projects.")
{
    kubeconfig, context, namespaces, leaderElect, httpPort, intakePort, intakeAuth, intakeRate, webhookSecretsDir, intakeCredentials, otlpEndpoint, clusterName, qps, burst, workers, maxProjects,
    new Command("generate", "Generate files derived from the code.") { GenerateCrdsCommand.Create() },
    SandboxCommand.Create(),
    DoraOperator.Operator.Insights.ReportCommand.Create(),
};
root.SetAction(async (parse, cancellationToken) =>
{
    using var loggers = OperatorLogging.Create(LogLevel.Information);
    var options = new OperatorOptions
    {
        Kubeconfig = parse.GetValue(kubeconfig),
        Context = parse.GetValue(context),
        Namespaces = parse.GetValue(namespaces) ?? [],
        LeaderElect = parse.GetValue(leaderElect),
        HttpPort = parse.GetValue(httpPort),
        KubeApiQps = parse.GetValue(qps),
        KubeApiBurst = parse.GetValue(burst),
        Workers = parse.GetValue(workers),
        Intake = new DoraOperator.Operator.Intake.IntakeOptions
        {
            Port = parse.GetValue(intakePort),
            Auth = parse.GetValue(intakeAuth),
            RatePerClient = parse.GetValue(intakeRate),
            BurstPerClient = Math.Max(1, (int)Math.Ceiling(parse.GetValue(intakeRate) * 2)),
            WebhookSecretsDir = parse.GetValue(webhookSecretsDir),
            StaticCredentialsFile = parse.GetValue(intakeCredentials),
        },
        MetricsExport = MetricsExportOptions.FromEnvironment(parse.GetValue(clusterName), parse.GetValue(otlpEndpoint)) with { MaxProjects = parse.GetValue(maxProjects) },
    };
    OperatorHost host;
    try
    {
        host = await OperatorHost.StartAsync(options, loggers, cancellationToken: cancellationToken);
    }
    catch (OperatorStartupException e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
    await using (host)
    {
        Console.WriteLine($"DoraOperator running; health on {host.HttpUrl}healthz, readiness on {host.HttpUrl}readyz{(host.IntakeUrl is { } intake ? $", intake on {intake}" : "")}. Ctrl+C stops it.");
        await DoraOperator.Sandbox.ProcessSignals.WaitForStopAsync();
        Console.WriteLine("stopping");
    }
    return 0;
});
return await root.Parse(args).InvokeAsync();

static void InRange(Option<int> option, int min, int max) => option.Validators.Add(r =>
{
    var value = r.GetValueOrDefault<int>();
    if (value < min || value > max)
        r.AddError(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{option.Name} must be between {min:N0} and {max:N0}"));
});
