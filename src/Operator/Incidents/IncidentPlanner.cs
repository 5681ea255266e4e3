using DoraOperator.Entities.Dora;
using DoraOperator.Kube.Meta;
using DoraOperator.Entities.Vocabulary;

namespace DoraOperator.Operator.Incidents;

/// <summary>What the incident controller should make true for one incident.</summary>
/// <param name="Status">The incident's status as it should be.</param>
/// <param name="DefaultStartedAt">Set <c>spec.startedAt</c> to this (the creation time) when the user left it out.</param>
/// <param name="DefaultRestoredAt">Set <c>spec.restoredAt</c> to this (<c>resolvedAt</c>) when only resolvedAt was given.</param>
internal sealed record IncidentPlan(IncidentStatus Status, DateTimeOffset? DefaultStartedAt, DateTimeOffset? DefaultRestoredAt);

/// <summary>
/// The incident rules as a pure function: validation the API server cannot do (rules that involve
/// defaulted fields, other objects or the clock), the phase, the durations and the link to a
/// deployment. An invalid incident gets condition <c>Invalid</c> and nothing else is computed.
/// </summary>
internal static class IncidentPlanner
{
    /// <summary>Clock skew tolerated before a start time counts as "in the future".</summary>
    public static readonly TimeSpan FutureSkew = TimeSpan.FromMinutes(5);

    public static IncidentPlan Plan(Incident incident, DoraProject? project, IReadOnlyList<DeploymentRecord> projectRecords, DateTimeOffset now)
    {
        var spec = incident.Spec;
        var old = incident.Status;
        var status = new IncidentStatus { Conditions = old?.Conditions?.Select(Copy).ToList() };
        var conditions = status.Conditions;
        var startedAt = spec.StartedAt ?? incident.Metadata.CreationTimestamp ?? now;
        var restoredAt = spec.RestoredAt ?? spec.ResolvedAt;
        DateTimeOffset? defaultStarted = spec.StartedAt is null ? startedAt : null;
        DateTimeOffset? defaultRestored = spec.RestoredAt is null && spec.ResolvedAt is { } resolved ? resolved : null;

        var problem = Validate(incident, startedAt, restoredAt, now);
        if (problem is { } p)
        {
            Conditions.Set(ref conditions, "Invalid", true, p.Reason, p.Message + " The incident counts in no metric until this is fixed.", now, incident.Metadata.Generation);
            Conditions.Remove(ref conditions, "Linked");
            status.Conditions = conditions;
            status.Phase = old?.Phase;
            return new IncidentPlan(status, null, null);
        }
        Conditions.Remove(ref conditions, "Invalid");

        status.Phase = spec.ResolvedAt is not null ? IncidentPhases.Resolved : restoredAt is not null ? IncidentPhases.Restored : IncidentPhases.Open;
        if (restoredAt is { } r) status.TimeToRestoreSeconds = (r - startedAt).TotalSeconds;
        if (spec.ResolvedAt is { } z) status.TimeToResolveSeconds = (z - startedAt).TotalSeconds;
        if (status.TimeToRestoreSeconds is { } ttr) status.Display = new DisplayValues { RestoredIn = Durations.Human(ttr) };

        var (linked, reason, message) = Link(incident, project, projectRecords, startedAt);
        status.LinkedDeployment = linked?.Metadata.Name;
        if (linked?.Status?.DeployedAt is { } deployedAt && startedAt >= deployedAt) status.TimeToDetectSeconds = (startedAt - deployedAt).TotalSeconds;
        Conditions.Set(ref conditions, "Linked", linked is not null, reason, message, now, incident.Metadata.Generation);
        status.Conditions = conditions;
        return new IncidentPlan(status, defaultStarted, defaultRestored);
    }

    private static (string Reason, string Message)? Validate(Incident incident, DateTimeOffset startedAt, DateTimeOffset? restoredAt, DateTimeOffset now)
    {
        var spec = incident.Spec;
        if (startedAt > now + FutureSkew)
        {
            return ("StartedInFuture", $"startedAt {startedAt:O} is in the future.");
        }
        if (spec.ResolvedAt is { } z2 && z2 < startedAt)
        {
            return ("ResolvedBeforeStarted", $"resolvedAt {z2:O} is before the start {startedAt:O}{(spec.StartedAt is null ? " (the creation time, since startedAt is not set)" : "")}.");
        }
        if (restoredAt is { } r && r < startedAt)
        {
            return ("RestoredBeforeStarted", $"restoredAt {r:O} is before the start {startedAt:O}{(spec.StartedAt is null ? " (the creation time, since startedAt is not set)" : "")}.");
        }
        if (spec.ResolvedAt is { } z && spec.RestoredAt is { } restored && z < restored)
        {
            return ("ResolvedBeforeRestored", $"resolvedAt {z:O} is before restoredAt {restored:O}; an incident is restored before it is resolved.");
        }
        if (spec.DetectedAt is { } d && d < startedAt)
        {
            return ("DetectedBeforeStarted", $"detectedAt {d:O} is before the start {startedAt:O}.");
        }
        return null;
    }

    /// <summary>
    /// The deployment the incident is attributed to. <c>spec.deploymentRef</c> wins. Otherwise, under
    /// the project's <c>lastDeployment</c> attribution, the last deployment to reach production
    /// (Succeeded, or since RolledBack) at or before the incident's start and within <c>maxAge</c> of it.
    /// </summary>
    private static (DeploymentRecord? Record, string Reason, string Message) Link(Incident incident, DoraProject? project, IReadOnlyList<DeploymentRecord> records, DateTimeOffset startedAt)
    {
        var ns = incident.Metadata.Namespace;
        if (project is null)
        {
            return (null, "ProjectNotFound", $"DoraProject \"{incident.Spec.Project}\" does not exist in namespace {ns}; the incident is linked once it is created.");
        }
        if (incident.Spec.DeploymentRef is { Length: > 0 } reference)
        {
            var named = records.FirstOrDefault(r => r.Metadata.Name == reference);
            return named is null
                ? (null, "DeploymentNotFound", $"DeploymentRecord \"{reference}\" of project {incident.Spec.Project} does not exist in namespace {ns} (kubectl get dr -n {ns}).")
                : (named, "DeploymentRef", $"linked to {reference} by spec.deploymentRef");
        }
        if (project.Spec.IncidentAttribution?.Mode != "lastDeployment")
        {
            return (null, "NoDeploymentRef", "the project attributes incidents explicitly (incidentAttribution.mode explicit) and spec.deploymentRef is not set");
        }
        var maxAge = Durations.TryParse(project.Spec.IncidentAttribution.MaxAge ?? DoraDefaults.AttributionMaxAge, out var age) ? age : TimeSpan.FromHours(24);
        var environment = DoraDefaults.EnvironmentOf(project);
        var candidates = records
            .Where(r => DoraDefaults.EnvironmentOf(r) == environment && r.Status is { Phase: RecordPhases.Succeeded or RecordPhases.RolledBack, DeployedAt: { } at } && at <= startedAt && startedAt - at <= maxAge)
            .ToList();
        var chosen = candidates
            .OrderByDescending(r => r.Status!.DeployedAt)
            .ThenByDescending(r => r.Spec.Revision)
            .ThenBy(r => r.Metadata.Name, StringComparer.Ordinal)
            .FirstOrDefault();
        return chosen is null
            ? (null, "NoDeployment", $"no deployment of project {project.Metadata.Name} reached {environment} in the {project.Spec.IncidentAttribution.MaxAge ?? DoraDefaults.AttributionMaxAge} before the incident started")
            : (chosen, "LastDeployment", $"linked to {chosen.Metadata.Name}, the last deployment before the incident started");
    }

    private static Condition Copy(Condition c) => new()
    {
        Type = c.Type, Status = c.Status, Reason = c.Reason, Message = c.Message, LastTransitionTime = c.LastTransitionTime, ObservedGeneration = c.ObservedGeneration,
    };
}
