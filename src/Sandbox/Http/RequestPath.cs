namespace DoraOperator.Sandbox.Http;

/// <summary>A resource request path split the way kube-apiserver's RequestInfoFactory splits it.</summary>
internal sealed record RequestPath(string Group, string Version, string? Namespace, string Plural, string? Name, string? Subresource, bool LegacyWatch)
{
    private static readonly HashSet<string> NamespaceSubresources = ["status", "finalize"];

    /// <summary>Parses <c>/api/v1/...</c> and <c>/apis/{group}/{version}/...</c>; null for anything shorter (discovery).</summary>
    public static RequestPath? Parse(string path)
    {
        var segments = path.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        int rest;
        string group, version;
        if (segments.Length >= 3 && segments[0] == "api")
        {
            group = "";
            version = segments[1];
            rest = 2;
        }
        else if (segments.Length >= 4 && segments[0] == "apis")
        {
            group = segments[1];
            version = segments[2];
            rest = 3;
        }
        else
        {
            return null;
        }
        var parts = segments[rest..];
        var legacyWatch = false;
        if (parts.Length > 0 && parts[0] == "watch")
        {
            legacyWatch = true;
            parts = parts[1..];
        }
        if (parts.Length == 0) return null;
        if (parts[0] == "namespaces" && parts.Length >= 3 && !(parts.Length == 3 && NamespaceSubresources.Contains(parts[2])))
        {
            return new RequestPath(group, version, parts[1], parts[2], parts.ElementAtOrDefault(3), parts.ElementAtOrDefault(4), legacyWatch);
        }
        return new RequestPath(group, version, null, parts[0], parts.ElementAtOrDefault(1), parts.ElementAtOrDefault(2), legacyWatch);
    }
}
