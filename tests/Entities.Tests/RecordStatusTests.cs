using System.Text.Json;
using System.Text.Json.Nodes;
using DoraOperator.Entities.Dora;

namespace DoraOperator.Entities.Tests;

/// <summary>A record's status keeps what only some records carry in a side object; as JSON it is the CRD's status, field for field.</summary>
public sealed class RecordStatusTests
{
    private const string Full = """
        {"phase":"Failed","reason":"ProgressDeadlineExceeded: the rollout did not complete","startedAt":"2026-11-01T10:00:00Z",
         "deployedAt":"2026-11-01T10:05:00Z","failedAt":"2026-11-01T10:10:00Z","restoredAt":"2026-11-01T10:12:30Z",
         "durationSeconds":300,"leadTimeSeconds":3600.5,"rollbackOf":"web-3","rolledBackBy":"web-5","incidents":["inc-1","inc-2"],
         "conditions":[{"type":"CommitTimeInvalid","status":"True","lastTransitionTime":"2026-11-01T10:00:00Z","reason":"Unparsable","message":"m"}],
         "display":{"leadTime":"1.0h"}}
        """;

    private static System.Text.Json.Serialization.Metadata.JsonTypeInfo Info => DoraJsonContext.Default.Options.GetTypeInfo(typeof(DeploymentRecordStatus));

    [Fact]
    public void EveryFieldRoundTrips_IncludingTheRareOnes()
    {
        var status = JsonSerializer.Deserialize(Full, Info)!;
        var s = Assert.IsType<DeploymentRecordStatus>(status);
        Assert.Equal("web-3", s.RollbackOf);
        Assert.Equal("web-5", s.RolledBackBy);
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 10, 10, 0, TimeSpan.Zero), s.FailedAt);
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 10, 12, 30, TimeSpan.Zero), s.RestoredAt);
        Assert.Equal(["inc-1", "inc-2"], s.Incidents!);
        Assert.StartsWith("ProgressDeadlineExceeded", s.Reason);
        var written = JsonNode.Parse(JsonSerializer.Serialize(s, Info));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Full), written), written!.ToJsonString());
    }

    [Fact]
    public void RareFieldsAreWritable_AndClearable_AndACommonStatusWritesNoneOfThem()
    {
        var s = new DeploymentRecordStatus { Phase = "Succeeded", StartedAt = DateTimeOffset.UnixEpoch, DeployedAt = DateTimeOffset.UnixEpoch.AddSeconds(90), DurationSeconds = 90 };
        Assert.Null(s.FailedAt);
        Assert.Null(s.Incidents);
        s.RestoredAt = null; // clearing what was never set
        s.Incidents = ["inc-1"];
        s.Incidents.Add("inc-2");
        s.FailedAt = DateTimeOffset.UnixEpoch.AddSeconds(30);
        s.RolledBackBy = "web-2";
        Assert.Equal(["inc-1", "inc-2"], s.Incidents);
        Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(30), s.FailedAt);
        s.Incidents = null;
        s.FailedAt = null;
        s.RolledBackBy = null;
        Assert.Null(s.FailedAt);
        Assert.Null(s.RolledBackBy);
        Assert.Equal(
            """{"phase":"Succeeded","startedAt":"1970-01-01T00:00:00Z","deployedAt":"1970-01-01T00:01:30Z","durationSeconds":90}""",
            JsonSerializer.Serialize(s, Info));
    }
}
