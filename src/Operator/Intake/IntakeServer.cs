using DoraOperator.Kube.Rest;
using DoraOperator.Operator.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DoraOperator.Operator.Intake;

/// <summary>
/// The intake's own HTTP server, on its own port (separate from /metrics, so the two can be exposed
/// differently). Every replica serves it: writes go to the API server, never to local state, so any
/// replica may take any delivery. Errors are <c>application/problem+json</c>.
/// </summary>
internal sealed partial class IntakeServer(IntakeOptions options, RestIntake rest, AlertmanagerWebhook alertmanager, GitHubWebhook github, PagerDutyWebhook pagerduty, GitLabWebhook gitlab, OpsgenieWebhook opsgenie, JiraWebhook jira, Caching.OperatorCache cache, ClientRateLimiter limiter, ILogger<IntakeServer> logger) : IAsyncDisposable
{
    private WebApplication? _web;

    public Uri? Url { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Auth == IntakeAuth.None) Log.AuthOff(logger);
        var builder = EmbeddedWeb.CreateBuilder(options.Address, options.Port);
        // The intake's own limit (MaxBodyBytes) answers 413 before reading a body declared too large. Kestrel then reads
        // and discards the rest, so the sender, still writing, gets that answer rather than a connection reset; its own
        // limit only bounds that drain: a body past it is cut off mid-send.
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = DrainLimit(options.MaxBodyBytes));
        var web = builder.Build();
        web.Use(async (context, next) =>
        {
            try
            {
                // Routing reads the cache: until it has listed every project, an input could be refused as unclaimed.
                if (!cache.HasSynced && context.Request.Path != "/healthz") throw new ProblemException(503, "Starting", "the operator's caches are not synced yet; retry in a few seconds") { RetryAfter = 2 };
                if (context.Request.Path != "/healthz") limiter.Check(context);
                await next(context);
            }
            catch (ProblemException e)
            {
                if (e.RetryAfter is { } seconds) context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await Problems.Result(e.Status, e.Title, e.Detail, context.Request.Path).ExecuteAsync(context);
            }
            catch (KubeApiException e)
            {
                Log.ApiFailed(logger, context.Request.Path, e.Message);
                await Problems.Result(503, "Kubernetes API unavailable", "the record could not be written to the Kubernetes API; nothing was changed, retry later", context.Request.Path).ExecuteAsync(context);
            }
        });
        web.MapPost("/deployments", (Func<HttpContext, Task<IResult>>)(c => rest.PostDeploymentAsync(c)));
        web.MapPost("/deployments/{id}/deployed", (HttpContext c, string id) => rest.PostDeployedAsync(c, id));
        web.MapPost("/incidents", (Func<HttpContext, Task<IResult>>)(c => rest.PostIncidentAsync(c)));
        web.MapGet("/incidents", (Func<HttpContext, Task<IResult>>)(c => rest.GetIncidentsAsync(c)));
        web.MapPost("/incidents/{id}/restored", (HttpContext c, string id) => rest.PostIncidentTimeAsync(c, id, finished: false));
        web.MapPost("/incidents/{id}/finished", (HttpContext c, string id) => rest.PostIncidentTimeAsync(c, id, finished: true));
        web.MapPost("/events/deployment", (Func<HttpContext, Task<IResult>>)(c => rest.PostDeploymentEventAsync(c)));
        web.MapPost("/events/incident", (Func<HttpContext, Task<IResult>>)(c => rest.PostIncidentEventAsync(c)));
        web.MapPost("/webhooks/alertmanager", (Func<HttpContext, Task<IResult>>)(c => alertmanager.PostAsync(c)));
        web.MapPost("/webhooks/github", (Func<HttpContext, Task<IResult>>)(c => github.PostAsync(c)));
        web.MapPost("/webhooks/pagerduty", (Func<HttpContext, Task<IResult>>)(c => pagerduty.PostAsync(c)));
        web.MapPost("/webhooks/gitlab", (Func<HttpContext, Task<IResult>>)(c => gitlab.PostAsync(c)));
        web.MapPost("/webhooks/opsgenie", (Func<HttpContext, Task<IResult>>)(c => opsgenie.PostAsync(c)));
        web.MapPost("/webhooks/jira", (Func<HttpContext, Task<IResult>>)(c => jira.PostAsync(c)));
        web.MapGet("/healthz", () => Results.Text("ok"));
        web.MapFallback((HttpContext c) => Problems.Result(404, "No such intake path",
            "the intake serves POST /deployments, POST /deployments/{id}/deployed, POST /incidents, GET /incidents, POST /incidents/{id}/restored|finished, POST /events/deployment|incident and POST /webhooks/alertmanager|github|gitlab|pagerduty|opsgenie|jira", c.Request.Path));
        await web.StartAsync(cancellationToken);
        _web = web;
        Url = EmbeddedWeb.BaseUrl(web);
        Log.Listening(logger, Url, options.Auth);
    }

    /// <summary>How much of a refused body is read and dropped so that its 413 reaches the sender: the larger of 16 MiB and four times the limit.</summary>
    private static long DrainLimit(long maxBodyBytes) => Math.Max(16L * 1024 * 1024, 4 * maxBodyBytes);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _web, null) is not { } web) return;
        await web.StopAsync(CancellationToken.None);
        await web.DisposeAsync();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "intake authentication is OFF (--intake-auth none): anyone who reaches the intake port can write records and incidents")]
        public static partial void AuthOff(ILogger logger);

        [LoggerMessage(2, LogLevel.Information, "intake listening on {Url} (auth {Auth})")]
        public static partial void Listening(ILogger logger, Uri url, IntakeAuth auth);

        [LoggerMessage(3, LogLevel.Warning, "intake {Path}: Kubernetes API call failed: {Error}")]
        public static partial void ApiFailed(ILogger logger, string path, string error);
    }
}
