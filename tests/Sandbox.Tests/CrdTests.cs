using System.Text.Json.Nodes;
using DoraOperator.Testing;

namespace DoraOperator.Sandbox.Tests;

public sealed class CrdTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    private ApiClient Api => fixture.Api;

    internal static JsonObject WidgetCrd(string group) => JsonNode.Parse($$"""
    {
      "apiVersion": "apiextensions.k8s.io/v1",
      "kind": "CustomResourceDefinition",
      "metadata": { "name": "widgets.{{group}}" },
      "spec": {
        "group": "{{group}}",
        "scope": "Namespaced",
        "names": { "plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"], "categories": ["gadgets"] },
        "versions": [{
          "name": "v1", "served": true, "storage": true,
          "subresources": { "status": {} },
          "additionalPrinterColumns": [
            { "name": "Size", "type": "integer", "jsonPath": ".spec.size" },
            { "name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status" },
            { "name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp" }
          ],
          "schema": { "openAPIV3Schema": {
            "type": "object",
            "properties": {
              "spec": {
                "type": "object",
                "required": ["size"],
                "properties": {
                  "size": { "type": "integer", "minimum": 1, "maximum": 10 },
                  "color": { "type": "string", "enum": ["red", "blue"], "default": "blue" },
                  "at": { "type": "string", "format": "date-time" },
                  "tags": { "type": "array", "items": { "type": "string" }, "x-kubernetes-list-type": "set" },
                  "extra": { "type": "object", "x-kubernetes-preserve-unknown-fields": true }
                }
              },
              "status": {
                "type": "object",
                "properties": {
                  "conditions": { "type": "array", "items": { "type": "object", "properties": {
                    "type": { "type": "string" }, "status": { "type": "string" } } } }
                }
              }
            }
          } }
        }]
      }
    }
    """)!.AsObject();

    internal static JsonObject Widget(string group, string name, JsonObject spec) => new()
    {
        ["apiVersion"] = $"{group}/v1", ["kind"] = "Widget", ["metadata"] = new JsonObject { ["name"] = name }, ["spec"] = spec,
    };

    private async Task<string> InstallAsync()
    {
        var group = $"g{Guid.NewGuid():N}"[..12] + ".example.io";
        var created = await Api.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", WidgetCrd(group));
        Assert.Equal(201, created.Code);
        // As on a real server, the create answers before the apiextensions controller establishes the CRD.
        var name = (string)created.Object["metadata"]!["name"]!;
        for (var i = 0; i < 100; i++)
        {
            var crd = await Api.GetAsync($"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}");
            if (crd.Object["status"]?["conditions"] is JsonArray conditions
                && conditions.Any(c => (string?)c!["type"] == "Established" && (string?)c["status"] == "True"))
            {
                return group;
            }
            await Task.Delay(20);
        }
        throw new Xunit.Sdk.XunitException($"{name} was not Established within 2 s");
    }

    [Fact]
    public async Task CreatingACrd_ServesTheKindAtOnce_InDiscoveryToo()
    {
        var group = await InstallAsync();
        var resources = (await Api.GetAsync($"/apis/{group}/v1")).Object["resources"]!.AsArray();
        var widgets = resources.Single(r => (string?)r!["name"] == "widgets")!;
        Assert.Equal("Widget", (string?)widgets["kind"]);
        Assert.Contains("wd", widgets["shortNames"]!.AsArray().Select(s => (string?)s));
        Assert.Contains(resources, r => (string?)r!["name"] == "widgets/status");
        Assert.Contains(group, (await Api.GetAsync("/apis")).Object["groups"]!.AsArray().Select(g => (string?)g!["name"]));

        var ns = await Api.NewNamespaceAsync();
        var created = await Api.PostAsync($"/apis/{group}/v1/namespaces/{ns}/widgets", Widget(group, "w", new JsonObject { ["size"] = 2 }));
        Assert.Equal(201, created.Code);
        Assert.Equal(1, (long)created.Object["metadata"]!["generation"]!);
    }

    [Fact]
    public async Task Schema_AppliesDefaults_PrunesUnknownFields_AndKeepsPreservedOnes()
    {
        var group = await InstallAsync();
        var ns = await Api.NewNamespaceAsync();
        var spec = new JsonObject { ["size"] = 3, ["bogus"] = true, ["extra"] = new JsonObject { ["anything"] = 1 } };
        var created = await Api.PostAsync($"/apis/{group}/v1/namespaces/{ns}/widgets", Widget(group, "d", (JsonObject)spec.DeepClone()));
        Assert.Equal(201, created.Code);
        Assert.Equal("blue", (string?)created.Object["spec"]!["color"]);
        Assert.Null(created.Object["spec"]!["bogus"]);
        Assert.Equal(1, (int)created.Object["spec"]!["extra"]!["anything"]!);
        Assert.Contains(created.Headers.GetValues("Warning"), w => w.Contains("unknown field \\\"spec.bogus\\\"") || w.Contains("unknown field \"spec.bogus\""));

        var strict = await Api.PostAsync($"/apis/{group}/v1/namespaces/{ns}/widgets?fieldValidation=Strict", Widget(group, "s", (JsonObject)spec.DeepClone()));
        ProtocolTests.AssertStatus(strict, 400, "BadRequest", "strict decoding error: unknown field \"spec.bogus\"");
    }

    [Theory]
    [InlineData("""{"color":"red"}""", "spec.size", "FieldValueRequired")]
    [InlineData("""{"size":11}""", "spec.size", "FieldValueInvalid")]
    [InlineData("""{"size":"big"}""", "spec.size", "FieldValueInvalid")]
    [InlineData("""{"size":1,"color":"green"}""", "spec.color", "FieldValueNotSupported")]
    [InlineData("""{"size":1,"at":"yesterday"}""", "spec.at", "FieldValueInvalid")]
    [InlineData("""{"size":1,"tags":["a","a"]}""", "spec.tags[1]", "FieldValueDuplicate")]
    public async Task Schema_RejectsInvalidObjects_With422AndAFieldPath(string spec, string field, string reason)
    {
        var group = await InstallAsync();
        var ns = await Api.NewNamespaceAsync();
        var reply = await Api.PostAsync($"/apis/{group}/v1/namespaces/{ns}/widgets", Widget(group, "bad", JsonNode.Parse(spec)!.AsObject()));
        ProtocolTests.AssertStatus(reply, 422, "Invalid", "Widget.");
        var cause = reply.Object["details"]!["causes"]!.AsArray().Single();
        Assert.Equal(field, (string?)cause!["field"]);
        Assert.Equal(reason, (string?)cause["reason"]);
        Assert.Equal(404, (await Api.GetAsync($"/apis/{group}/v1/namespaces/{ns}/widgets/bad")).Code);
    }

    [Fact]
    public async Task Schema_AcceptsRfc3339Timestamps_WithAnyFraction_AndRejectsOthers()
    {
        var group = await InstallAsync();
        var ns = await Api.NewNamespaceAsync();
        var i = 0;
        foreach (var at in new[] { "2026-11-01T10:00:00+02:00", "2026-11-01T10:00:00Z", "2026-11-01T10:00:00.5Z", "2026-11-01T10:00:00.123456789Z", "2026-11-01t10:00:00.123-05:30" })
        {
            var spec = new JsonObject { ["size"] = 1, ["at"] = at };
            var reply = await Api.PostAsync($"/apis/{group}/v1/namespaces/{ns}/widgets", Widget(group, $"t{i++}", spec));
            Assert.True(reply.Code == 201, $"{at}: {reply}");
        }
        foreach (var at in new[] { "2026-11-01T10:00Z", "2026-11-01 10:00:00Z", "2026-11-01T10:00:00", "2026-13-01T10:00:00Z", "2026-11-01T10:00:00.Z" })
        {
            var spec = new JsonObject { ["size"] = 1, ["at"] = at };
            Assert.Equal(422, (await Api.PostAsync($"/apis/{group}/v1/namespaces/{ns}/widgets", Widget(group, $"t{i++}", spec))).Code);
        }
    }

    [Fact]
    public async Task CustomResources_UpdateWithoutResourceVersion_IsRejected_AndStatusIsASubresource()
    {
        var group = await InstallAsync();
        var ns = await Api.NewNamespaceAsync();
        var created = (await Api.PostAsync($"/apis/{group}/v1/namespaces/{ns}/widgets", Widget(group, "u", new JsonObject { ["size"] = 1 }))).Object;
        var noRv = Widget(group, "u", new JsonObject { ["size"] = 2 });
        ProtocolTests.AssertStatus(await Api.PutAsync($"/apis/{group}/v1/namespaces/{ns}/widgets/u", noRv), 422, "Invalid", "must be specified for an update");

        var status = await Api.PatchAsync($"/apis/{group}/v1/namespaces/{ns}/widgets/u/status",
            """{"status":{"conditions":[{"type":"Ready","status":"True"}]}}""", "application/merge-patch+json");
        Assert.Equal(200, status.Code);
        Assert.Equal(1, (long)status.Object["metadata"]!["generation"]!);
        var smp = await Api.PatchAsync($"/apis/{group}/v1/namespaces/{ns}/widgets/u", """{"spec":{"size":2}}""", "application/strategic-merge-patch+json");
        Assert.Equal(415, smp.Code);

        var table = await Api.GetAsync($"/apis/{group}/v1/namespaces/{ns}/widgets", accept: "application/json;as=Table;v=v1;g=meta.k8s.io");
        Assert.Equal(["Name", "Size", "Ready", "Age"], table.Object["columnDefinitions"]!.AsArray().Select(c => (string?)c!["name"]));
        var cells = table.Object["rows"]![0]!["cells"]!.AsArray();
        Assert.Equal("u", (string?)cells[0]);
        Assert.Equal(1, (long)cells[1]!);
        Assert.Equal("True", (string?)cells[2]);
        Assert.EndsWith("s", (string?)cells[3]);
        _ = created;
    }

    [Fact]
    public async Task DeletingTheCrd_StopsServingTheKind()
    {
        var group = await InstallAsync();
        var ns = await Api.NewNamespaceAsync();
        await Api.PostAsync($"/apis/{group}/v1/namespaces/{ns}/widgets", Widget(group, "gone", new JsonObject { ["size"] = 1 }));
        Assert.Equal(200, (await Api.DeleteAsync($"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.{group}")).Code);
        Assert.Equal(404, (await Api.GetAsync($"/apis/{group}/v1/namespaces/{ns}/widgets/gone")).Code);
        Assert.Equal(404, (await Api.GetAsync($"/apis/{group}/v1")).Code);
    }

    [Fact]
    public async Task InvalidCrd_IsRejected()
    {
        var crd = WidgetCrd("bad.example.io");
        crd["metadata"]!["name"] = "wrong.name";
        var reply = await Api.PostAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
        ProtocolTests.AssertStatus(reply, 422, "Invalid", "must be spec.names.plural+\".\"+spec.group");
    }

    [Fact]
    public async Task OpenApiV3_AdvertisesFieldValidationOnPatch_ForEveryServedKind()
    {
        var group = await InstallAsync();
        var index = await Api.GetAsync("/openapi/v3");
        var url = (string)index.Object["paths"]![$"apis/{group}/v1"]!["serverRelativeURL"]!;
        var doc = await Api.GetAsync(url);
        var patch = doc.Object["paths"]![$"/apis/{group}/v1/namespaces/{{namespace}}/widgets/{{name}}"]!["patch"]!;
        Assert.Equal("Widget", (string?)patch["x-kubernetes-group-version-kind"]!["kind"]);
        Assert.Contains(patch["parameters"]!.AsArray(), p => (string?)p!["name"] == "fieldValidation" && (string?)p["in"] == "query");
        Assert.NotNull(doc.Object["components"]!["schemas"]![$"io.example.{group.Split('.')[0]}.v1.Widget"]);
    }
}
