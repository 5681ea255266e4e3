using DoraOperator.Kube.Events;
using DoraOperator.Kube.Meta;
using DoraOperator.Testing;

namespace DoraOperator.Kube.Tests;

public sealed class EventRecorderTests(KubeFixture fixture) : IClassFixture<KubeFixture>
{
    [Fact]
    public async Task RepeatedEvents_AreAggregatedIntoOneWithACount()
    {
        var ns = await fixture.NewNamespaceAsync();
        var cm = await fixture.Client.CreateAsync(KubeFixture.ConfigMap(ns, "subject"));
        await using var recorder = new EventRecorder(fixture.Client, "dora-operator", "test-1");
        int EventWrites() => fixture.Server.Audit.Where(a => a.Key.Resource == "events" && a.Key.Group == "events.k8s.io" && a.Key.Verb != "list").Sum(a => a.Value);
        var writesBefore = EventWrites();
        var regarding = new ObjectReference { ApiVersion = "v1", Kind = "ConfigMap", Name = "subject", Namespace = ns, Uid = cm.Metadata.Uid };
        for (var i = 0; i < 3; i++) recorder.Warning(regarding, "CommitTimeInvalid", "Validate", "commit-time \"yesterday\" is not RFC 3339");
        recorder.Normal(regarding, "Recorded", "Record", "something else");
        await recorder.FlushAsync();
        var events = await fixture.Client.ListAsync<Event>(ns);
        Assert.Equal(2, events.Items.Count);
        var warning = events.Items.Single(e => e.Reason == "CommitTimeInvalid");
        Assert.Equal("Warning", warning.Type);
        Assert.Equal(3, warning.Series!.Count);
        Assert.Equal("dora-operator", warning.ReportingController);
        Assert.Equal("subject", warning.Regarding!.Name);
        Assert.Equal(4, EventWrites() - writesBefore);
    }

    [Fact]
    public async Task AHotLoop_IsRateLimitedPerObject()
    {
        var ns = await fixture.NewNamespaceAsync();
        await using var recorder = new EventRecorder(fixture.Client, "dora-operator", "test-2");
        var regarding = new ObjectReference { ApiVersion = "v1", Kind = "ConfigMap", Name = "hot", Namespace = ns, Uid = "u" };
        for (var i = 0; i < 100; i++) recorder.Normal(regarding, "Changed", "Reconcile", $"distinct message {i}");
        await recorder.FlushAsync();
        var events = await fixture.Client.ListAsync<Event>(ns);
        Assert.Equal(25, events.Items.Count);
        Assert.Equal(75, recorder.Dropped);
    }

    [Fact]
    public async Task WhenEventsK8sIoIsNotServed_FallsBackToCoreV1Events()
    {
        var ns = await fixture.NewNamespaceAsync();
        fixture.Server.Faults.Add(new DoraOperator.Sandbox.Faults.FaultRule { Verb = "create", Resource = "events", Namespace = ns, Code = 404, Times = 1 });
        await using var recorder = new EventRecorder(fixture.Client, "dora-operator", "test-3");
        var regarding = new ObjectReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = "web", Namespace = ns, Uid = "u3" };
        recorder.Warning(regarding, "CommitTimeInFuture", "Validate", "commit-time is after the deployment");
        recorder.Warning(regarding, "CommitTimeInFuture", "Validate", "commit-time is after the deployment");
        await recorder.FlushAsync();
        var core = await fixture.Client.ListAsync<CoreEvent>(ns);
        var e = Assert.Single(core.Items);
        Assert.Equal("CommitTimeInFuture", e.Reason);
        Assert.Equal(2, e.Count);
        Assert.Equal("web", e.InvolvedObject!.Name);
        // One store behind both APIs, as on a real server: the core event also lists as events.k8s.io/v1.
        var shown = Assert.Single((await fixture.Client.ListAsync<Event>(ns)).Items);
        Assert.Equal(e.Metadata.Uid, shown.Metadata.Uid);
        Assert.Equal("CommitTimeInFuture", shown.Reason);
    }
}
