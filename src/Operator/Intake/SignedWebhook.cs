using System.Text.Json.Nodes;
using DoraOperator.Entities.Dora;
using DoraOperator.Operator.Http;
using Microsoft.AspNetCore.Http;

namespace DoraOperator.Operator.Intake;

/// <summary>What every vendor webhook needs: routing, the store, the shared secrets, the limits, and where unrouted inputs are counted.</summary>
internal sealed record WebhookContext(IntakeRouter Router, IntakeStore Store, WebhookSecrets Secrets, IntakeOptions Options, Action<string> Unrouted);

/// <summary>
/// A vendor webhook authenticated by a shared secret: the body is read (size and media type checked),
/// its signature or token verified against the raw bytes before anything is parsed, then handed to
/// the vendor's handler. An input no project claims is acknowledged and counted, since the sender
/// cannot fix it.
/// </summary>
internal abstract class SignedWebhook(WebhookContext web, string source)
{
    protected IntakeStore Store => web.Store;

    protected WebhookSecrets Secrets => web.Secrets;

    /// <summary>Throws 401 (a <see cref="ProblemException"/>) unless the request carries this source's secret.</summary>
    protected abstract void Authenticate(HttpContext context, byte[] raw);

    protected abstract Task<IResult> HandleAsync(HttpContext context, JsonObject body);

    public async Task<IResult> PostAsync(HttpContext context)
    {
        var raw = await Payload.ReadRawAsync(context, web.Options.MaxBodyBytes);
        Authenticate(context, raw);
        return await HandleAsync(context, Payload.Parse(raw).Body);
    }

    /// <summary>The oldest project listing <paramref name="value"/> in the given <c>spec.sources</c> list; null (counted as unrouted) when none does.</summary>
    protected DoraProject? Route(Func<ProjectSources, List<string>?> list, string value) => Route(list, [value]);

    /// <summary>The project of the first of <paramref name="values"/> that a project lists; null (counted once as unrouted) when none is.</summary>
    protected DoraProject? Route(Func<ProjectSources, List<string>?> list, IEnumerable<string> values)
    {
        var project = values.Select(v => web.Router.BySource(list, v)).FirstOrDefault(p => p is not null);
        if (project is null) web.Unrouted(source);
        return project;
    }

    protected static IResult Unclaimed(string field, string value) => WebhookReplies.Ack($"no DoraProject lists {value} in spec.sources.{field}");

    protected static ProblemException Unauthenticated(string detail) => new(401, "Bad signature", detail);
}
