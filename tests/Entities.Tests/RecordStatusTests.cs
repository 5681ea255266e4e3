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

    /// <summary>Every field of the status, a condition and the display values set (<see cref="TheSampleSetsEveryField"/> keeps it so).</summary>
    private const string EveryField = """
        {"phase":"Failed","reason":"r","startedAt":"2026-11-01T10:00:00Z","deployedAt":"2026-11-01T10:05:00Z","failedAt":"2026-11-01T10:10:00Z",
         "restoredAt":"2026-11-01T10:12:30Z","durationSeconds":300,"leadTimeSeconds":3600.5,"rollbackOf":"web-3","rolledBackBy":"web-5","incidents":["inc-1","inc-2"],
         "conditions":[{"type":"CommitTimeInvalid","status":"True","observedGeneration":4,"lastTransitionTime":"2026-11-01T10:00:00Z","reason":"Unparsable","message":"m"},
                       {"type":"Backfilled","status":"True","lastTransitionTime":"2026-11-01T10:00:00Z","reason":"RetainedHistory","message":"b"}],
         "display":{"deploysPerDay":"1","leadTime":"1.0h","changeFailureRate":"5%","recoveryTime":"1m","restoredIn":"2m","tier":"elite"}}
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

    [Fact]
    public void TheSampleSetsEveryField()
    {
        var sample = JsonNode.Parse(EveryField)!.AsObject();
        static void AllNamed(JsonObject json, Type type)
        {
            foreach (var p in DoraJsonContext.Default.Options.GetTypeInfo(type).Properties) Assert.True(json.ContainsKey(p.Name), $"{type.Name}.{p.Name} is missing from the sample");
        }
        AllNamed(sample, typeof(DeploymentRecordStatus));
        AllNamed(sample["conditions"]![0]!.AsObject(), typeof(DoraOperator.Kube.Meta.Condition));
        AllNamed(sample["display"]!.AsObject(), typeof(DisplayValues));
    }

    [Fact]
    public void ACopy_WritesTheSame_AndChangingItLeavesTheOriginalAlone()
    {
        var original = (DeploymentRecordStatus)JsonSerializer.Deserialize(EveryField, Info)!;
        var copy = original.Copy();
        Assert.Equal(JsonSerializer.Serialize(original, Info), JsonSerializer.Serialize(copy, Info));
        Assert.True(copy.SameAs(original));
        copy.Incidents!.Add("inc-3");
        copy.Conditions!.RemoveAt(0);
        copy.Display!.LeadTime = "2.0h";
        copy.Reason = "changed";
        copy.FailedAt = null;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(EveryField), JsonNode.Parse(JsonSerializer.Serialize(original, Info))));
    }

    /// <summary>Each variant: the sample with one value changed (a string, a number, a time, a list's length), and whether it is an incident.</summary>
    public static TheoryData<string, string> OneValueChanged()
    {
        var data = new TheoryData<string, string>();
        var sample = JsonNode.Parse(EveryField)!;
        foreach (var path in Leaves(sample, "$"))
        {
            var variant = JsonNode.Parse(EveryField)!;
            Change(variant, path);
            data.Add(path, variant.ToJsonString());
        }
        foreach (var list in new[] { "incidents", "conditions" })
        {
            var shorter = JsonNode.Parse(EveryField)!;
            shorter[list]!.AsArray().RemoveAt(1);
            data.Add($"$.{list} shorter", shorter.ToJsonString());
            var absent = JsonNode.Parse(EveryField)!;
            absent.AsObject().Remove(list);
            data.Add($"$.{list} absent", absent.ToJsonString());
        }
        var noDisplay = JsonNode.Parse(EveryField)!;
        noDisplay.AsObject().Remove("display");
        data.Add("$.display absent", noDisplay.ToJsonString());
        return data;
    }

    [Theory]
    [MemberData(nameof(OneValueChanged))]
    public void SameAs_SeesEveryField(string changed, string variantJson)
    {
        var original = (DeploymentRecordStatus)JsonSerializer.Deserialize(EveryField, Info)!;
        var variant = (DeploymentRecordStatus)JsonSerializer.Deserialize(variantJson, Info)!;
        Assert.NotEqual(JsonSerializer.Serialize(original, Info), JsonSerializer.Serialize(variant, Info));
        Assert.False(original.SameAs(variant), changed);
        Assert.False(variant.SameAs(original), changed);
        // Incidents aside, a change to them is no difference.
        Assert.Equal(changed.StartsWith("$.incidents", StringComparison.Ordinal), original.SameAs(variant, ignoreIncidents: true));
    }

    private static IEnumerable<string> Leaves(JsonNode node, string path) => node switch
    {
        JsonObject o => o.SelectMany(kv => Leaves(kv.Value!, $"{path}.{kv.Key}")),
        JsonArray a => a.SelectMany((item, i) => Leaves(item!, $"{path}[{i}]")),
        _ => [path],
    };

    private static void Change(JsonNode root, string path)
    {
        var steps = System.Text.RegularExpressions.Regex.Matches(path, @"\.(\w+)|\[(\d+)\]").Select(m => m.Groups[1].Success ? (object)m.Groups[1].Value : int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var parent = steps.SkipLast(1).Aggregate(root, (n, step) => step is string key ? n[key]! : n[(int)step]!);
        var last = steps[^1];
        var value = last is string k ? parent[k]! : parent[(int)last]!;
        JsonNode changed = value.GetValueKind() switch
        {
            JsonValueKind.Number => JsonValue.Create(value.GetValue<double>() + 1),
            JsonValueKind.String when DateTimeOffset.TryParse(value.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture, out var t) => JsonValue.Create(t.AddSeconds(1).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture)),
            _ => JsonValue.Create(value.GetValue<string>() + "x"),
        };
        if (last is string name) parent[name] = changed;
        else parent[(int)last] = changed;
    }
}
