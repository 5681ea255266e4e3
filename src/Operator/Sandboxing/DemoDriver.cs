using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using DoraOperator.Sandbox;
using DoraOperator.Sandbox.Controllers;
using Microsoft.Extensions.Logging;

namespace DoraOperator.Operator.Sandboxing;

/// <summary>
/// <c>sandbox --demo</c>: four DoraProjects of three teams in three namespaces (<see cref="DemoHistory"/>),
/// their annotated Deployments, and on a <see cref="DemoClock"/> six weeks of their history played
/// in about a minute: releases, failed rollouts and their fixes, incidents opened and restored.
/// Then, in real time, a scripted last hour (a failed rollout and its fix, a rollback, an incident,
/// a restart, a release from CI and an alert through the intake), then a release every few seconds
/// for as long as the sandbox runs. Everything goes through the API server, as a CI pipeline's
/// kubectl would, so the operator sees nothing it would not see on a cluster.
/// </summary>
internal sealed partial class DemoDriver(SandboxApiServer api, Uri? intake, TimeProvider time, ILogger<DemoDriver> logger)
{
    public const string Namespace = "demo";
    public const string Project = "storefront";
    private static readonly string[] Workloads = DemoHistory.Profiles[0].Workloads;
    private readonly HttpClient _http = api.CreateHttpClient();
    private readonly Random _random = new(2026);
    private readonly Dictionary<string, (string Image, string Sha, string CommitTime, string ChangeType)> _current = [];
    private readonly Dictionary<string, (string Image, string Sha, string CommitTime, string ChangeType)> _previous = [];
    private readonly Dictionary<string, int> _revision = [];
    private int _build = 100;

    /// <summary>Time between releases once the scripted history is done.</summary>
    public TimeSpan Pace { get; init; } = TimeSpan.FromSeconds(6);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await SetUpAsync(cancellationToken);
            if (time is DemoClock clock)
            {
                await MonthAsync(clock, cancellationToken);
                clock.CatchUp();
            }
            await HistoryAsync(cancellationToken);
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(Pace, time, cancellationToken);
                await ReleaseAsync(Workloads[_random.Next(Workloads.Length)], cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException)
        {
            Log.Stopped(logger, e.Message);
        }
        finally
        {
            _http.Dispose();
        }
    }

    private async Task SetUpAsync(CancellationToken cancellationToken)
    {
        foreach (var ns in DemoHistory.Profiles.Select(p => p.Namespace).Distinct())
        {
            await SendAsync(HttpMethod.Post, "/api/v1/namespaces", new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = ns } }, cancellationToken, allowConflict: true);
        }
        foreach (var p in DemoHistory.Profiles)
        {
            // The storefront also counts the mobile app's releases, which CI reports through the intake.
            var sources = p.Project == Project ? ""","sources":{"names":["storefront-mobile"]}""" : "";
            await SendAsync(HttpMethod.Post, $"/apis/dora-operator.io/v1alpha1/namespaces/{p.Namespace}/doraprojects", JsonNode.Parse(Fill("""
                {"apiVersion":"dora-operator.io/v1alpha1","kind":"DoraProject","metadata":{"name":"@0@"},
                 "spec":{"team":"@1@","selector":{"matchLabels":{"app.kubernetes.io/part-of":"@0@"}},"incidentAttribution":{"mode":"lastDeployment"}@2@}}
                """, p.Project, p.Team, sources))!, cancellationToken, allowConflict: true);
            foreach (var w in p.Workloads)
            {
                var release = NextRelease("feature", TimeSpan.FromHours(_random.Next(2, 30)));
                _current[w] = release;
                _revision[w] = 1;
                await SendAsync(HttpMethod.Post, $"/apis/apps/v1/namespaces/{p.Namespace}/deployments", JsonNode.Parse(Fill("""
                    {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"@0@","labels":{"app.kubernetes.io/part-of":"@1@"}},
                     "spec":{"replicas":2,"selector":{"matchLabels":{"app":"@0@"}},
                      "template":{"metadata":{"labels":{"app":"@0@"},"annotations":@2@},
                       "spec":{"containers":[{"name":"@0@","image":"@3@"}]}}}}
                    """, w, p.Project, Annotations(release), release.Image))!, cancellationToken, allowConflict: true);
            }
            Log.Created(logger, p.Namespace, p.Project, string.Join(", ", p.Workloads));
        }
        foreach (var w in DemoHistory.Profiles.SelectMany(p => p.Workloads)) await SettleAsync(w, cancellationToken);
    }

    /// <summary>
    /// Six weeks of the four projects' history, each step at its time on the demo clock. Rollouts run
    /// fast meanwhile, and each one is recorded by the operator before the clock moves on, so its
    /// times are those of the step and not of a later one.
    /// </summary>
    private async Task MonthAsync(DemoClock clock, CancellationToken cancellationToken)
    {
        var started = time.GetUtcNow();
        var steps = DemoHistory.Plan(started, started + clock.Behind - TimeSpan.FromHours(1));
        var pace = api.Deployments!.DefaultPace;
        api.Deployments.DefaultPace = RolloutPace.After(TimeSpan.FromMilliseconds(150));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            foreach (var step in steps)
            {
                clock.StepTo(step.At);
                switch (step)
                {
                    case DemoRelease r:
                        if (r.Fails) api.Deployments.FailNextRollout(DemoHistory.ProfileOf(r.Workload).Namespace, r.Workload);
                        await ReleaseAsync(r.Workload, cancellationToken, r.ChangeType, r.CommitAge);
                        await SettleAsync(r.Workload, cancellationToken);
                        break;
                    case DemoIncident i:
                        await SendAsync(HttpMethod.Post, $"/apis/dora-operator.io/v1alpha1/namespaces/{i.Namespace}/incidents", JsonNode.Parse(Fill("""
                            {"apiVersion":"dora-operator.io/v1alpha1","kind":"Incident","metadata":{"name":"@0@"},
                             "spec":{"project":"@1@","title":"@2@","severity":"@3@","startedAt":"@4@"}}
                            """, i.Name, i.Project, i.Title, i.Severity, Rfc3339(time.GetUtcNow())))!, cancellationToken, allowConflict: true);
                        break;
                    case DemoRestore r:
                        await SendAsync(HttpMethod.Patch, $"/apis/dora-operator.io/v1alpha1/namespaces/{r.Namespace}/incidents/{r.Name}",
                            JsonNode.Parse(Fill("""{"spec":{"restoredAt":"@0@"}}""", Rfc3339(time.GetUtcNow())))!, cancellationToken);
                        break;
                }
            }
        }
        finally
        {
            api.Deployments.DefaultPace = pace;
        }
        Log.MonthPlayed(logger, steps.Count, DemoHistory.Length.TotalDays, watch.Elapsed.TotalSeconds);
    }

    /// <summary>Waits until the operator has recorded the workload's current revision as finished (at most a few seconds).</summary>
    private async Task SettleAsync(string workload, CancellationToken cancellationToken)
    {
        var ns = DemoHistory.ProfileOf(workload).Namespace;
        var path = $"/apis/dora-operator.io/v1alpha1/namespaces/{ns}/deploymentrecords/{workload}-{_revision[workload]}";
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (deadline.Elapsed < SettleTimeout)
        {
            using var reply = await _http.GetAsync(new Uri(path, UriKind.Relative), cancellationToken);
            if (reply.IsSuccessStatusCode && JsonNode.Parse(await reply.Content.ReadAsStringAsync(cancellationToken))?["status"]?["phase"]?.GetValue<string>() is { } phase && phase != "Progressing") return;
            await Task.Delay(TimeSpan.FromMilliseconds(20), time, cancellationToken);
        }
        Log.NotSettled(logger, ns, $"{workload}-{_revision[workload]}", SettleTimeout.TotalSeconds);
    }

    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(10);

    private async Task HistoryAsync(CancellationToken cancellationToken)
    {
        var step = TimeSpan.FromSeconds(1.5);
        foreach (var (w, type, age) in new[] { ("frontend", "feature", 26.0), ("checkout", "feature", 50.0), ("catalog", "fix", 5.0), ("frontend", "feature", 3.0) })
        {
            await Task.Delay(step, time, cancellationToken);
            await ReleaseAsync(w, cancellationToken, type, TimeSpan.FromHours(age));
        }
        // A rollout that never becomes available, then the fix.
        await Task.Delay(step, time, cancellationToken);
        api.Deployments!.FailNextRollout(Namespace, "checkout");
        await ReleaseAsync("checkout", cancellationToken, "feature", TimeSpan.FromHours(8));
        await Task.Delay(step * 2, time, cancellationToken);
        await ReleaseAsync("checkout", cancellationToken, "hotfix", TimeSpan.FromMinutes(40));
        var hotfix = $"checkout-{_revision["checkout"]}";
        // A bad release rolled back to the previous template (the old ReplicaSet is revived).
        await Task.Delay(step, time, cancellationToken);
        await ReleaseAsync("catalog", cancellationToken, "feature", TimeSpan.FromHours(20));
        await Task.Delay(step * 2, time, cancellationToken);
        await RollBackAsync("catalog", cancellationToken);
        // An incident caused by the checkout hotfix, restored a few (compressed) moments later.
        await Task.Delay(step, time, cancellationToken);
        await SendAsync(HttpMethod.Post, $"/apis/dora-operator.io/v1alpha1/namespaces/{Namespace}/incidents", JsonNode.Parse(Fill("""
            {"apiVersion":"dora-operator.io/v1alpha1","kind":"Incident","metadata":{"name":"checkout-errors"},
             "spec":{"project":"@0@","title":"5xx on checkout","severity":"high","deploymentRef":"@2@","startedAt":"@1@"}}
            """, Project, Rfc3339(time.GetUtcNow()), hotfix))!, cancellationToken, allowConflict: true);
        await Task.Delay(step * 2, time, cancellationToken);
        await SendAsync(HttpMethod.Patch, $"/apis/dora-operator.io/v1alpha1/namespaces/{Namespace}/incidents/checkout-errors",
            JsonNode.Parse(Fill("""{"spec":{"restoredAt":"@0@"}}""", Rfc3339(time.GetUtcNow())))!, cancellationToken);
        // kubectl rollout restart: a new revision that ships nothing.
        await Task.Delay(step, time, cancellationToken);
        await SendAsync(HttpMethod.Patch, $"/apis/apps/v1/namespaces/{Namespace}/deployments/frontend",
            JsonNode.Parse(Fill("""{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"@0@"}}}}}""", Rfc3339(time.GetUtcNow())))!, cancellationToken);
        _revision["frontend"]++;
        if (intake is not null) await IntakeAsync(intake, step, cancellationToken);
        Log.HistoryDone(logger, Pace.TotalSeconds);
    }

    /// <summary>
    /// What the cluster does not see, through the intake as CI and Alertmanager would send it: a mobile
    /// release shipped from CI (em-metrics' shape, routed by the project's sources.names), and an alert
    /// that fires on checkout and resolves.
    /// </summary>
    private async Task IntakeAsync(Uri intake, TimeSpan step, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = intake };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", api.AdminToken);
        async Task PostAsync(string path, string json)
        {
            using var reply = await http.PostAsync(new Uri(path, UriKind.Relative), new StringContent(json, Encoding.UTF8, "application/json"), cancellationToken);
            if (!reply.IsSuccessStatusCode) throw new InvalidOperationException($"POST {path}: {(int)reply.StatusCode} {await reply.Content.ReadAsStringAsync(cancellationToken)}");
        }
        await Task.Delay(step, time, cancellationToken);
        var now = time.GetUtcNow();
        await PostAsync("/deployments", Fill("""{"id":"ios-7.4.0","project_id":"storefront-mobile","first_commit_at":"@0@","deploy_start_at":"@1@","deployed_at":"@2@"}""",
            Rfc3339(now.AddHours(-30)), Rfc3339(now.AddMinutes(-25)), Rfc3339(now)));
        await Task.Delay(step, time, cancellationToken);
        var startsAt = Rfc3339(time.GetUtcNow());
        const string alert = """
            {"version":"4","status":"@0@","receiver":"dora","alerts":[{"status":"@0@",
             "labels":{"alertname":"CheckoutLatencyHigh","namespace":"@1@","deployment":"checkout","severity":"warning"},
             "annotations":{"summary":"checkout p99 above 2 s"},"startsAt":"@2@","endsAt":"@3@","fingerprint":"demo0c4ec0a1e7"}]}
            """;
        await PostAsync("/webhooks/alertmanager", Fill(alert, "firing", Namespace, startsAt, "0001-01-01T00:00:00Z"));
        await Task.Delay(step * 2, time, cancellationToken);
        await PostAsync("/webhooks/alertmanager", Fill(alert, "resolved", Namespace, startsAt, Rfc3339(time.GetUtcNow())));
    }

    private (string Image, string Sha, string CommitTime, string ChangeType) NextRelease(string changeType, TimeSpan commitAge)
    {
        _build++;
        var sha = Convert.ToHexString(BitConverter.GetBytes(_random.NextInt64())).ToLowerInvariant()[..12];
        var commit = time.GetUtcNow() - commitAge;
        return ($"registry.example/storefront:1.{_build}", sha, Rfc3339(commit), changeType);
    }

    private async Task ReleaseAsync(string workload, CancellationToken cancellationToken, string? changeType = null, TimeSpan? commitAge = null)
    {
        var release = NextRelease(changeType ?? (_random.Next(4) == 0 ? "fix" : "feature"), commitAge ?? TimeSpan.FromMinutes(_random.Next(20, 60 * 30)));
        _previous[workload] = _current[workload];
        _current[workload] = release;
        await PatchTemplateAsync(workload, release, cancellationToken);
    }

    private async Task RollBackAsync(string workload, CancellationToken cancellationToken)
    {
        var back = _previous[workload];
        _current[workload] = back;
        await PatchTemplateAsync(workload, back, cancellationToken);
    }

    private Task PatchTemplateAsync(string workload, (string Image, string Sha, string CommitTime, string ChangeType) release, CancellationToken cancellationToken)
    {
        _revision[workload]++;
        return SendAsync(HttpMethod.Patch, $"/apis/apps/v1/namespaces/{DemoHistory.ProfileOf(workload).Namespace}/deployments/{workload}", JsonNode.Parse(Fill("""
            {"spec":{"template":{"metadata":{"annotations":@0@},"spec":{"containers":[{"name":"@1@","image":"@2@"}]}}}}
            """, Annotations(release), workload, release.Image))!, cancellationToken, contentType: "application/strategic-merge-patch+json");
    }

    private static string Annotations((string Image, string Sha, string CommitTime, string ChangeType) r) =>
        Fill("""{"dora-operator.io/commit-sha":"@0@","dora-operator.io/commit-time":"@1@","dora-operator.io/change-type":"@2@"}""", r.Sha, r.CommitTime, r.ChangeType);

    /// <summary>Replaces @0@, @1@, ... in a JSON template.</summary>
    private static string Fill(string template, params object[] values)
    {
        for (var i = 0; i < values.Length; i++) template = template.Replace($"@{i}@", Convert.ToString(values[i], CultureInfo.InvariantCulture), StringComparison.Ordinal);
        return template;
    }

    private static string Rfc3339(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private async Task SendAsync(HttpMethod method, string path, JsonNode body, CancellationToken cancellationToken, bool allowConflict = false, string contentType = "application/merge-patch+json")
    {
        using var request = new HttpRequestMessage(method, path)
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, method == HttpMethod.Patch ? contentType : "application/json"),
        };
        if (method == HttpMethod.Patch) request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        using var reply = await _http.SendAsync(request, cancellationToken);
        if (reply.IsSuccessStatusCode || (allowConflict && reply.StatusCode == System.Net.HttpStatusCode.Conflict)) return;
        throw new InvalidOperationException($"{method} {path}: {(int)reply.StatusCode} {await reply.Content.ReadAsStringAsync(cancellationToken)}");
    }
}
