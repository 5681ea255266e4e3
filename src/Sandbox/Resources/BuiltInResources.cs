namespace DoraOperator.Sandbox.Resources;

/// <summary>The built-in kinds the Sandbox serves, with the discovery facts a real 1.32 server reports.</summary>
internal static class BuiltInResources
{
    private static readonly string[] EventFields =
    [
        "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
        "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
        "reason", "reportingComponent", "source", "type",
    ];

    public static IEnumerable<ResourceType> All()
    {
        yield return new ResourceType
        {
            Group = "", Versions = ["v1"], Plural = "namespaces", Singular = "namespace", Kind = "Namespace",
            Namespaced = false, ShortNames = ["ns"], HasStatusSubresource = true, ExtraFieldLabels = ["status.phase"],
            SupportsStrategicMerge = true,
            Verbs = ["create", "delete", "get", "list", "patch", "update", "watch"],
        };
        yield return new ResourceType
        {
            Group = "", Versions = ["v1"], Plural = "configmaps", Singular = "configmap", Kind = "ConfigMap",
            Namespaced = true, ShortNames = ["cm"], SupportsStrategicMerge = true,
        };
        yield return new ResourceType
        {
            Group = "", Versions = ["v1"], Plural = "secrets", Singular = "secret", Kind = "Secret",
            Namespaced = true, ExtraFieldLabels = ["type"], SupportsStrategicMerge = true,
        };
        yield return new ResourceType
        {
            Group = "", Versions = ["v1"], Plural = "serviceaccounts", Singular = "serviceaccount", Kind = "ServiceAccount",
            Namespaced = true, ShortNames = ["sa"], SupportsStrategicMerge = true,
        };
        yield return new ResourceType
        {
            Group = "", Versions = ["v1"], Plural = "events", Singular = "event", Kind = "Event",
            Namespaced = true, ShortNames = ["ev"], ExtraFieldLabels = EventFields, SupportsStrategicMerge = true,
        };
        yield return new ResourceType
        {
            Group = "events.k8s.io", Versions = ["v1"], Plural = "events", Singular = "event", Kind = "Event",
            Namespaced = true, ShortNames = ["ev"], ExtraFieldLabels = EventFields, SupportsStrategicMerge = true,
        };
        yield return new ResourceType
        {
            Group = "apps", Versions = ["v1"], Plural = "deployments", Singular = "deployment", Kind = "Deployment",
            Namespaced = true, ShortNames = ["deploy"], Categories = ["all"], HasStatusSubresource = true,
            HasScaleSubresource = true, HasGeneration = true, GenerationTracksAnnotations = true, SupportsStrategicMerge = true,
        };
        yield return new ResourceType
        {
            Group = "apps", Versions = ["v1"], Plural = "replicasets", Singular = "replicaset", Kind = "ReplicaSet",
            Namespaced = true, ShortNames = ["rs"], Categories = ["all"], HasStatusSubresource = true,
            HasScaleSubresource = true, HasGeneration = true, SupportsStrategicMerge = true,
        };
        yield return new ResourceType
        {
            Group = "apps", Versions = ["v1"], Plural = "statefulsets", Singular = "statefulset", Kind = "StatefulSet",
            Namespaced = true, ShortNames = ["sts"], Categories = ["all"], HasStatusSubresource = true,
            HasScaleSubresource = true, HasGeneration = true, SupportsStrategicMerge = true,
        };
        yield return new ResourceType
        {
            Group = "apps", Versions = ["v1"], Plural = "daemonsets", Singular = "daemonset", Kind = "DaemonSet",
            Namespaced = true, ShortNames = ["ds"], Categories = ["all"], HasStatusSubresource = true,
            HasGeneration = true, SupportsStrategicMerge = true,
        };
        yield return new ResourceType
        {
            Group = "apps", Versions = ["v1"], Plural = "controllerrevisions", Singular = "controllerrevision", Kind = "ControllerRevision",
            Namespaced = true, SupportsStrategicMerge = true,
        };
        yield return new ResourceType
        {
            Group = "coordination.k8s.io", Versions = ["v1"], Plural = "leases", Singular = "lease", Kind = "Lease",
            Namespaced = true, SupportsStrategicMerge = true,
        };
        yield return new ResourceType
        {
            Group = "apiextensions.k8s.io", Versions = ["v1"], Plural = "customresourcedefinitions",
            Singular = "customresourcedefinition", Kind = "CustomResourceDefinition", Namespaced = false,
            ShortNames = ["crd", "crds"], Categories = ["api-extensions"], HasStatusSubresource = true, HasGeneration = true,
            SupportsStrategicMerge = false,
        };
        foreach (var (plural, kind) in new[] { ("roles", "Role"), ("rolebindings", "RoleBinding") })
        {
            yield return new ResourceType
            {
                Group = "rbac.authorization.k8s.io", Versions = ["v1"], Plural = plural, Singular = kind.ToLowerInvariant(),
                Kind = kind, Namespaced = true, SupportsStrategicMerge = true,
            };
        }
        foreach (var (plural, kind) in new[] { ("clusterroles", "ClusterRole"), ("clusterrolebindings", "ClusterRoleBinding") })
        {
            yield return new ResourceType
            {
                Group = "rbac.authorization.k8s.io", Versions = ["v1"], Plural = plural, Singular = kind.ToLowerInvariant(),
                Kind = kind, Namespaced = false, SupportsStrategicMerge = true,
            };
        }
    }
}
