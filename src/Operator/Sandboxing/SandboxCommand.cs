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
/// Not yet: <c>--demo</c> and the live table of issue [Try it].
/// </summary>
internal static class SandboxCommand
{
    public static Command Create()
    {
        var apiPort = new Option<int>("--api-port") { Description = "Port of the Sandbox API server on 127.0.0.1 (default: a free port, printed)." };
        var httpPort = new Option<int>("--http-port") { Description = "Port of the operator's /healthz and /readyz.", DefaultValueFactory = _ => 8080 };
        var kubeconfigOut = new Option<string>("--kubeconfig-out") { Description = "Where to write the kubeconfig for kubectl.", DefaultValueFactory = _ => "sandbox.kubeconfig" };
        var rolloutSeconds = new Option<double>("--rollout-seconds") { Description = "How long a simulated rollout takes.", DefaultValueFactory = _ => 1.5 };
        var command = new Command("sandbox", "Run DoraOperator against an in-memory Kubernetes API server: no cluster needed.")
        {
            apiPort, httpPort, kubeconfigOut, rolloutSeconds,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; }).SetMinimumLevel(LogLevel.Information));
            var kubeconfig = parse.GetValue(kubeconfigOut)!;
            var seconds = parse.GetValue(rolloutSeconds);
            await using var api = await SandboxApiServer.StartAsync(new SandboxOptions
            {
                Port = parse.GetValue(apiPort),
                KubeconfigPath = kubeconfig,
                RolloutPace = seconds <= 0 ? RolloutPace.Immediate : RolloutPace.After(TimeSpan.FromSeconds(seconds)),
            }, cancellationToken);
            using (var http = api.CreateHttpClient())
            {
                foreach (var (type, resource) in CrdGenerator.Kinds)
                {
                    using var reply = await http.PostAsJsonAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CrdGenerator.Generate(type, resource), cancellationToken);
                    if (!reply.IsSuccessStatusCode) throw new InvalidOperationException($"installing the {resource.Kind} CRD failed: {await reply.Content.ReadAsStringAsync(cancellationToken)}");
                }
            }
            OperatorHost host;
            try
            {
                host = await OperatorHost.StartAsync(new OperatorOptions { Kubeconfig = kubeconfig, LeaderElect = false, HttpPort = parse.GetValue(httpPort), HttpAddress = "127.0.0.1" }, loggers, cancellationToken: cancellationToken);
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
                Console.WriteLine($$"""

                    DoraOperator sandbox is running.
                      API server:  {{api.Url}}   (kubeconfig: {{Path.GetFullPath(kubeconfig)}})
                      operator:    {{host.HttpUrl}}healthz, {{host.HttpUrl}}readyz

                    Try, in another terminal:
                      export KUBECONFIG={{Path.GetFullPath(kubeconfig)}}
                      kubectl apply -f config/samples/doraproject.yaml
                      kubectl create deployment checkout --image=nginx:1.27
                      kubectl label deployment checkout app.kubernetes.io/part-of=checkout
                      kubectl set image deployment/checkout nginx=nginx:1.28
                      kubectl get dora,dr -w

                    Ctrl+C stops everything.
                    """);
                await DoraOperator.Sandbox.ProcessSignals.WaitForStopAsync();
                Console.WriteLine("stopping");
            }
            return 0;
        });
        return command;
    }
}
