using System.Text.Json.Nodes;
using DoraOperator.Sandbox.Validation;

namespace DoraOperator.Sandbox.Tests;

public sealed class CelTests
{
    private const string Self = """
        {"startedAt":"2026-11-01T10:00:00Z","restoredAt":"2026-11-01T10:30:00+01:00","benchmark":"custom",
         "count":3,"ratio":0.5,"name":"web-1","tags":["a","b"],"nested":{"x":1}}
        """;

    [Theory]
    [InlineData("has(self.startedAt)", true)]
    [InlineData("has(self.missing)", false)]
    [InlineData("has(self.nested.x)", true)]
    [InlineData("!has(self.missing) || timestamp(self.missing) > timestamp(self.startedAt)", true)]
    [InlineData("has(self.missing) && timestamp(self.missing) > timestamp(self.startedAt)", false)]
    [InlineData("!has(self.restoredAt) || timestamp(self.restoredAt) >= timestamp(self.startedAt)", false)]
    [InlineData("timestamp(self.startedAt) - timestamp(self.restoredAt) == duration('30m')", true)]
    [InlineData("timestamp(self.startedAt) + duration('1h') > timestamp(self.restoredAt)", true)]
    [InlineData("self.benchmark != 'custom' || has(self.thresholds)", false)]
    [InlineData("self.benchmark == \"custom\" && self.count > 2", true)]
    [InlineData("self.count * 2 == 6 && self.count % 2 == 1 && -self.count < 0", true)]
    [InlineData("self.ratio <= 1.0 && self.ratio >= 0", true)]
    [InlineData("size(self.tags) == 2 && self.tags.size() == 2 && 'b' in self.tags", true)]
    [InlineData("self.name.startsWith('web') && self.name.endsWith('-1') && self.name.contains('b-') && self.name.matches('^[a-z]+-[0-9]+$')", true)]
    [InlineData("self.count > 5 ? false : true", true)]
    [InlineData("self.tags[0] == 'a' && self.nested['x'] == 1", true)]
    [InlineData("string(self.count) == '3' && int('7') == 7", true)]
    public void Evaluates_TheSupportedSubset(string rule, bool expected)
    {
        Assert.True(Cel.IsSupported(rule));
        Assert.Equal(expected, Cel.Evaluate(rule, JsonNode.Parse(Self)));
    }

    [Theory]
    [InlineData("self.missing == 1", "no such key")]
    [InlineData("self.count == ", "expected an identifier")]
    [InlineData("frobnicate(self.count)", "unsupported function")]
    [InlineData("self.count", "does not evaluate to a bool")]
    public void ReportsErrors(string rule, string message)
    {
        var error = Assert.Throws<CelException>(() => Cel.Evaluate(rule, JsonNode.Parse(Self)));
        Assert.Contains(message, error.Message);
    }

    [Theory]
    [InlineData("self.x == oldSelf.x")]
    [InlineData("self.items.all(i, i > 0)")]
    public void TransitionRulesAndMacros_AreNotSupported(string rule) => Assert.False(Cel.IsSupported(rule));
}
