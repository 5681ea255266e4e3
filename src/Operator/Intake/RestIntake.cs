using System.Text.Json.Nodes;
using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;
using DoraOperator.Kube.Meta;
using DoraOperator.Operator.Caching;
using DoraOperator.Operator.Http;
using Microsoft.AspNetCore.Http;

namespace DoraOperator.Operator.Intake;

/// <summary>
/// The REST intake, compatible with em-metrics (same paths, field names and defaults, so a pipeline
/// written for it needs only a new base URL), and the CI shape of the DORA examples on the same
/// <c>POST /deployments</c>, told apart by their fields. Every input becomes a DeploymentRecord or an
/// Incident whose name derives from the caller's id.
/// </summary>
internal sealed class RestIntake(IntakeRouter router, IntakeStore store, IntakeAuthorizer auth, OperatorCache cache, IntakeOptions options, TimeProvider time)
{
    /// <summary>Clock skew tolerated before a time counts as in the future.</summary>
    public static readonly TimeSpan FutureSkew = TimeSpan.FromMinutes(5);

    private static readonly string[] EmMetricsDeployment = ["id", "project_id", "first_commit_at", "deploy_start_at", "deployed_at"];
    private static readonly string[] CiDeployment = ["service", "environment", "commit_sha", "commit_timestamp", "deployed_at", "status", "is_hotfix"];

    public async Task<IResult> PostDeploymentAsync(HttpContext context)
    {
        var user = await auth.AuthenticateAsync(context);
        var body = await Payload.ReadAsync(context, options.MaxBodyBytes);
        var now = time.GetUtcNow();
        DeploymentFacts facts;
        if (body.Has("id") || body.Has("project_id"))
        {
            body.OnlyFields("an em-metrics deployment", EmMetricsDeployment);
            var id = body.String("id", required: true)!;
            var project = Route(body.String("project_id", required: true)!);
            var firstCommit = body.Time("first_commit_at");
            var deployed = body.Time("deployed_at");
            var started = body.Time("deploy_start_at") ?? (deployed is null ? now : null);
            facts = new DeploymentFacts(ObjectNames.External("api", id), project, Sources.Api, project.Metadata.Name!, null, null, null, firstCommit, started, deployed, null, null, id);
        }
        else if (body.Has("service"))
        {
            body.OnlyFields("a CI deployment", CiDeployment);
            var service = body.String("service", required: true, maxLength: 63)!;
            var environment = body.String("environment", maxLength: 63);
            var project = Route(service);
            var sha = body.String("commit_sha", maxLength: 128);
            var deployed = body.Time("deployed_at") ?? now;
            var status = body.String("status")?.ToLowerInvariant() ?? "success";
            if (status is not ("success" or "succeeded" or "failure" or "failed" or "error"))
                throw Payload.Bad("status", $"field \"status\" must be success or failure, not \"{status}\"");
            var failed = status is "failure" or "failed" or "error";
            // One deployment per service, environment and commit (or completion time when no commit is given).
            var id = $"{service}/{environment ?? DoraDefaults.EnvironmentOf(project)}/{sha ?? deployed.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)}";
            facts = new DeploymentFacts(ObjectNames.External("ci", id), project, Sources.Api, service, environment, sha, body.Time("commit_timestamp"), null, null,
                failed ? null : deployed, failed ? deployed : null, body.Bool("is_hotfix") == true ? ChangeTypes.Hotfix : null, id);
        }
        else
        {
            throw new ProblemException(400, "Unknown deployment shape",
                "POST /deployments takes an em-metrics deployment {id, project_id, first_commit_at, deploy_start_at, deployed_at} or a CI deployment {service, environment, commit_sha, deployed_at, status}; this body has neither id/project_id nor service");
        }
        Validate(facts, now);
        await auth.RequireAsync(user, "create", DeploymentRecord.Resource.Plural, facts.Project.Metadata.Namespace!, context.RequestAborted);
        var (record, outcome) = await store.UpsertRecordAsync(IntakeStore.Desired(facts), context.RequestAborted);
        return Reply(View(record), outcome);
    }

    /// <summary>
    /// <c>POST /events/deployment</c>, the DORA examples' event: <c>{service, environment, commit_sha,
    /// commit_timestamp, deployed_at, is_rollback, is_hotfix}</c>. A rollback ships no new commit (no lead
    /// time) and marks the service's previous deployment in that environment rolled back: a failed change.
    /// </summary>
    public async Task<IResult> PostDeploymentEventAsync(HttpContext context)
    {
        var user = await auth.AuthenticateAsync(context);
        var body = await Payload.ReadAsync(context, options.MaxBodyBytes);
        body.OnlyFields("a deployment event", "service", "environment", "commit_sha", "commit_timestamp", "deployed_at", "is_rollback", "is_hotfix");
        var now = time.GetUtcNow();
        var service = body.String("service", required: true, maxLength: 63)!;
        var project = Route(service);
        var environment = body.String("environment", maxLength: 63) ?? DoraDefaults.EnvironmentOf(project);
        var sha = body.String("commit_sha", required: true, maxLength: 128)!;
        var deployed = body.Time("deployed_at") ?? now;
        var rollback = body.Bool("is_rollback") == true;
        var id = $"{service}/{environment}/{sha}/{deployed.ToUnixTimeSeconds()}";
        var facts = new DeploymentFacts(ObjectNames.External("event", id), project, Sources.Api, service, environment, sha, rollback ? null : body.Time("commit_timestamp"), null, null,
            deployed, null, body.Bool("is_hotfix") == true ? ChangeTypes.Hotfix : null, id);
        Validate(facts, now);
        await auth.RequireAsync(user, "create", DeploymentRecord.Resource.Plural, project.Metadata.Namespace!, context.RequestAborted);
        var desired = IntakeStore.Desired(facts);
        DeploymentRecord? rolledBack = null;
        if (rollback)
        {
            rolledBack = (await store.RecordsOfAsync(project, service, context.RequestAborted))
                .Where(r => r.Spec.Source == Sources.Api && r.Spec.Workload.Name == service && DoraDefaults.EnvironmentOf(r) == environment
                    && r.Metadata.Name != desired.Metadata.Name && r.Status is { Phase: RecordPhases.Succeeded, DeployedAt: { } at } && at < deployed)
                .OrderByDescending(r => r.Status!.DeployedAt).FirstOrDefault();
            desired.Status!.RollbackOf = rolledBack?.Metadata.Name;
        }
        var (record, outcome) = await store.UpsertRecordAsync(desired, context.RequestAborted);
        if (rolledBack is not null) await store.MarkRolledBackAsync(rolledBack, record.Metadata.Name!, deployed, context.RequestAborted);
        return Reply(View(record), outcome);
    }

    /// <summary><c>POST /events/incident</c>, the DORA examples' event, an upsert: <c>{incident_id, service, severity, detected_at, resolved_at}</c>.</summary>
    public async Task<IResult> PostIncidentEventAsync(HttpContext context)
    {
        var user = await auth.AuthenticateAsync(context);
        var body = await Payload.ReadAsync(context, options.MaxBodyBytes);
        body.OnlyFields("an incident event", "incident_id", "service", "severity", "detected_at", "resolved_at");
        var now = time.GetUtcNow();
        var id = body.String("incident_id", required: true)!;
        var project = Route(body.String("service", required: true, maxLength: 63)!);
        var detected = body.Time("detected_at") ?? now;
        var resolved = body.Time("resolved_at");
        if (detected > now + FutureSkew) throw Unprocessable("detected_at", $"detected_at {KubeTimeConverter.Format(detected)} is in the future");
        if (resolved > now + FutureSkew) throw Unprocessable("resolved_at", $"resolved_at {KubeTimeConverter.Format(resolved.Value)} is in the future");
        if (resolved < detected) throw Unprocessable("resolved_at", $"resolved_at {KubeTimeConverter.Format(resolved.Value)} is before detected_at {KubeTimeConverter.Format(detected)}");
        var severity = body.String("severity")?.ToLowerInvariant() switch
        {
            null => null,
            "critical" or "sev1" or "p1" => "critical",
            "high" or "sev2" or "p2" => "high",
            "medium" or "sev3" or "p3" => "medium",
            "low" or "sev4" or "p4" or "sev5" or "p5" => "low",
            var other => throw Payload.Bad("severity", $"field \"severity\" must be critical, high, medium or low (or sev1-5, p1-5), not \"{other}\""),
        };
        var incident = IntakeStore.NewIncident(project, ObjectNames.External("event", id), new IncidentSpec
        {
            StartedAt = detected, DetectedAt = detected, ResolvedAt = resolved, Severity = severity, Source = Sources.Api, ExternalId = id,
        });
        await auth.RequireAsync(user, "create", Incident.Resource.Plural, project.Metadata.Namespace!, context.RequestAborted);
        var (saved, outcome) = await store.UpsertIncidentAsync(incident, context.RequestAborted);
        return Reply(View(saved), outcome);
    }

    /// <summary><c>POST /deployments/{id}/deployed</c>: marks a started deployment deployed (default now), or creates it with <c>create_if_not_exists</c>.</summary>
    public async Task<IResult> PostDeployedAsync(HttpContext context, string id)
    {
        var user = await auth.AuthenticateAsync(context);
        var body = context.Request.ContentLength is 0 ? new Payload([]) : await Payload.ReadAsync(context, options.MaxBodyBytes);
        body.OnlyFields("POST /deployments/{id}/deployed", "create_if_not_exists", "project_id", "first_commit_at", "deployed_at");
        var now = time.GetUtcNow();
        var deployed = body.Time("deployed_at") ?? now;
        var name = ObjectNames.External("api", id);
        var existing = cache.Records.List().Where(r => r.Metadata.Name == name && r.Spec.Source == Sources.Api).ToList();
        DoraProject project;
        DateTimeOffset? firstCommit = body.Time("first_commit_at");
        if (body.String("project_id") is { } projectId)
        {
            project = Route(projectId);
        }
        else if (existing.Count == 1 && cache.Projects.Get(existing[0].Metadata.Namespace, existing[0].Spec.Project) is { } owner)
        {
            project = owner;
        }
        else
        {
            throw new ProblemException(404, "Deployment not found", $"no started deployment \"{id}\" is recorded; start it with POST /deployments, or send project_id with create_if_not_exists: true");
        }
        // Read from the API server, not the cache: a pipeline may report "deployed" right after "started".
        var current = await store.TryGetRecordAsync(project.Metadata.Namespace!, name, context.RequestAborted);
        if (current is null && body.Bool("create_if_not_exists") != true)
        {
            throw new ProblemException(404, "Deployment not found", $"no started deployment \"{id}\" is recorded for this project; send create_if_not_exists: true to record it now");
        }
        var facts = new DeploymentFacts(name, project, Sources.Api, project.Metadata.Name!, null, null, null, firstCommit ?? current?.Spec.FirstCommitTime,
            current?.Status?.StartedAt, deployed, null, null, id);
        Validate(facts, now);
        await auth.RequireAsync(user, "create", DeploymentRecord.Resource.Plural, project.Metadata.Namespace!, context.RequestAborted);
        var (record, outcome) = await store.UpsertRecordAsync(IntakeStore.Desired(facts), context.RequestAborted, current);
        return Reply(View(record), outcome);
    }

    public async Task<IResult> PostIncidentAsync(HttpContext context)
    {
        var user = await auth.AuthenticateAsync(context);
        var body = await Payload.ReadAsync(context, options.MaxBodyBytes);
        body.OnlyFields("an em-metrics incident", "id", "project_id", "deployment_id", "started_at", "restored_at", "finished_at");
        var now = time.GetUtcNow();
        var id = body.String("id", required: true)!;
        var project = Route(body.String("project_id", required: true)!);
        var started = body.Time("started_at") ?? now;
        var restored = body.Time("restored_at");
        var finished = body.Time("finished_at");
        foreach (var (field, t) in new[] { ("started_at", (DateTimeOffset?)started), ("restored_at", restored), ("finished_at", finished) })
        {
            if (t > now + FutureSkew) throw Unprocessable(field, $"{field} {KubeTimeConverter.Format(t.Value)} is in the future");
            if (t < started) throw Unprocessable(field, $"{field} {KubeTimeConverter.Format(t.Value)} is before started_at {KubeTimeConverter.Format(started)}");
        }
        var incident = IntakeStore.NewIncident(project, ObjectNames.External("api", id), new IncidentSpec
        {
            StartedAt = started, RestoredAt = restored, ResolvedAt = finished, Source = Sources.Api, ExternalId = id,
            DeploymentRef = body.String("deployment_id") is { } deployment ? ObjectNames.External("api", deployment) : null,
        });
        await auth.RequireAsync(user, "create", Incident.Resource.Plural, project.Metadata.Namespace!, context.RequestAborted);
        var (saved, outcome) = await store.UpsertIncidentAsync(incident, context.RequestAborted);
        return Reply(View(saved), outcome);
    }

    /// <summary><c>POST /incidents/{id}/restored</c> and <c>/finished</c> with <c>{date}</c> (default now).</summary>
    public async Task<IResult> PostIncidentTimeAsync(HttpContext context, string id, bool finished)
    {
        var user = await auth.AuthenticateAsync(context);
        var body = context.Request.ContentLength is 0 ? new Payload([]) : await Payload.ReadAsync(context, options.MaxBodyBytes);
        body.OnlyFields(finished ? "POST /incidents/{id}/finished" : "POST /incidents/{id}/restored", "date");
        var now = time.GetUtcNow();
        var date = body.Time("date") ?? now;
        var name = ObjectNames.External("api", id);
        var matches = cache.Incidents.List().Where(i => i.Metadata.Name == name).ToList();
        if (matches.Count == 0) throw new ProblemException(404, "Incident not found", $"no incident \"{id}\" is recorded; create it with POST /incidents");
        if (matches.Count > 1) throw new ProblemException(409, "Ambiguous incident", $"incident \"{id}\" is recorded in more than one namespace");
        var incident = matches[0];
        if (date > now + FutureSkew) throw Unprocessable("date", $"date {KubeTimeConverter.Format(date)} is in the future");
        if (DoraOperator.Operator.Dora.DoraCalculator.StartedAt(incident) is { } started && date < started)
            throw Unprocessable("date", $"date {KubeTimeConverter.Format(date)} is before the incident started ({KubeTimeConverter.Format(started)})");
        await auth.RequireAsync(user, "create", Incident.Resource.Plural, incident.Metadata.Namespace!, context.RequestAborted);
        var (saved, outcome) = await store.RecordTimesAsync(incident, finished ? Times(null, date) : Times(date, null), context.RequestAborted);
        return Reply(View(saved), outcome);
    }

    /// <summary><c>GET /incidents</c> (<c>?type=in-progress</c>: not yet restored), over the namespaces the caller may list incidents in.</summary>
    public async Task<IResult> GetIncidentsAsync(HttpContext context)
    {
        var user = await auth.AuthenticateAsync(context);
        var type = context.Request.Query["type"].ToString();
        if (type.Length > 0 && type != "in-progress") throw new ProblemException(400, "Invalid type", $"type \"{type}\" is not known; the only filter is type=in-progress");
        var items = new JsonArray();
        foreach (var group in cache.Incidents.List().GroupBy(i => i.Metadata.Namespace ?? "").OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            if (!await auth.AllowsAsync(user, "list", Incident.Resource.Plural, group.Key, context.RequestAborted)) continue;
            foreach (var i in group.OrderBy(i => i.Spec.StartedAt))
            {
                if (type == "in-progress" && DoraOperator.Operator.Dora.DoraCalculator.RestoredAt(i) is not null) continue;
                items.Add((JsonNode)View(i));
            }
        }
        return Results.Text(items.ToJsonString(), "application/json");
    }

    private static JsonObject Times(DateTimeOffset? restored, DateTimeOffset? finished)
    {
        var o = new JsonObject();
        if (restored is { } r) o["restoredAt"] = KubeTimeConverter.Format(r);
        if (finished is { } f) o["resolvedAt"] = KubeTimeConverter.Format(f);
        return o;
    }

    private DoraProject Route(string name) =>
        router.ByName(name) ?? throw new ProblemException(404, "No project claims this name",
            $"no DoraProject is named \"{name}\" or lists it in spec.sources.names (use namespace/name, or add it to the project's sources)");

    /// <summary>422 for times that cannot be true: in the future, deployed before the commit or before the start.</summary>
    private static void Validate(DeploymentFacts f, DateTimeOffset now)
    {
        foreach (var (field, t) in new[] { ("deployed_at", f.DeployedAt ?? f.FailedAt), ("deploy_start_at", f.StartedAt), ("first_commit_at", f.FirstCommitTime), ("commit_timestamp", f.CommitTime) })
        {
            if (t > now + FutureSkew) throw Unprocessable(field, $"{field} {KubeTimeConverter.Format(t.Value)} is in the future");
        }
        if (f.DeployedAt is { } deployed)
        {
            if (f.StartedAt > deployed) throw Unprocessable("deployed_at", $"deployed_at {KubeTimeConverter.Format(deployed)} is before the deployment started ({KubeTimeConverter.Format(f.StartedAt.Value)})");
            foreach (var (field, commit) in new[] { ("first_commit_at", f.FirstCommitTime), ("commit_timestamp", f.CommitTime) })
            {
                if (commit > deployed) throw Unprocessable(field, $"deployed_at {KubeTimeConverter.Format(deployed)} is before the commit ({field} {KubeTimeConverter.Format(commit.Value)})");
            }
        }
    }

    private static ProblemException Unprocessable(string field, string detail) => new(422, $"Impossible {field}", detail);

    private static IResult Reply(JsonObject body, WriteOutcome outcome) =>
        Results.Text(body.ToJsonString(), "application/json", statusCode: outcome == WriteOutcome.Created ? 201 : 200);

    private static JsonObject View(DeploymentRecord r) => new()
    {
        ["id"] = r.Metadata.Annotations?.GetValueOrDefault(IntakeStore.ExternalIdAnnotation),
        ["namespace"] = r.Metadata.Namespace,
        ["name"] = r.Metadata.Name,
        ["project"] = r.Spec.Project,
        ["project_id"] = $"{r.Metadata.Namespace}/{r.Spec.Project}",
        ["phase"] = r.Status?.Phase ?? RecordPhases.Progressing,
        ["deploy_start_at"] = Format(r.Status?.StartedAt),
        ["deployed_at"] = Format(r.Status?.DeployedAt),
        ["lead_time_seconds"] = r.Status?.LeadTimeSeconds,
    };

    private static JsonObject View(Incident i) => new()
    {
        ["id"] = i.Spec.ExternalId ?? i.Metadata.Name,
        ["namespace"] = i.Metadata.Namespace,
        ["name"] = i.Metadata.Name,
        ["project"] = i.Spec.Project,
        ["project_id"] = $"{i.Metadata.Namespace}/{i.Spec.Project}",
        ["deployment_id"] = i.Spec.DeploymentRef,
        ["started_at"] = Format(i.Spec.StartedAt),
        ["restored_at"] = Format(i.Spec.RestoredAt ?? i.Spec.ResolvedAt),
        ["finished_at"] = Format(i.Spec.ResolvedAt),
    };

    private static string? Format(DateTimeOffset? t) => t is { } v ? KubeTimeConverter.Format(v) : null;
}
