using System.Net;
using System.Text.Json.Nodes;
using DoraOperator.Testing;

namespace DoraOperator.Sandbox.Tests;

public sealed class ProtocolTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    private ApiClient Api => fixture.Api;

    [Fact]
    public async Task Discovery_ListsCoreAndGroupResources_WithVerbsShortNamesAndSubresources()
    {
        var version = await Api.GetAsync("/version");
        Assert.Equal("1", (string?)version.Object["major"]);
        Assert.Equal("32", (string?)version.Object["minor"]);

        var core = await Api.GetAsync("/api");
        Assert.Equal("APIVersions", (string?)core.Object["kind"]);

        var groups = await Api.GetAsync("/apis");
        var names = groups.Object["groups"]!.AsArray().Select(g => (string?)g!["name"]).ToList();
        Assert.Contains("apps", names);
        Assert.Contains("coordination.k8s.io", names);
        Assert.Contains("apiextensions.k8s.io", names);
        Assert.Contains("events.k8s.io", names);

        var apps = await Api.GetAsync("/apis/apps/v1");
        var resources = apps.Object["resources"]!.AsArray().Select(r => r!.AsObject()).ToList();
        var deployments = resources.Single(r => (string?)r["name"] == "deployments");
        Assert.Equal("Deployment", (string?)deployments["kind"]);
        Assert.True((bool)deployments["namespaced"]!);
        Assert.Contains("deploy", deployments["shortNames"]!.AsArray().Select(s => (string?)s));
        Assert.Contains("watch", deployments["verbs"]!.AsArray().Select(s => (string?)s));
        Assert.Contains(resources, r => (string?)r["name"] == "deployments/status");
        Assert.Contains(resources, r => (string?)r["name"] == "deployments/scale" && (string?)r["kind"] == "Scale");

        var unknown = await Api.GetAsync("/apis/nope.io/v1");
        Assert.Equal(404, unknown.Code);
    }

    [Fact]
    public async Task Create_SetsServerFields_AndGetReturnsTheObject()
    {
        var ns = await Api.NewNamespaceAsync();
        var created = await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ApiClient.ConfigMap("a", data: new() { ["k"] = "v" }));
        Assert.Equal(201, created.Code);
        var meta = created.Object["metadata"]!;
        Assert.False(string.IsNullOrEmpty((string?)meta["uid"]));
        Assert.False(string.IsNullOrEmpty((string?)meta["resourceVersion"]));
        Assert.EndsWith("Z", (string?)meta["creationTimestamp"]);
        Assert.Equal(ns, (string?)meta["namespace"]);

        var got = await Api.GetAsync($"/api/v1/namespaces/{ns}/configmaps/a");
        Assert.Equal(200, got.Code);
        Assert.Equal("v", (string?)got.Object["data"]!["k"]);
        Assert.Equal((string?)meta["uid"], (string?)got.Object["metadata"]!["uid"]);
    }

    [Fact]
    public async Task Create_WithGenerateName_AppendsRandomSuffix()
    {
        var ns = await Api.NewNamespaceAsync();
        var body = ApiClient.ConfigMap("x");
        body["metadata"]!.AsObject().Remove("name");
        body["metadata"]!["generateName"] = "gen-";
        var created = await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", body);
        Assert.Equal(201, created.Code);
        var name = (string)created.Object["metadata"]!["name"]!;
        Assert.StartsWith("gen-", name);
        Assert.Equal(9, name.Length);
    }

    [Fact]
    public async Task Errors_AreStatusObjects_WithRealCodesAndReasons()
    {
        var ns = await Api.NewNamespaceAsync();
        var missing = await Api.GetAsync($"/api/v1/namespaces/{ns}/configmaps/nope");
        AssertStatus(missing, 404, "NotFound", "configmaps \"nope\" not found");
        Assert.Equal("nope", (string?)missing.Object["details"]!["name"]);
        Assert.Equal("configmaps", (string?)missing.Object["details"]!["kind"]);

        Assert.Equal(201, (await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ApiClient.ConfigMap("dup"))).Code);
        AssertStatus(await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ApiClient.ConfigMap("dup")), 409, "AlreadyExists", "configmaps \"dup\" already exists");

        AssertStatus(await Api.PostAsync("/api/v1/namespaces/no-such-ns/configmaps", ApiClient.ConfigMap("a")), 404, "NotFound", "namespaces \"no-such-ns\" not found");

        var bad = await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ApiClient.ConfigMap("Bad_Name"));
        AssertStatus(bad, 422, "Invalid", "ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\"");
        Assert.Equal("metadata.name", (string?)bad.Object["details"]!["causes"]![0]!["field"]);

        AssertStatus(await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", "{not json"), 400, "BadRequest", "could not be decoded");
        AssertStatus(await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Secret", ["metadata"] = new JsonObject { ["name"] = "x" } }),
            400, "BadRequest", "the kind in the data (Secret) does not match the expected kind (ConfigMap)");
        AssertStatus(await Api.SendAsync(HttpMethod.Put, $"/api/v1/namespaces/{ns}/configmaps"), 405, "MethodNotAllowed", "does not allow this method");
        AssertStatus(await Api.PatchAsync($"/api/v1/namespaces/{ns}/configmaps/dup", "{}", "text/plain"), 415, "UnsupportedMediaType", "application/merge-patch+json");
        AssertStatus(await Api.GetAsync($"/api/v1/namespaces/{ns}/configmaps?labelSelector=a%20in%20(b"), 400, "BadRequest", "missing ')'");
        AssertStatus(await Api.GetAsync($"/api/v1/namespaces/{ns}/configmaps?fieldSelector=data.k%3Dv"), 400, "BadRequest", "field label not supported: data.k");
        AssertStatus(await Api.GetAsync($"/api/v1/namespaces/{ns}/configmaps?limit=x"), 400, "BadRequest", "invalid limit");
        AssertStatus(await Api.GetAsync($"/api/v1/namespaces/{ns}/configmaps?continue=garbage"), 400, "BadRequest", "continue key is not valid");
    }

    [Fact]
    public async Task HugeBody_IsRejectedWith413_AndNothingIsStored()
    {
        var ns = await Api.NewNamespaceAsync();
        var cm = ApiClient.ConfigMap("huge", data: new() { ["blob"] = new string('x', 4 * 1024 * 1024) });
        var reply = await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", cm);
        AssertStatus(reply, 413, "RequestEntityTooLarge", "Request entity too large");
        Assert.Equal(404, (await Api.GetAsync($"/api/v1/namespaces/{ns}/configmaps/huge")).Code);
    }

    [Fact]
    public async Task Update_WithStaleResourceVersion_Is409Conflict_AndNoOpUpdateKeepsResourceVersion()
    {
        var ns = await Api.NewNamespaceAsync();
        var created = (await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ApiClient.ConfigMap("c", data: new() { ["a"] = "1" }))).Object;
        var rv1 = (string)created["metadata"]!["resourceVersion"]!;

        var changed = created.DeepClone().AsObject();
        changed["data"]!["a"] = "2";
        var updated = await Api.PutAsync($"/api/v1/namespaces/{ns}/configmaps/c", changed);
        Assert.Equal(200, updated.Code);
        var rv2 = (string)updated.Object["metadata"]!["resourceVersion"]!;
        Assert.NotEqual(rv1, rv2);

        var stale = created.DeepClone().AsObject();
        stale["data"]!["a"] = "3";
        var conflict = await Api.PutAsync($"/api/v1/namespaces/{ns}/configmaps/c", stale);
        AssertStatus(conflict, 409, "Conflict", "Operation cannot be fulfilled on configmaps \"c\": the object has been modified");

        var same = await Api.PutAsync($"/api/v1/namespaces/{ns}/configmaps/c", updated.Object);
        Assert.Equal(rv2, (string?)same.Object["metadata"]!["resourceVersion"]);
    }

    [Fact]
    public async Task List_FiltersByEveryLabelSelectorForm_AndByFieldSelector()
    {
        var ns = await Api.NewNamespaceAsync();
        await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ApiClient.ConfigMap("a", new() { ["tier"] = "web", ["env"] = "prod" }));
        await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ApiClient.ConfigMap("b", new() { ["tier"] = "db", ["env"] = "prod" }));
        await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ApiClient.ConfigMap("c", new() { ["tier"] = "web" }));

        async Task<string> Names(string query)
        {
            var reply = await Api.GetAsync($"/api/v1/namespaces/{ns}/configmaps?{query}");
            Assert.Equal(200, reply.Code);
            Assert.Equal("ConfigMapList", (string?)reply.Object["kind"]);
            return string.Join(",", reply.Object["items"]!.AsArray().Select(i => (string?)i!["metadata"]!["name"]));
        }

        Assert.Equal("a,c", await Names("labelSelector=tier%3Dweb"));
        Assert.Equal("a,c", await Names("labelSelector=tier%3D%3Dweb"));
        Assert.Equal("b", await Names("labelSelector=tier!%3Dweb"));
        Assert.Equal("a,b", await Names("labelSelector=tier%20in%20(web,db),env"));
        Assert.Equal("b", await Names("labelSelector=tier%20notin%20(web),env%3Dprod"));
        Assert.Equal("b", await Names("labelSelector=tier%20notin%20(web)"));
        Assert.Equal("c", await Names("labelSelector=!env"));
        Assert.Equal("b", await Names("fieldSelector=metadata.name%3Db"));
        Assert.Equal("a,c", await Names("fieldSelector=metadata.name!%3Db"));
        Assert.Equal("", await Names("labelSelector=tier%3Dnone"));
    }

    [Fact]
    public async Task List_PagesWithLimitAndContinue_ReportingRemainingItems()
    {
        var ns = await Api.NewNamespaceAsync();
        for (var i = 0; i < 25; i++) await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ApiClient.ConfigMap($"cm-{i:D2}"));
        var seen = new List<string>();
        string? token = null;
        string? firstRv = null;
        var pages = 0;
        do
        {
            var reply = await Api.GetAsync($"/api/v1/namespaces/{ns}/configmaps?limit=10" + (token is null ? "" : $"&continue={token}"));
            Assert.Equal(200, reply.Code);
            pages++;
            var meta = reply.Object["metadata"]!;
            firstRv ??= (string?)meta["resourceVersion"];
            Assert.Equal(firstRv, (string?)meta["resourceVersion"]);
            seen.AddRange(reply.Object["items"]!.AsArray().Select(i => (string)i!["metadata"]!["name"]!));
            token = (string?)meta["continue"];
            if (token is not null) Assert.Equal(25 - seen.Count, (long)meta["remainingItemCount"]!);
        }
        while (token is not null);
        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(0, 25).Select(i => $"cm-{i:D2}"), seen);
    }

    [Fact]
    public async Task List_PagedWithASelector_ContinuesWhileKeysRemain_AndLeavesTheRemainingCountUnset()
    {
        // As the API server pages over etcd: a page is filled from the keys after the continue key,
        // the continue key is given while keys remain in the range (selected or not), and
        // remainingItemCount is only known without selectors. Even names up to cm-20 are labelled.
        var ns = await Api.NewNamespaceAsync();
        for (var i = 0; i < 25; i++)
            await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ApiClient.ConfigMap($"cm-{i:D2}", i % 2 == 0 && i <= 20 ? new() { ["even"] = "yes" } : null));
        // A namespace whose keys sort right after this one's: outside the range.
        var next = await Api.NewNamespaceAsync(ns + "x");
        await Api.PostAsync($"/api/v1/namespaces/{next}/configmaps", ApiClient.ConfigMap("cm-00", new() { ["even"] = "yes" }));

        async Task<List<(string[] Names, string? Token, long? Remaining)>> Pages(string query)
        {
            var pages = new List<(string[] Names, string? Token, long? Remaining)>();
            string? token = null;
            do
            {
                var reply = await Api.GetAsync($"/api/v1/namespaces/{ns}/configmaps?{query}" + (token is null ? "" : $"&continue={token}"));
                Assert.Equal(200, reply.Code);
                var meta = reply.Object["metadata"]!;
                token = (string?)meta["continue"];
                pages.Add(([.. reply.Object["items"]!.AsArray().Select(i => (string)i!["metadata"]!["name"]!)], token, (long?)meta["remainingItemCount"]));
            }
            while (token is not null && pages.Count < 10);
            return pages;
        }

        var selected = Enumerable.Range(0, 11).Select(i => $"cm-{2 * i:D2}").ToList();
        // Pages of 4: the third scans cm-16 to cm-24 and ends the range with three.
        var byFour = await Pages("labelSelector=even%3Dyes&limit=4");
        Assert.Equal(selected, byFour.SelectMany(p => p.Names));
        Assert.Equal([4, 4, 3], byFour.Select(p => p.Names.Length));
        Assert.All(byFour, p => Assert.Null(p.Remaining));
        // A page of 11 fills on cm-20 with cm-21..cm-24 still in the range: a continue key, then an empty last page.
        var byEleven = await Pages("labelSelector=even%3Dyes&limit=11");
        Assert.Equal([11, 0], byEleven.Select(p => p.Names.Length));
        Assert.NotNull(byEleven[0].Token);
        Assert.Null(byEleven[1].Token);
        Assert.All(byEleven, p => Assert.Null(p.Remaining));

        // Without a selector the count is given, and a page that ends on the range's last key has no continue.
        var byTen = await Pages("limit=10");
        Assert.Equal([(10, (long?)15), (10, 5), (5, null)], byTen.Select(p => (p.Names.Length, p.Remaining)));
        var whole = await Pages("limit=25");
        Assert.Equal([(25, (string?)null)], whole.Select(p => (p.Names.Length, p.Token)));
    }

    [Fact]
    public async Task ClusterScopedList_SpansNamespaces_AndNamespacedListIsScoped()
    {
        var ns1 = await Api.NewNamespaceAsync();
        var ns2 = await Api.NewNamespaceAsync();
        await Api.PostAsync($"/api/v1/namespaces/{ns1}/configmaps", ApiClient.ConfigMap("same", new() { ["mark"] = ns1 }));
        await Api.PostAsync($"/api/v1/namespaces/{ns2}/configmaps", ApiClient.ConfigMap("same", new() { ["mark"] = ns2 }));
        var all = await Api.GetAsync($"/api/v1/configmaps?labelSelector=mark%20in%20({ns1},{ns2})");
        Assert.Equal(2, all.Object["items"]!.AsArray().Count);
        var one = await Api.GetAsync($"/api/v1/namespaces/{ns1}/configmaps");
        Assert.Single(one.Object["items"]!.AsArray());
    }

    [Fact]
    public async Task StatusSubresource_SeparatesSpecAndStatusWrites_AndGenerationTracksSpecOnly()
    {
        // The simulated controller would write status and the revision concurrently: this test is about the API server alone.
        await using var server = await SandboxApiServer.StartAsync(new SandboxOptions { DeploymentController = false });
        using var api = new ApiClient(server);
        var ns = await api.NewNamespaceAsync();
        var body = ApiClient.Deployment("gen");
        body["status"] = new JsonObject { ["replicas"] = 99 };
        var created = (await api.PostAsync($"/apis/apps/v1/namespaces/{ns}/deployments", body)).Object;
        Assert.Equal(1, (long)created["metadata"]!["generation"]!);
        Assert.Null(created["status"]?["replicas"]);

        var statusPatch = await api.PatchAsync($"/apis/apps/v1/namespaces/{ns}/deployments/gen/status",
            """{"status":{"observedGeneration":7},"spec":{"replicas":5}}""", "application/merge-patch+json");
        Assert.Equal(200, statusPatch.Code);
        Assert.Equal(7, (long)statusPatch.Object["status"]!["observedGeneration"]!);
        Assert.Equal(1, (long)statusPatch.Object["spec"]!["replicas"]!);
        Assert.Equal(1, (long)statusPatch.Object["metadata"]!["generation"]!);

        var revisionViaStatus = await api.PatchAsync($"/apis/apps/v1/namespaces/{ns}/deployments/gen/status",
            """{"metadata":{"annotations":{"deployment.kubernetes.io/revision":"5"},"labels":{"ignored":"yes"}}}""", "application/merge-patch+json");
        Assert.Equal("5", (string?)revisionViaStatus.Object["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"]);
        Assert.Null(revisionViaStatus.Object["metadata"]!["labels"]?["ignored"]);
        Assert.Equal(1, (long)revisionViaStatus.Object["metadata"]!["generation"]!);

        var specPatch = await api.PatchAsync($"/apis/apps/v1/namespaces/{ns}/deployments/gen",
            """{"spec":{"replicas":3},"status":{"observedGeneration":1}}""", "application/merge-patch+json");
        Assert.Equal(3, (long)specPatch.Object["spec"]!["replicas"]!);
        Assert.Equal(2, (long)specPatch.Object["metadata"]!["generation"]!);

        var labelPatch = await api.PatchAsync($"/apis/apps/v1/namespaces/{ns}/deployments/gen",
            """{"metadata":{"labels":{"x":"y"}}}""", "application/merge-patch+json");
        Assert.Equal(2, (long)labelPatch.Object["metadata"]!["generation"]!);

        var annotationPatch = await api.PatchAsync($"/apis/apps/v1/namespaces/{ns}/deployments/gen",
            """{"metadata":{"annotations":{"dora-operator.io/commit-sha":"abc"}}}""", "application/merge-patch+json");
        Assert.Equal(3, (long)annotationPatch.Object["metadata"]!["generation"]!);
        Assert.Equal("5", (string?)annotationPatch.Object["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"]);
    }

    [Fact]
    public async Task Patch_MergeJsonAndStrategic_ApplyLikeTheRealServer()
    {
        var ns = await Api.NewNamespaceAsync();
        var deployment = ApiClient.Deployment("p");
        deployment["spec"]!["template"]!["spec"]!["containers"]!.AsArray().Add(new JsonObject { ["name"] = "sidecar", ["image"] = "busybox:1" });
        await Api.PostAsync($"/apis/apps/v1/namespaces/{ns}/deployments", deployment);
        var path = $"/apis/apps/v1/namespaces/{ns}/deployments/p";

        var smp = await Api.PatchAsync(path, """{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:1.28"}]}}}}""", "application/strategic-merge-patch+json");
        var containers = smp.Object["spec"]!["template"]!["spec"]!["containers"]!.AsArray();
        Assert.Equal(2, containers.Count);
        Assert.Equal("nginx:1.28", (string?)containers[0]!["image"]);
        Assert.Equal("busybox:1", (string?)containers[1]!["image"]);

        var deleteSidecar = await Api.PatchAsync(path, """{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}""", "application/strategic-merge-patch+json");
        Assert.Single(deleteSidecar.Object["spec"]!["template"]!["spec"]!["containers"]!.AsArray());

        var merge = await Api.PatchAsync(path, """{"spec":{"template":{"spec":{"containers":[{"name":"only","image":"x:1"}]}}}}""", "application/merge-patch+json");
        Assert.Equal("only", (string?)merge.Object["spec"]!["template"]!["spec"]!["containers"]![0]!["name"]);

        var json = await Api.PatchAsync(path, """[{"op":"add","path":"/metadata/labels","value":{"a":"b"}},{"op":"replace","path":"/spec/replicas","value":4}]""", "application/json-patch+json");
        Assert.Equal("b", (string?)json.Object["metadata"]!["labels"]!["a"]);
        Assert.Equal(4, (long)json.Object["spec"]!["replicas"]!);

        var failedTest = await Api.PatchAsync(path, """[{"op":"test","path":"/spec/replicas","value":9}]""", "application/json-patch+json");
        Assert.Equal(422, failedTest.Code);
        var badOp = await Api.PatchAsync(path, """[{"op":"frobnicate","path":"/x"}]""", "application/json-patch+json");
        AssertStatus(badOp, 400, "BadRequest", "unexpected json patch operation");
        var precondition = await Api.PatchAsync(path, """{"metadata":{"resourceVersion":"1"},"spec":{"replicas":2}}""", "application/merge-patch+json");
        Assert.Equal(409, precondition.Code);
    }

    [Fact]
    public async Task Delete_WithFinalizer_WaitsForTheFinalizer_ThenEmitsDeleted()
    {
        var ns = await Api.NewNamespaceAsync();
        var cm = ApiClient.ConfigMap("f");
        cm["metadata"]!["finalizers"] = new JsonArray("example.io/hold");
        await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", cm);
        var path = $"/api/v1/namespaces/{ns}/configmaps/f";

        var deleting = await Api.DeleteAsync(path);
        Assert.Equal(200, deleting.Code);
        Assert.NotNull(deleting.Object["metadata"]!["deletionTimestamp"]);
        var still = await Api.GetAsync(path);
        Assert.Equal(200, still.Code);
        Assert.NotNull(still.Object["metadata"]!["deletionTimestamp"]);

        var release = await Api.PatchAsync(path, """{"metadata":{"finalizers":null}}""", "application/merge-patch+json");
        Assert.Equal(200, release.Code);
        Assert.Equal(404, (await Api.GetAsync(path)).Code);
    }

    [Fact]
    public async Task Delete_HonoursPreconditions()
    {
        var ns = await Api.NewNamespaceAsync();
        var created = (await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ApiClient.ConfigMap("pre"))).Object;
        var path = $"/api/v1/namespaces/{ns}/configmaps/pre";
        var wrongUid = await Api.DeleteAsync(path, new JsonObject { ["kind"] = "DeleteOptions", ["apiVersion"] = "v1", ["preconditions"] = new JsonObject { ["uid"] = "other" } });
        AssertStatus(wrongUid, 409, "Conflict", "Precondition failed: UID in precondition: other");
        var ok = await Api.DeleteAsync(path, new JsonObject { ["preconditions"] = new JsonObject { ["uid"] = (string?)created["metadata"]!["uid"] } });
        Assert.Equal(200, ok.Code);
        Assert.Equal("Success", (string?)ok.Object["status"]);
        Assert.Equal(404, (await Api.GetAsync(path)).Code);
    }

    [Fact]
    public async Task Delete_GarbageCollectsDependents_UnlessOrphaned()
    {
        var ns = await Api.NewNamespaceAsync();
        var owner = (await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ApiClient.ConfigMap("owner"))).Object;
        var orphanOwner = (await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ApiClient.ConfigMap("owner2"))).Object;
        JsonObject Child(string name, JsonObject parent)
        {
            var child = ApiClient.ConfigMap(name);
            child["metadata"]!["ownerReferences"] = new JsonArray(new JsonObject
            {
                ["apiVersion"] = "v1", ["kind"] = "ConfigMap", ["name"] = (string?)parent["metadata"]!["name"], ["uid"] = (string?)parent["metadata"]!["uid"],
            });
            return child;
        }
        await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", Child("child", owner));
        await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", Child("grandchild-owner-kept", orphanOwner));

        await Api.DeleteAsync($"/api/v1/namespaces/{ns}/configmaps/owner");
        Assert.Equal(404, (await Api.GetAsync($"/api/v1/namespaces/{ns}/configmaps/child")).Code);

        await Api.DeleteAsync($"/api/v1/namespaces/{ns}/configmaps/owner2?propagationPolicy=Orphan");
        var orphan = await Api.GetAsync($"/api/v1/namespaces/{ns}/configmaps/grandchild-owner-kept");
        Assert.Equal(200, orphan.Code);
        Assert.Null(orphan.Object["metadata"]!["ownerReferences"]);
    }

    [Fact]
    public async Task DeleteNamespace_AnswersItTerminating_ThenRemovesItsContentsAndIt()
    {
        var ns = await Api.NewNamespaceAsync();
        await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ApiClient.ConfigMap("in-ns"));
        var deleted = await Api.DeleteAsync($"/api/v1/namespaces/{ns}");
        Assert.Equal(200, deleted.Code);
        // kube-apiserver answers the Namespace itself, Terminating, not a Status.
        Assert.Equal("Namespace", (string?)deleted.Object["kind"]);
        Assert.Equal("Terminating", (string?)deleted.Object["status"]!["phase"]);
        Assert.NotNull(deleted.Object["metadata"]!["deletionTimestamp"]);
        await Eventually.Until(async () => (await Api.GetAsync($"/api/v1/namespaces/{ns}")).Code, code => code == 404, "the namespace to be finalized");
        Assert.Equal(404, (await Api.GetAsync($"/api/v1/namespaces/{ns}/configmaps/in-ns")).Code);
    }

    [Fact]
    public async Task CreatedBuiltIns_ComeBackWithTheirEncodedStatus()
    {
        var ns = await Api.NewNamespaceAsync();
        var d = await Api.PostAsync($"/apis/apps/v1/namespaces/{ns}/deployments", ApiClient.Deployment("s", replicas: 0));
        Assert.Equal(201, d.Code);
        Assert.NotNull(d.Object["spec"]);
        // A Deployment's status fields are all omitempty: a real server shows "status": {} until the controller writes one.
        Assert.IsType<JsonObject>(d.Object["status"]);
        var rs = await Api.PostAsync($"/apis/apps/v1/namespaces/{ns}/replicasets", new JsonObject
        {
            ["apiVersion"] = "apps/v1", ["kind"] = "ReplicaSet", ["metadata"] = new JsonObject { ["name"] = "r" },
            ["spec"] = new JsonObject
            {
                ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = "r" } },
                ["template"] = new JsonObject
                {
                    ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = "r" } },
                    ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "c", ["image"] = "i" }) },
                },
            },
        });
        Assert.Equal(201, rs.Code);
        Assert.Equal(0, (long)rs.Object["status"]!["replicas"]!);
        await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ApiClient.ConfigMap("core"));
        var core = await Api.DeleteAsync($"/api/v1/namespaces/{ns}/configmaps/core");
        Assert.False(core.Object["details"]!.AsObject().ContainsKey("group"), "core kinds carry no group in Status details");
        var apps = await Api.DeleteAsync($"/apis/apps/v1/namespaces/{ns}/replicasets/r");
        Assert.Equal("apps", (string?)apps.Object["details"]?["group"]);
    }

    [Fact]
    public async Task Table_UsesServerSidePrinting()
    {
        var ns = await Api.NewNamespaceAsync();
        await Api.PostAsync($"/apis/apps/v1/namespaces/{ns}/deployments", ApiClient.Deployment("t", replicas: 2));
        var table = await Api.GetAsync($"/apis/apps/v1/namespaces/{ns}/deployments", accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
        Assert.Equal("Table", (string?)table.Object["kind"]);
        var columns = table.Object["columnDefinitions"]!.AsArray().Select(c => (string?)c!["name"]).ToList();
        Assert.Equal(["Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images"], columns);
        var row = table.Object["rows"]![0]!;
        Assert.Equal("t", (string?)row["cells"]![0]);
        Assert.Equal("PartialObjectMetadata", (string?)row["object"]!["kind"]);
    }

    [Fact]
    public async Task Scale_Subresource_ReadsAndWritesReplicas()
    {
        var ns = await Api.NewNamespaceAsync();
        await Api.PostAsync($"/apis/apps/v1/namespaces/{ns}/deployments", ApiClient.Deployment("s"));
        var scale = await Api.GetAsync($"/apis/apps/v1/namespaces/{ns}/deployments/s/scale");
        Assert.Equal("Scale", (string?)scale.Object["kind"]);
        Assert.Equal("app=s", (string?)scale.Object["status"]!["selector"]);
        var patched = await Api.PatchAsync($"/apis/apps/v1/namespaces/{ns}/deployments/s/scale", """{"spec":{"replicas":4}}""", "application/merge-patch+json");
        Assert.Equal(4, (long)patched.Object["spec"]!["replicas"]!);
        var deployment = await Api.GetAsync($"/apis/apps/v1/namespaces/{ns}/deployments/s");
        Assert.Equal(4, (long)deployment.Object["spec"]!["replicas"]!);
    }

    [Fact]
    public async Task DryRun_ValidatesButStoresNothing()
    {
        var ns = await Api.NewNamespaceAsync();
        var reply = await Api.PostAsync($"/api/v1/namespaces/{ns}/configmaps?dryRun=All", ApiClient.ConfigMap("dry"));
        Assert.Equal(201, reply.Code);
        Assert.Equal(404, (await Api.GetAsync($"/api/v1/namespaces/{ns}/configmaps/dry")).Code);
    }

    [Fact]
    public async Task ServerSideApply_CreatesThenUpdates_AndRemovesFieldsTheManagerDropped()
    {
        var ns = await Api.NewNamespaceAsync();
        var path = $"/api/v1/namespaces/{ns}/configmaps/ssa?fieldManager=test";
        var first = await Api.PatchAsync(path, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: \"1\"\n  b: \"2\"\n", "application/apply-patch+yaml");
        Assert.Equal(201, first.Code);
        var second = await Api.PatchAsync(path, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: \"3\"\n", "application/apply-patch+yaml");
        Assert.Equal(200, second.Code);
        Assert.Equal("3", (string?)second.Object["data"]!["a"]);
        Assert.Null(second.Object["data"]!["b"]);
        var noManager = await Api.PatchAsync($"/api/v1/namespaces/{ns}/configmaps/ssa", "data: {}", "application/apply-patch+yaml");
        AssertStatus(noManager, 400, "BadRequest", "fieldManager");
    }

    internal static void AssertStatus(ApiReply reply, int code, string reason, string messagePart)
    {
        Assert.True(reply.Code == code, $"expected {code}, got {reply}");
        Assert.Equal("Status", (string?)reply.Object["kind"]);
        Assert.Equal("Failure", (string?)reply.Object["status"]);
        Assert.Equal(reason, (string?)reply.Object["reason"]);
        Assert.Equal(code, (int)reply.Object["code"]!);
        Assert.Contains(messagePart, (string?)reply.Object["message"]);
    }

    [Fact]
    public async Task ListResourceVersionMatch_Exact_GivesTheSnapshot_TooOldIs410_AndTooNewIs504AfterTheWait()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));
        await using var server = await SandboxApiServer.StartAsync(new SandboxOptions { TimeProvider = clock, WatchHistory = 50 });
        using var api = new ApiClient(server);
        var ns = await api.NewNamespaceAsync();
        var created = await api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ApiClient.ConfigMap("a", data: new() { ["value"] = "v1" }));
        var rv1 = (string)created.Object["metadata"]!["resourceVersion"]!;
        await api.PatchAsync($"/api/v1/namespaces/{ns}/configmaps/a", """{"data":{"value":"v2"}}""", "application/merge-patch+json");
        await api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ApiClient.ConfigMap("b", data: new() { ["value"] = "v1" }));
        await api.DeleteAsync($"/api/v1/namespaces/{ns}/configmaps/a");

        var exact = await api.GetAsync($"/api/v1/namespaces/{ns}/configmaps?resourceVersion={rv1}&resourceVersionMatch=Exact");
        Assert.Equal(200, exact.Code);
        Assert.Equal(rv1, (string?)exact.Object["metadata"]!["resourceVersion"]);
        var item = Assert.Single(exact.Object["items"]!.AsArray())!;
        Assert.Equal("a", (string?)item["metadata"]!["name"]);
        Assert.Equal(ApiClient.ConfigMap("a", data: new() { ["value"] = "v1" })["data"]!.ToJsonString(), item["data"]!.ToJsonString());
        var now = await api.GetAsync($"/api/v1/namespaces/{ns}/configmaps?resourceVersion={rv1}&resourceVersionMatch=NotOlderThan");
        Assert.Equal(["b"], now.Object["items"]!.AsArray().Select(i => (string?)i!["metadata"]!["name"]));

        Assert.Equal(400, (await api.GetAsync($"/api/v1/namespaces/{ns}/configmaps?resourceVersionMatch=Exact")).Code);
        Assert.Equal(400, (await api.GetAsync($"/api/v1/namespaces/{ns}/configmaps?resourceVersion=0&resourceVersionMatch=Exact")).Code);

        // More than the retained history later, the old version is gone.
        for (var i = 0; i < 60; i++) await api.PostAsync($"/api/v1/namespaces/{ns}/configmaps", ApiClient.ConfigMap($"c{i}"));
        var gone = await api.GetAsync($"/api/v1/namespaces/{ns}/configmaps?resourceVersion={rv1}&resourceVersionMatch=Exact");
        Assert.Equal(410, gone.Code);
        Assert.Equal("The resourceVersion for the provided list is too old.", (string?)gone.Object["message"]);

        // A version the server has not reached: it waits (3 s of its clock), then answers 504.
        var tooNew = api.GetAsync($"/api/v1/namespaces/{ns}/configmaps?resourceVersion=999999999&resourceVersionMatch=NotOlderThan");
        var waited = await DoraOperator.Testing.FakeTime.DriveUntilAsync(clock, tooNew, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30));
        Assert.Equal(504, (await tooNew).Code);
        Assert.StartsWith("Too large resource version: 999999999", (string?)(await tooNew).Object["message"], StringComparison.Ordinal);
        Assert.InRange(waited, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(5));
    }
}
