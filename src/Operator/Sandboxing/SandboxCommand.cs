using System.CommandLine;
using System.Net.Http.Json;
using DoraOperator.Entities.Schema;
using DoraOperator.Operator.Hosting;
using DoraOperator.Sandbox;
using DoraOperator.Sandbox.Controllers;
using Microsoft.Extensions.Logging;

namespace DoraOperator.Operator.Sandboxing;

/// <summary>
/// <c>sandbox</c>: the product on a laptop with no cluster. Starts the in-memory API server with its
/// simulated Deployment controller, installs the CRDs (generated from the entity types), runs the
/// real operator against it over HTTPS like against any cluster, and writes a kubeconfig.
/// With <c>--demo</c> it also plays a delivery history (<see cref="DemoDriver"/>). While it runs, a
/// live table shows each project's numbers.
/// </summary>
internal static class SandboxCommand
{
    public static Command Create()
    {
        var apiPort = new Option<int>("--api-port") { Description = "Port of the Sandbox API server on 127.0.0.1 (default: a free port, printed)." };
        var httpPort = new Option<int>("--http-port") { Description = "Port of the operator's /metrics, /api/v1/projects, /healthz and /readyz (0: any free port).", DefaultValueFactory = _ => 8080 };
        var intakePort = new Option<int>("--intake-port") { Description = "Port of the operator's HTTP intake (0 turns it off). It accepts the kubeconfig's token.", DefaultValueFactory = _ => 8081 };
        var kubeconfigOut = new Option<string>("--kubeconfig-out") { Description = "Where to write the kubeconfig for kubectl.", DefaultValueFactory = _ => "sandbox.kubeconfig" };
        var rolloutSeconds = new Option<double>("--rollout-seconds") { Description = "How long a simulated rollout takes.", DefaultValueFactory = _ => 1.5 };
        var demo = new Option<bool>("--demo") { Description = "Create four DoraProjects of three teams with their Deployments, play six weeks of their delivery history in about a minute (releases, failed rollouts, rollbacks, incidents, a restart), then keep releasing in real time." };
        var command = new Command("sandbox", "Run DoraOperator against an in-memory Kubernetes API server: no cluster needed.")
        {
            apiPort, httpPort, intakePort, kubeconfigOut, rolloutSeconds, demo,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            // The live table owns an interactive terminal: logs below Warning would tear it.
            var interactive = !Console.IsOutputRedirected;
            using var loggers = OperatorLogging.Create(interactive ? LogLevel.Warning : LogLevel.Information);
            var kubeconfig = parse.GetValue(kubeconfigOut)!;
            var seconds = parse.GetValue(rolloutSeconds);
            // The demo's history is written on a clock that starts weeks back and catches up with real time.
            TimeProvider clock = parse.GetValue(demo) ? new DemoClock(DemoHistory.Length) : TimeProvider.System;
            await using var api = await SandboxApiServer.StartAsync(new SandboxOptions
            {
                TimeProvider = clock,
                Port = parse.GetValue(apiPort),
                KubeconfigPath = kubeconfig,
                RolloutPace = seconds <= 0 ? RolloutPace.Immediate : RolloutPace.After(TimeSpan.FromSeconds(seconds)),
            }, cancellationToken);
            using (var http = api.CreateHttpClient())
            {
                foreach (var (type, resource) in CrdGenerator.Kinds)
                {
                    using var body = new StringContent(CrdGenerator.Generate(type, resource).ToJsonString(), System.Text.Encoding.UTF8, "application/json");
                    using var reply = await http.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body, cancellationToken);
                    if (!reply.IsSuccessStatusCode) throw new InvalidOperationException($"installing the {resource.Kind} CRD failed: {await reply.Content.ReadAsStringAsync(cancellationToken)}");
                }
            }
            // The signed webhooks' secrets live in a Secret (as on a cluster) and, for the operator, in a temporary folder removed at exit.
            var webhookSecrets = Directory.CreateTempSubdirectory("dora-webhook-secrets-").FullName;
            using var removeSecrets = new DirectoryRemoval(webhookSecrets);
            await WebhookSecretsAsync(api, webhookSecrets, cancellationToken);
            OperatorHost host;
            try
            {
                host = await OperatorHost.StartAsync(new OperatorOptions
                {
                    Kubeconfig = kubeconfig, LeaderElect = false, HttpPort = parse.GetValue(httpPort), HttpAddress = "127.0.0.1",
                    Intake = new Intake.IntakeOptions { Port = parse.GetValue(intakePort), Address = "127.0.0.1", WebhookSecretsDir = webhookSecrets },
                }, loggers, clock, cancellationToken);
            }
            catch (OperatorStartupException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"error: the operator's HTTP port is not free ({e.Message}). Pass --http-port with another port, or 0 for any.");
                return 1;
            }
            await using (host)
            {
                var ns = parse.GetValue(demo) ? "namespaces demo, payments, data" : "namespace default";
                Console.WriteLine($$"""

                    DoraOperator sandbox is running.
                      API server:  {{api.Url}}   (kubeconfig: {{Path.GetFullPath(kubeconfig)}})
                      operator:    {{host.HttpUrl}}metrics  {{host.HttpUrl}}api/v1/projects  {{host.HttpUrl}}healthz
                      intake:      {{host.IntakeUrl?.ToString() ?? "off"}}   (webhook secrets: kubectl -n default get secret dora-operator-webhooks -o yaml)

                    Try, in another terminal:
                      export KUBECONFIG={{Path.GetFullPath(kubeconfig)}}

                    """ + (parse.GetValue(demo) ? $$"""
                      kubectl -n demo get dora,dr,inc
                      kubectl -n demo describe inc checkout-errors
                      kubectl -n demo set image deployment/frontend frontend=registry.example/storefront:2.0
                      curl -s {{host.HttpUrl}}metrics | grep '^dora_'
                    """ : """
                      kubectl apply -f config/samples/doraproject.yaml
                      kubectl create deployment checkout --image=nginx:1.27
                      kubectl label deployment checkout app.kubernetes.io/part-of=checkout
                      kubectl annotate deployment checkout dora-operator.io/commit-time=$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%SZ)
                      kubectl set image deployment/checkout nginx=nginx:1.28
                      kubectl get dora,dr,inc -w
                    """) + (host.IntakeUrl is { } intake ? $$"""

                      # a deployment from CI, through the intake (the kubeconfig's token is accepted):
                      curl -s -X POST {{intake}}deployments -H 'Authorization: Bearer {{api.AdminToken}}' -H 'Content-Type: application/json' \
                        -d '{"id":"ci-42","project_id":"{{(parse.GetValue(demo) ? DemoDriver.Namespace + "/" + DemoDriver.Project : "default/checkout")}}","first_commit_at":"'$(date -u -d '-3 hours' +%Y-%m-%dT%H:%M:%SZ)'","deployed_at":"'$(date -u +%Y-%m-%dT%H:%M:%SZ)'"}'
                    """ : "") + """

                    Ctrl+C stops everything.
                    """);
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var tasks = new List<Task>();
                if (parse.GetValue(demo)) tasks.Add(new DemoDriver(api, host.IntakeUrl, clock, loggers.CreateLogger<DemoDriver>()).RunAsync(stop.Token));
                tasks.Add(LiveTable.RunAsync(() => host.Aggregator.LastReports, $"[grey]{ns} · Ctrl+C stops[/]", TimeProvider.System, stop.Token));
                await DoraOperator.Sandbox.ProcessSignals.WaitForStopAsync();
                await stop.CancelAsync();
                await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(2), CancellationToken.None).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
                Console.WriteLine("stopping");
            }
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Random secrets for the signed webhooks, as a platform team would keep them: the Secret
    /// <c>default/dora-operator-webhooks</c>, and a file per source in <paramref name="dir"/> (what the chart mounts).
    /// </summary>
    private static async Task WebhookSecretsAsync(SandboxApiServer api, string dir, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(dir);
        var data = new System.Text.Json.Nodes.JsonObject();
        foreach (var source in (string[])["github", "gitlab", "pagerduty", "opsgenie", "jira"])
        {
            var secret = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20));
            await File.WriteAllTextAsync(Path.Combine(dir, source), secret + "\n", cancellationToken);
            data[source] = secret;
        }
        using var http = api.CreateHttpClient();
        var manifest = new System.Text.Json.Nodes.JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "Secret", ["metadata"] = new System.Text.Json.Nodes.JsonObject { ["name"] = "dora-operator-webhooks", ["namespace"] = "default" }, ["stringData"] = data,
        };
        using var reply = await http.PostAsync(new Uri("/api/v1/namespaces/default/secrets", UriKind.Relative), new StringContent(manifest.ToJsonString(), System.Text.Encoding.UTF8, "application/json"), cancellationToken);
        if (!reply.IsSuccessStatusCode && reply.StatusCode != System.Net.HttpStatusCode.Conflict)
            throw new InvalidOperationException($"creating the webhook secrets Secret failed: {await reply.Content.ReadAsStringAsync(cancellationToken)}");
    }

    private sealed class DirectoryRemoval(string path) : IDisposable
    {
        public void Dispose()
        {
            try
            {
                Directory.Delete(path, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
