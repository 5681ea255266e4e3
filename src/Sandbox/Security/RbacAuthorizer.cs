using System.Text.Json.Nodes;
using DoraOperator.Sandbox.Resources;
using DoraOperator.Sandbox.Storage;

namespace DoraOperator.Sandbox.Security;

/// <summary>How the Sandbox authorizes requests.</summary>
public enum AuthorizationMode
{
    /// <summary>Every authenticated request is allowed (the default).</summary>
    AlwaysAllow,

    /// <summary>
    /// Kubernetes RBAC: Roles, ClusterRoles, RoleBindings and ClusterRoleBindings stored in the Sandbox
    /// decide; members of <c>system:masters</c> (the admin token) are always allowed.
    /// </summary>
    Rbac,
}

/// <summary>
/// The RBAC authorizer of kube-apiserver, for resource requests: a request (user, verb, API group,
/// resource[/subresource], namespace, name) is allowed when a binding whose subjects include the
/// user (by name, by group, or as <c>system:serviceaccount:NS:NAME</c>) refers to a role with a rule
/// that covers it. RoleBindings grant only in their namespace, also when they refer to a ClusterRole.
/// Denials carry kube-apiserver's message.
/// </summary>
internal sealed class RbacAuthorizer(ObjectStore store, ResourceRegistry registry)
{
    public bool Allows(UserInfo user, string verb, string group, string resource, string? subresource, string? ns, string? name)
    {
        if (user.Groups.Contains("system:masters")) return true;
        var full = subresource is null ? resource : $"{resource}/{subresource}";
        foreach (var (roleRules, bindingNs) in RulesFor(user))
        {
            if (bindingNs is not null && bindingNs != ns) continue;
            if (roleRules.Any(rule => Covers(rule, verb, group, full, name))) return true;
        }
        return false;
    }

    /// <summary>kube-apiserver's wording for a denied request.</summary>
    public static string Denial(UserInfo user, string verb, string group, string resource, string? subresource, string? ns, string? name)
    {
        var qualified = group.Length == 0 ? resource : $"{resource}.{group}";
        var subject = name is null ? $"{qualified} is forbidden" : $"{qualified} \"{name}\" is forbidden";
        var full = subresource is null ? resource : $"{resource}/{subresource}";
        var scope = ns is null ? "at the cluster scope" : $"in the namespace \"{ns}\"";
        return $"{subject}: User \"{user.Name}\" cannot {verb} resource \"{full}\" in API group \"{group}\" {scope}";
    }

    private IEnumerable<(List<JsonObject> Rules, string? Namespace)> RulesFor(UserInfo user)
    {
        var clusterRoles = registry.Find("rbac.authorization.k8s.io", "v1", "clusterroles")!;
        var roles = registry.Find("rbac.authorization.k8s.io", "v1", "roles")!;
        foreach (var binding in store.Snapshot(registry.Find("rbac.authorization.k8s.io", "v1", "clusterrolebindings")!).Select(o => o.ToNode()))
        {
            if (!Matches(binding, user)) continue;
            if ((string?)binding["roleRef"]?["kind"] == "ClusterRole" && store.Get(clusterRoles, null, (string?)binding["roleRef"]?["name"] ?? "") is { } role)
            {
                yield return (Rules(role.ToNode()), null);
            }
        }
        foreach (var binding in store.Snapshot(registry.Find("rbac.authorization.k8s.io", "v1", "rolebindings")!).Select(o => o.ToNode()))
        {
            if (!Matches(binding, user)) continue;
            var ns = (string?)binding["metadata"]?["namespace"];
            var roleName = (string?)binding["roleRef"]?["name"] ?? "";
            var role = (string?)binding["roleRef"]?["kind"] == "ClusterRole" ? store.Get(clusterRoles, null, roleName) : store.Get(roles, ns, roleName);
            if (role is not null) yield return (Rules(role.ToNode()), ns);
        }
    }

    private static List<JsonObject> Rules(JsonObject role) => (role["rules"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];

    private static bool Matches(JsonObject binding, UserInfo user)
    {
        var bindingNs = (string?)binding["metadata"]?["namespace"];
        foreach (var s in (binding["subjects"] as JsonArray)?.OfType<JsonObject>() ?? [])
        {
            var kind = (string?)s["kind"];
            var name = (string?)s["name"];
            var matched = kind switch
            {
                "User" => name == user.Name,
                "Group" => name is not null && user.Groups.Contains(name),
                "ServiceAccount" => $"system:serviceaccount:{(string?)s["namespace"] ?? bindingNs}:{name}" == user.Name,
                _ => false,
            };
            if (matched) return true;
        }
        return false;
    }

    private static bool Covers(JsonObject rule, string verb, string group, string resource, string? name)
    {
        static bool Has(JsonNode? list, string value) => (list as JsonArray)?.Any(v => (string?)v == value || (string?)v == "*") == true;
        if (!Has(rule["verbs"], verb) || !Has(rule["apiGroups"], group) || !Has(rule["resources"], resource)) return false;
        if (rule["resourceNames"] is JsonArray { Count: > 0 } names)
        {
            return name is not null && names.Any(n => (string?)n == name);
        }
        return true;
    }
}
