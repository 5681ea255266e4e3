using DoraOperator.Kube.Meta;
using System.Text.Json;
using System.Text.Json.Nodes;
using DoraOperator.Entities.BuiltIn;
using DoraOperator.Kube.Config;
using DoraOperator.Kube.Rest;
using DoraOperator.Sandbox;
using DoraOperator.Testing;

namespace DoraOperator.Entities.Tests;

public sealed class WorkloadTests
{
    private const string ServerDeployment = """
        {"apiVersion":"apps/v1","kind":"Deployment",
         "metadata":{"name":"web","namespace":"shop","uid":"u1","resourceVersion":"42","generation":3,"creationTimestamp":"2026-11-01T10:00:00Z",
           "annotations":{"deployment.kubernetes.io/revision":"7","dora-operator.io/project":"shop"},
           "managedFields":[{"manager":"kubectl","operation":"Update"}]},
         "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"revisionHistoryLimit":10,
           "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}},
           "template":{"metadata":{"labels":{"app":"web"},"annotations":{"dora-operator.io/commit-sha":"abc123","dora-operator.io/commit-time":"2026-11-01T09:00:00Z"}},
             "spec":{"containers":[{"name":"app","image":"shop/web:1.2.3","ports":[{"containerPort":8080}]}],"dnsPolicy":"ClusterFirst"}}},
         "status":{"observedGeneration":3,"replicas":2,"updatedReplicas":2,"availableReplicas":2,
           "conditions":[{"type":"Progressing","status":"True","lastUpdateTime":"2026-11-01T10:05:00Z","lastTransitionTime":"2026-11-01T10:00:00Z","reason":"NewReplicaSetAvailable","message":"ok"}],
           "futureField":{"x":1}}}
        """;

    [Fact]
    public void Deployment_ReadsTheFieldsTheOperatorUses()
    {
        var d = JsonSerializer.Deserialize(ServerDeployment, Deployment.JsonType)!;
        Assert.Equal("7", d.Metadata.Annotations!["deployment.kubernetes.io/revision"]);
        Assert.Equal("abc123", d.Spec!.Template!.Metadata!.Annotations!["dora-operator.io/commit-sha"]);
        Assert.Equal("shop/web:1.2.3", d.Spec.Template.Spec!.Containers![0].Image);
        var progressing = d.Status!.Conditions!.Single(c => c.Type == "Progressing");
        Assert.Equal("NewReplicaSetAvailable", progressing.Reason);
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 10, 5, 0, TimeSpan.Zero), progressing.LastUpdateTime);
        Assert.Equal(3, d.Status.ObservedGeneration);
    }

    [Fact]
    public void Deployment_RoundTripsUnknownFields_SoAWriteLosesNothing()
    {
        var d = JsonSerializer.Deserialize(ServerDeployment, Deployment.JsonType)!;
        var written = JsonNode.Parse(JsonSerializer.Serialize(d, Deployment.JsonType))!;
        Assert.Equal("RollingUpdate", (string?)written["spec"]!["strategy"]!["type"]);
        Assert.Equal(8080, (int)written["spec"]!["template"]!["spec"]!["containers"]![0]!["ports"]![0]!["containerPort"]!);
        Assert.Equal("ClusterFirst", (string?)written["spec"]!["template"]!["spec"]!["dnsPolicy"]);
        Assert.Equal("kubectl", (string?)written["metadata"]!["managedFields"]![0]!["manager"]);
        Assert.Equal("2026-11-01T10:00:00Z", (string?)written["metadata"]!["creationTimestamp"]);
    }

    [Fact]
    public void Lean_DropsWhatTheOperatorNeverReads()
    {
        var d = Workloads.Lean(JsonSerializer.Deserialize(ServerDeployment, Deployment.JsonType)!);
        var written = JsonNode.Parse(JsonSerializer.Serialize(d, Deployment.JsonType))!;
        Assert.Null(written["metadata"]!["managedFields"]);
        Assert.Null(written["spec"]!["strategy"]);
        Assert.Null(written["spec"]!["template"]!["spec"]);
        Assert.Equal("shop/web:1.2.3", Workloads.Image(d.Spec!.Template));
        Assert.Equal("abc123", Workloads.TemplateAnnotation(d.Spec!.Template, "dora-operator.io/commit-sha"));
    }

    [Fact]
    public void Lean_KeepsWhatTheTrackerReads_AndNothingElse()
    {
        var d = Workloads.Lean(JsonSerializer.Deserialize(ServerDeployment, Deployment.JsonType)!);
        Assert.Equal(["deployment.kubernetes.io/revision", "dora-operator.io/project"], d.Metadata.Annotations!.Keys.Order());
        Assert.Equal("u1", d.Metadata.Uid);
        Assert.Equal(3, d.Metadata.Generation);
        Assert.Equal(2, d.Spec!.Replicas);
        Assert.Null(d.Spec.Selector);
        Assert.Null(d.Spec.Template!.Metadata);
        Assert.Equal(["dora-operator.io/commit-sha", "dora-operator.io/commit-time"], d.Spec.Template.LeanAnnotations!.Select(kv => kv.Key).Order());
        Assert.Equal("2026-11-01T09:00:00Z", Workloads.TemplateAnnotation(d.Spec.Template, "dora-operator.io/commit-time"));
        Assert.Null(Workloads.TemplateAnnotation(d.Spec.Template, "dora-operator.io/change-type"));
        Assert.Null(d.Spec.Template.Spec);
        Assert.Equal("shop/web:1.2.3", Workloads.Image(d.Spec.Template));
        Assert.Null(d.Spec.Template.Fingerprint);
        var progressing = d.Status!.Conditions!.Single();
        Assert.Equal("NewReplicaSetAvailable", progressing.Reason);
        Assert.Null(progressing.Message);
        Assert.Equal(3, d.Status.ObservedGeneration);
    }

    [Fact]
    public void Lean_SharesMetadataMapsWhoseEveryValueRepeats_AndKeepsTheOthersOwn()
    {
        Deployment Decode(string name, string labels, string revision) => Workloads.Lean(JsonSerializer.Deserialize($$"""
            {"metadata":{"name":"{{name}}","namespace":"shop","labels":{{labels}},"annotations":{"deployment.kubernetes.io/revision":"{{revision}}","kubectl.kubernetes.io/last-applied-configuration":"x"} },
             "status":{"conditions":[{"type":"Progressing","status":"True","lastUpdateTime":"2026-11-01T09:00:01Z","lastTransitionTime":"2026-11-01T09:00:00+02:00","reason":"NewReplicaSetAvailable"}]} }
            """, Deployment.JsonType)!);
        var (a, b) = (Decode("a", """{"team":"pay"}""", "4"), Decode("b", """{"team":"pay"}""", "4"));
        Assert.Same(a.Metadata.Labels, b.Metadata.Labels);
        Assert.Same(a.Metadata.Annotations, b.Metadata.Annotations);
        Assert.Equal(["deployment.kubernetes.io/revision"], a.Metadata.Annotations!.Keys);
        // A value of its own (an app name) keeps the map unshared; another revision is another shared map.
        var (c, d) = (Decode("c", """{"team":"pay","app":"c"}""", "4"), Decode("d", """{"team":"pay","app":"d"}""", "5"));
        Assert.NotSame(c.Metadata.Labels, d.Metadata.Labels);
        Assert.Equal("c", c.Metadata.Labels!["app"]);
        Assert.Equal("5", d.Metadata.Annotations![Workloads.RevisionAnnotation]);
        Assert.NotSame(a.Metadata.Annotations, d.Metadata.Annotations);
        // The Progressing condition's times are packed and read back as the same instants.
        var progressing = a.Status!.Conditions!.Single();
        Assert.Equal(DateTimeOffset.Parse("2026-11-01T09:00:01Z", System.Globalization.CultureInfo.InvariantCulture), progressing.LastUpdateTime);
        Assert.Equal(DateTimeOffset.Parse("2026-11-01T07:00:00Z", System.Globalization.CultureInfo.InvariantCulture), progressing.LastTransitionTime);
    }

    [Fact]
    public void LeanReplicaSet_KeepsOwnerRevisionAndTemplate_InOneObject()
    {
        const string Json = """
            {"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"web-5d8f6b7c9","namespace":"shop","resourceVersion":"12","creationTimestamp":"2026-11-01T10:00:00Z",
              "labels":{"app":"web","pod-template-hash":"5d8f6b7c9"},
              "uid":"rs-uid","annotations":{"deployment.kubernetes.io/revision":"3","deployment.kubernetes.io/revision-history":"1",
                "deployment.kubernetes.io/desired-replicas":"2","deployment.kubernetes.io/max-replicas":"3","other":"x"},
              "ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"web","uid":"d1","controller":true}]},
             "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"},"annotations":{"dora-operator.io/commit-sha":"abc"}},"spec":{"containers":[{"name":"app","image":"web:3"}]}}},
             "status":{"replicas":2,"readyReplicas":2}}
            """;
        var lean = Workloads.Lean(JsonSerializer.Deserialize(Json, ReplicaSet.JsonType)!);
        Assert.Equal(("web-5d8f6b7c9", "shop", "12"), (lean.Name, lean.Namespace, lean.ResourceVersion));
        Assert.Equal(["deployment.kubernetes.io/revision", "deployment.kubernetes.io/revision-history"], lean.Annotations!.Keys.Order());
        var owner = Assert.Single(lean.OwnerReferences!);
        Assert.Equal("d1", owner.Uid);
        // Pooled: every ReplicaSet of a Deployment shares one copy of its owner's uid and name.
        Assert.Same(StringPool.Intern(new string("d1".AsSpan())), owner.Uid);
        Assert.Same(StringPool.Intern(new string("web".AsSpan())), owner.Name);
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 10, 0, 0, TimeSpan.Zero), lean.CreationTimestamp);
        Assert.Null(lean.DeletionTimestamp);
        Assert.Equal("abc", Workloads.TemplateAnnotation(lean.Template(), "dora-operator.io/commit-sha"));
        Assert.Equal("web:3", Workloads.Image(lean.Template()));
        Assert.Equal(Workloads.Fingerprint(JsonSerializer.Deserialize(Json, ReplicaSet.JsonType)!.Spec!.Template!), lean.Template()!.Fingerprint);
        Assert.Null(Workloads.Lean(new ReplicaSet { Metadata = new() { Name = "bare" } }).Template());
    }

    /// <summary>A ReplicaSet as kube-apiserver serves it, with its template (restart annotation and hash label included) in a served shape.</summary>
    private static string ServedReplicaSet(string image = "shop/web:1.2.3", string restartedAt = "2026-11-01T09:30:00Z", string hash = "5d8f6b7c9") => """
        {"apiVersion":"apps/v1","kind":"ReplicaSet",
         "metadata":{"name":"web-HASH","namespace":"shop","uid":"rs1","resourceVersion":"43","creationTimestamp":"2026-11-01T10:00:00Z",
           "labels":{"app":"web","pod-template-hash":"HASH"},"annotations":{"deployment.kubernetes.io/revision":"7"},
           "ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"web","uid":"u1","controller":true,"blockOwnerDeletion":true}],
           "managedFields":[{"manager":"kube-controller-manager","operation":"Update","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{}}}]},
         "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web","pod-template-hash":"HASH"}},
           "template":{"metadata":{"creationTimestamp":null,"labels":{"app":"web","pod-template-hash":"HASH"},
               "annotations":{"dora-operator.io/commit-sha":"abc123","dora-operator.io/commit-time":"2026-11-01T09:00:00Z","kubectl.kubernetes.io/restartedAt":"RESTARTED","other":"x"}},
             "spec":{"containers":[{"name":"app","image":"IMAGE","ports":[{"containerPort":8080,"protocol":"TCP"}],"env":[{"name":"B","value":"2"},{"name":"A","value":"1"}],
                 "resources":{"requests":{"cpu":"100m","memory":"64Mi"}},"terminationMessagePath":"/dev/termination-log","imagePullPolicy":"IfNotPresent"},
                 {"name":"sidecar","image":"proxy:1","resources":{}}],
               "restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}}},
         "status":{"replicas":2,"fullyLabeledReplicas":2,"readyReplicas":2,"availableReplicas":2,"observedGeneration":1}}
        """.Replace("HASH", hash, StringComparison.Ordinal).Replace("IMAGE", image, StringComparison.Ordinal).Replace("RESTARTED", restartedAt, StringComparison.Ordinal);

    [Fact]
    public void CacheReadOfAReplicaSet_TakesTheTemplateStraightToItsLeanForm_WithTheSameFingerprint()
    {
        // The cache reads ReplicaSets with the skipping contract: the template is parsed once into
        // its lean form, never decoded into objects. What it keeps equals the full decode's.
        var contract = UnknownFieldsContract<ReplicaSet>.For(UnknownFields.SkipInMetadata);
        var raw = JsonSerializer.Deserialize(ServedReplicaSet(), contract)!;
        Assert.Null(raw.Spec!.Template!.Spec);
        Assert.Null(raw.Spec.Template.Metadata);
        var cached = Workloads.Lean(raw);
        var full = Workloads.Lean(JsonSerializer.Deserialize(ServedReplicaSet(), ReplicaSet.JsonType)!);
        Assert.Equal(full.Fingerprint, cached.Fingerprint);
        Assert.Equal(Workloads.Fingerprint(JsonSerializer.Deserialize(ServedReplicaSet(), ReplicaSet.JsonType)!.Spec!.Template!), cached.Fingerprint);
        Assert.Equal(full.TemplateAnnotations, cached.TemplateAnnotations);
        Assert.Equal(["dora-operator.io/commit-sha", "dora-operator.io/commit-time", Workloads.RestartedAtAnnotation], cached.TemplateAnnotations!.Select(a => a.Key));
        Assert.Equal("shop/web:1.2.3", cached.Image);
        Assert.True(Workloads.SameRevision(full, cached));

        // A restart (new restartedAt) in another ReplicaSet (new hash) keeps the fingerprint; a new image changes it.
        Assert.Equal(cached.Fingerprint, Workloads.Lean(JsonSerializer.Deserialize(ServedReplicaSet(restartedAt: "2026-11-02T00:00:00Z", hash: "77c4f9d8b"), contract)!).Fingerprint);
        Assert.NotEqual(cached.Fingerprint, Workloads.Lean(JsonSerializer.Deserialize(ServedReplicaSet(image: "shop/web:1.2.4"), contract)!).Fingerprint);
        // A ReplicaSet without a template has none, and a template that is not an object is refused.
        Assert.Null(Workloads.Lean(JsonSerializer.Deserialize("""{"metadata":{"name":"bare"},"spec":{"template":null}}""", contract)!).Template());
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize("""{"metadata":{"name":"odd"},"spec":{"template":[1]}}""", contract));
        // The lean form is for reading only.
        Assert.Throws<NotSupportedException>(() => JsonSerializer.Serialize(raw, contract));
    }

    [Fact]
    public void UnknownFieldsSkippedEverywhere_LeaveEveryNamedField()
    {
        var skipped = JsonSerializer.Deserialize(ServerDeployment, UnknownFieldsContract<Deployment>.For(UnknownFields.Skip))!;
        Assert.Null(skipped.Metadata.ExtensionData);
        Assert.Null(skipped.Spec!.ExtensionData);
        Assert.Null(skipped.Spec.Template!.Spec!.ExtensionData);
        Assert.Null(skipped.ExtensionData);
        Assert.Equal("shop/web:1.2.3", Workloads.Image(skipped.Spec.Template));
        Assert.Equal("abc123", skipped.Spec.Template.Metadata!.Annotations!["dora-operator.io/commit-sha"]);
        Assert.Equal(2, skipped.Spec.Replicas);
        Assert.Equal("NewReplicaSetAvailable", skipped.Status!.Conditions!.Single().Reason);
        Assert.Same(Deployment.JsonType, UnknownFieldsContract<Deployment>.For(UnknownFields.Keep));
    }

    [Fact]
    public void UnknownFieldsSkippedInMetadata_TheTemplateKeepsWhatItsFingerprintCovers()
    {
        var skipped = JsonSerializer.Deserialize(ServerDeployment, UnknownFieldsContract<Deployment>.For(UnknownFields.SkipInMetadata))!;
        Assert.Null(skipped.Metadata.ExtensionData);
        Assert.Equal("7", skipped.Metadata.Annotations!["deployment.kubernetes.io/revision"]);
        Assert.Equal("ClusterFirst", skipped.Spec!.Template!.Spec!.ExtensionData!["dnsPolicy"].GetString());
        Assert.Equal("RollingUpdate", skipped.Spec.ExtensionData!["strategy"].GetProperty("type").GetString());
        var full = JsonSerializer.Deserialize(ServerDeployment, Deployment.JsonType)!;
        Assert.True(full.Metadata.ExtensionData!.ContainsKey("managedFields"));
        Assert.Equal(Workloads.Fingerprint(full.Spec!.Template!), Workloads.Fingerprint(skipped.Spec.Template));
    }

    [Fact]
    public void SameRevision_IgnoresScaleAndStatus_ButNotTheRevisionOrTemplate()
    {
        static LeanReplicaSet Set(int replicas, string revision = "3", string image = "web:3") => Workloads.Lean(JsonSerializer.Deserialize("""
            {"metadata":{"name":"web-1","namespace":"shop","creationTimestamp":"2026-11-01T10:00:00Z","annotations":{"deployment.kubernetes.io/revision":"REVISION"},
              "ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"web","uid":"d1","controller":true}]},
             "spec":{"replicas":REPLICAS,"template":{"spec":{"containers":[{"name":"app","image":"IMAGE"}]}}},
             "status":{"replicas":REPLICAS,"readyReplicas":REPLICAS}}
            """.Replace("REVISION", revision, StringComparison.Ordinal).Replace("REPLICAS", $"{replicas}", StringComparison.Ordinal).Replace("IMAGE", image, StringComparison.Ordinal), ReplicaSet.JsonType)!);
        var running = Set(3);
        Assert.True(Workloads.SameRevision(running, Set(0)));
        Assert.False(Workloads.SameRevision(running, Set(3, revision: "5")));
        Assert.False(Workloads.SameRevision(running, Set(3, image: "web:4")));
    }

    [Fact]
    public void LeanReplicaSets_OfOneDeployment_ShareOneOwnerList_AndEqualRevisionNumbers()
    {
        static LeanReplicaSet Set(string name, int revision, string owner) => Workloads.Lean(JsonSerializer.Deserialize($$$"""
            {"metadata":{"name":"{{{name}}}","namespace":"shop","annotations":{"deployment.kubernetes.io/revision":"{{{revision}}}"},
              "ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"{{{owner}}}","uid":"uid-{{{owner}}}","controller":true,"blockOwnerDeletion":true}]}}
            """, ReplicaSet.JsonType)!);
        var (first, second, other) = (Set("api-1", 1, "api"), Set("api-2", 2, "api"), Set("db-1", 1, "db"));
        Assert.Same(first.OwnerReferences, second.OwnerReferences);
        Assert.NotSame(first.OwnerReferences, other.OwnerReferences);
        Assert.Equal("uid-db", Assert.Single(other.OwnerReferences!).Uid);
        Assert.True(first.OwnerReferences![0].BlockOwnerDeletion);
        Assert.Same(first.Annotations!["deployment.kubernetes.io/revision"], other.Annotations!["deployment.kubernetes.io/revision"]);
        // Revision annotations alone repeat whole across Deployments: one shared map.
        Assert.Same(first.Annotations, other.Annotations);
        Assert.NotSame(first.Annotations, second.Annotations);
    }

    [Fact]
    public void LeanReplicaSets_KeepAnnotationsWithValuesOfTheirOwn_Unshared()
    {
        static LeanReplicaSet Set(string sha) => Workloads.Lean(JsonSerializer.Deserialize($$$$"""
            {"metadata":{"name":"api-1","namespace":"shop","annotations":{"deployment.kubernetes.io/revision":"1","dora-operator.io/commit-sha":"{{{{sha}}}}"}}}
            """, ReplicaSet.JsonType)!);
        var (a, b) = (Set("abc"), Set("abc"));
        Assert.NotSame(a.Annotations, b.Annotations);
        Assert.Equal("abc", a.Annotations!["dora-operator.io/commit-sha"]);
    }

    [Fact]
    public void LeanDeployment_KeepsOnlyTheProgressingCondition()
    {
        var json = ServerDeployment.Replace("\"conditions\":[", "\"conditions\":[{\"type\":\"Available\",\"status\":\"True\",\"reason\":\"MinimumReplicasAvailable\",\"message\":\"up\"},", StringComparison.Ordinal);
        var full = JsonSerializer.Deserialize(json, Deployment.JsonType)!;
        Assert.Equal(2, full.Status!.Conditions!.Count);
        var progressing = Assert.Single(Workloads.Lean(full).Status!.Conditions!);
        Assert.Equal("NewReplicaSetAvailable", progressing.Reason);
        Assert.Null(progressing.Message);
    }

    [Fact]
    public void LeanRecords_ShareADisplayOfOnlyALeadTime_AndKeepOthers()
    {
        static Dora.DeploymentRecord Record(string name, string display) => Dora.DoraLean.Lean(JsonSerializer.Deserialize(
            """{"metadata":{"name":"NAME","namespace":"shop"},"spec":{"project":"shop","workload":{"name":"api"},"revision":1},"status":{"phase":"Succeeded","display":DISPLAY}}"""
                .Replace("NAME", name, StringComparison.Ordinal).Replace("DISPLAY", display, StringComparison.Ordinal), Dora.DeploymentRecord.JsonType)!);
        var (a, b, c) = (Record("a", """{"leadTime":"2.4h"}"""), Record("b", """{"leadTime":"2.4h"}"""), Record("c", """{"leadTime":"3h"}"""));
        Assert.Same(a.Status!.Display, b.Status!.Display);
        Assert.Equal("3h", c.Status!.Display!.LeadTime);
        Assert.NotSame(a.Status.Display, c.Status.Display);
        var (d, e) = (Record("d", """{"leadTime":"2.4h","tier":"elite"}"""), Record("e", """{"leadTime":"2.4h","tier":"elite"}"""));
        Assert.NotSame(d.Status!.Display, e.Status!.Display);
        Assert.Equal("elite", d.Status.Display!.Tier);
    }

    [Fact]
    public void LeanRecords_OfOneWorkload_ShareLabels_AndTheBackfilledConditions()
    {
        static Dora.DeploymentRecord Record(string name, string workload, string message, string time = "2026-11-01T10:00:00Z") => Dora.DoraLean.Lean(JsonSerializer.Deserialize($$$"""
            {"metadata":{"name":"{{{name}}}","namespace":"shop","uid":"{{{name}}}-uid","labels":{"dora-operator.io/project":"shop","dora-operator.io/workload":"{{{workload}}}"},
              "ownerReferences":[{"apiVersion":"dora-operator.io/v1alpha1","kind":"DoraProject","name":"shop","uid":"p1","blockOwnerDeletion":true}]},
             "spec":{"project":"shop","workload":{"kind":"Deployment","name":"{{{workload}}}","uid":"w-{{{workload}}}"},"revision":1},
             "status":{"phase":"Succeeded","conditions":[{"type":"Backfilled","status":"True","reason":"RetainedHistory","message":"{{{message}}}","lastTransitionTime":"{{{time}}}"}]}}
            """, Dora.DeploymentRecord.JsonType)!);
        var text = new string('m', 300);
        var (first, second, other) = (Record("api-1", "api", text), Record("api-2", "api", text), Record("db-1", "db", "other text"));
        Assert.Same(first.Metadata.Labels, second.Metadata.Labels);
        Assert.Equal("db", other.Metadata.Labels!["dora-operator.io/workload"]);
        Assert.Same(first.Metadata.OwnerReferences, other.Metadata.OwnerReferences);
        Assert.Same(first.Status!.Conditions![0].Message, second.Status!.Conditions![0].Message);
        Assert.Equal("other text", other.Status!.Conditions![0].Message);
        Assert.Same(first.Spec.Workload, second.Spec.Workload);
        Assert.NotSame(first.Spec.Workload, other.Spec.Workload);
        Assert.Equal("w-db", other.Spec.Workload.Uid);
        Assert.Equal("api-1-uid", first.Metadata.Uid);
        // Records backfilled in the same second with the same text share their conditions.
        Assert.Same(first.Status.Conditions, second.Status.Conditions);
        Assert.NotSame(first.Status.Conditions, other.Status.Conditions);
        var later = Record("api-3", "api", text, "2026-11-01T10:00:01Z");
        Assert.NotSame(first.Status.Conditions, later.Status!.Conditions);
        var condition = Assert.Single(later.Status.Conditions!);
        Assert.Equal(("Backfilled", "True", "RetainedHistory", text, DateTimeOffset.Parse("2026-11-01T10:00:01Z", System.Globalization.CultureInfo.InvariantCulture)),
            (condition.Type, condition.Status, condition.Reason, condition.Message, condition.LastTransitionTime));
    }

    private static PodTemplateSpec Template(string json) => JsonSerializer.Deserialize(json, EntitiesJsonContext.Default.PodTemplateSpec)!;

    [Fact]
    public void TemplateAnnotation_ReadsFullTemplatesToo()
    {
        var full = JsonSerializer.Deserialize(ServerDeployment, Deployment.JsonType)!;
        Assert.Equal("abc123", Workloads.TemplateAnnotation(full.Spec!.Template, "dora-operator.io/commit-sha"));
        Assert.Null(Workloads.TemplateAnnotation(null, "dora-operator.io/commit-sha"));
    }

    [Fact]
    public void Fingerprint_IgnoresRestartedAtAndTheHashLabelAndKeyOrder_ButNotRealChanges()
    {
        var original = Template("""{"metadata":{"labels":{"app":"web"},"annotations":{"a":"1"}},"spec":{"containers":[{"name":"app","image":"web:1","env":[{"name":"X","value":"1"}]}]}}""");
        var restarted = Template("""{"metadata":{"annotations":{"a":"1","kubectl.kubernetes.io/restartedAt":"2026-11-01T00:00:00Z"},"labels":{"app":"web"}},"spec":{"containers":[{"image":"web:1","name":"app","env":[{"value":"1","name":"X"}]}]}}""");
        var replicaSetCopy = Template("""{"metadata":{"labels":{"app":"web","pod-template-hash":"5d8f6b7c9"},"annotations":{"a":"1"}},"spec":{"containers":[{"name":"app","image":"web:1","env":[{"name":"X","value":"1"}]}]}}""");
        var newImage = Template("""{"metadata":{"labels":{"app":"web"},"annotations":{"a":"1"}},"spec":{"containers":[{"name":"app","image":"web:2","env":[{"name":"X","value":"1"}]}]}}""");
        var newEnv = Template("""{"metadata":{"labels":{"app":"web"},"annotations":{"a":"1"}},"spec":{"containers":[{"name":"app","image":"web:1","env":[{"name":"X","value":"2"}]}]}}""");
        var fingerprint = Workloads.Fingerprint(original);
        Assert.Equal(fingerprint, Workloads.Fingerprint(restarted));
        Assert.Equal(fingerprint, Workloads.Fingerprint(replicaSetCopy));
        Assert.NotEqual(fingerprint, Workloads.Fingerprint(newImage));
        Assert.NotEqual(fingerprint, Workloads.Fingerprint(newEnv));
    }

    [Theory]
    [InlineData("""{"metadata":{"labels":{"app":"web","pod-template-hash":"7c9f"},"annotations":{"z":"1","a":"2","kubectl.kubernetes.io/restartedAt":"x"}},"spec":{"containers":[{"name":"app","image":"web:1","env":[{"value":"1","name":"X"}]}],"nodeSelector":{"b":"1","a":"2","B":"3"}}}""")]
    [InlineData("""{"metadata":{"annotations":{"é":"1","e":"2","<x>":"3","\u00e8":"4","\ud83d\ude00":"5","\uffff":"6"}},"spec":{"containers":[{"name":"app","image":"web:1"}],"securityContext":{},"tolerations":[{"key":"k","operator":"Exists"}]}}""")]
    [InlineData("""{"metadata":{"labels":{"pod-template-hash":"1"},"annotations":{"kubectl.kubernetes.io/restartedAt":"x"}},"spec":{"containers":[{"name":"app","image":"web:1","resources":{"limits":{},"requests":{"memory":"1Gi","cpu":"1"}}}]}}""")]
    public void Fingerprint_IsTheDigestOfTheCanonicalForm(string json)
    {
        // The canonical form, spelled out: keys in ordinal order, nulls and empty objects left out,
        // restartedAt and pod-template-hash ignored, the digest's first 10 bytes in lowercase hex.
        static JsonNode? Canonical(JsonNode? node, string place)
        {
            if (node is JsonArray array) return new JsonArray([.. array.Select(item => Canonical(item, "other"))]);
            if (node is not JsonObject o) return node?.DeepClone();
            var result = new JsonObject();
            foreach (var (key, value) in o.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                if ((place == "annotations" && key == Workloads.RestartedAtAnnotation) || (place == "labels" && key == Workloads.PodTemplateHashLabel)) continue;
                var child = Canonical(value, (place, key) switch { ("root", "metadata") => "metadata", ("metadata", "annotations" or "labels") => key, _ => "other" });
                if (child is null || child is JsonObject { Count: 0 }) continue;
                result[key] = child;
            }
            return result;
        }
        var template = Template(json);
        var canonical = Canonical(JsonNode.Parse(JsonSerializer.SerializeToUtf8Bytes(template, EntitiesJsonContext.Default.PodTemplateSpec)), "root")!.ToJsonString();
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(canonical))[..10]);
        Assert.Equal(expected, Workloads.Fingerprint(template).ToString());
    }

    [Fact]
    public void Fingerprint_LeavesOutEmptyObjects_AndAnnotationsLeftEmptyByTheRestart()
    {
        var plain = Template("""{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"app","image":"web:1"}]}}""");
        // What an API server returns for the same template: empty objects, and after a restart only restartedAt.
        var served = Template("""{"metadata":{"creationTimestamp":null,"labels":{"app":"web","pod-template-hash":"7c9f"},"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-11-01T00:00:00Z"}},"spec":{"containers":[{"resources":{},"image":"web:1","name":"app"}],"securityContext":{}}}""");
        var otherLabel = Template("""{"metadata":{"labels":{"app":"web","tier":"front"}},"spec":{"containers":[{"name":"app","image":"web:1"}]}}""");
        Assert.Equal(Workloads.Fingerprint(plain), Workloads.Fingerprint(served));
        Assert.NotEqual(Workloads.Fingerprint(plain), Workloads.Fingerprint(otherLabel));
        Assert.Matches("^[0-9a-f]{20}$", Workloads.Fingerprint(plain).ToString());
    }

    [Fact]
    public async Task Deployment_AgainstTheSandbox_ReadsControllerStatusAndReplicaSets()
    {
        await using var server = await SandboxApiServer.StartAsync();
        var kubeconfig = Path.GetTempFileName();
        await server.WriteKubeconfigAsync(kubeconfig);
        using var client = new KubeApiClient(KubeConfigLoader.Load(kubeconfig));
        var created = await client.CreateAsync(new Deployment
        {
            Metadata = new() { Name = "web", Namespace = "default" },
            Spec = new DeploymentSpec
            {
                Replicas = 2,
                Selector = new() { MatchLabels = new() { ["app"] = "web" } },
                Template = new PodTemplateSpec
                {
                    Metadata = new() { Labels = new() { ["app"] = "web" } },
                    Spec = new PodSpec { Containers = [new Container { Name = "app", Image = "web:1" }] },
                },
            },
        });
        Assert.Equal(1, created.Metadata.Generation);
        var done = await Eventually.Until(() => client.GetAsync<Deployment>("web"),
            d => d.Status?.Conditions?.Any(c => c is { Type: "Progressing", Reason: "NewReplicaSetAvailable" }) == true, "the rollout");
        Assert.Equal(2, done.Status!.AvailableReplicas);
        var sets = await client.ListAsync<ReplicaSet>("default");
        var rs = Assert.Single(sets.Items);
        Assert.Equal("1", rs.Metadata.Annotations!["deployment.kubernetes.io/revision"]);
        Assert.Equal(created.Metadata.Uid, rs.Metadata.OwnerReferences![0].Uid);
        Assert.Equal(Workloads.Fingerprint(done.Spec!.Template!), Workloads.Lean(rs).Fingerprint);
        File.Delete(kubeconfig);
    }
}
