using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DoraOperator.Testing;
using YamlDotNet.RepresentationModel;

namespace DoraOperator.EndToEnd;

/// <summary>
/// What can be checked of the Helm chart without Helm (which cannot be installed on the build
/// machines): CRDs in step, values against the schema, every referenced value and file present,
/// templates balanced and YAML-shaped, the pod's security settings, the dashboard's queries and the
/// recording rules (by promtool).
/// </summary>
public sealed partial class ChartTests
{
    private static readonly string Chart = Repo.Path("charts", "dora-operator");

    private static JsonNode? Yaml(string text) => YamlJson.Parse(text);

    private static JsonObject Values() => Yaml(File.ReadAllText(Path.Combine(Chart, "values.yaml")))!.AsObject();

    private static JsonObject Schema() => JsonNode.Parse(File.ReadAllText(Path.Combine(Chart, "values.schema.json")))!.AsObject();

    [Fact]
    public void ChartCrdsAreTheGeneratedOnes()
    {
        var generated = Directory.GetFiles(Repo.Path("config", "crds")).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(generated, Directory.GetFiles(Path.Combine(Chart, "crds")).Select(Path.GetFileName).Order());
        foreach (var file in generated)
        {
            Assert.True(File.ReadAllText(Repo.Path("config", "crds", file!)) == File.ReadAllText(Path.Combine(Chart, "crds", file!)),
                $"charts/dora-operator/crds/{file} differs from config/crds/{file}: cp config/crds/*.yaml charts/dora-operator/crds/");
        }
    }

    [Fact]
    public async Task EveryFlagTheChartPassesIsOneTheOperatorAccepts()
    {
        var template = File.ReadAllText(Path.Combine(Chart, "templates", "deployment.yaml"));
        var flags = Regex.Matches(template, @"^\s*- (--[a-z0-9-]+)=", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
        Assert.Contains("--workers", flags);
        using var help = Process.Start(ShippedOperator.StartInfo("--help"))!;
        var text = await help.StandardOutput.ReadToEndAsync();
        await help.WaitForExitAsync();
        Assert.All(flags, flag => Assert.Matches($@"(?m)^\s+{Regex.Escape(flag)}\b", text));
    }

    [Theory]
    [InlineData("--workers", "0", "--workers must be between 1 and 64")]
    [InlineData("--metrics-max-projects", "0", "--metrics-max-projects must be between 1 and 100,000")]
    public async Task OutOfRangeFlagsAreRefusedWithTheRange(string flag, string value, string message)
    {
        using var run = Process.Start(ShippedOperator.StartInfo(flag, value))!;
        var stderr = run.StandardError.ReadToEndAsync();
        await run.StandardOutput.ReadToEndAsync();
        await run.WaitForExitAsync();
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains(message, await stderr);
    }

    [Fact]
    public void ValuesYamlSatisfiesItsSchemaAndTheSchemaRejectsMistakes()
    {
        Assert.Empty(SchemaCheck.Validate(Schema(), Values(), "values"));

        var wrong = Values();
        wrong["replicaCount"] = 0;
        wrong["service"]!["type"] = "Ingress";
        wrong["replicas"] = 3;
        var errors = SchemaCheck.Validate(Schema(), wrong, "values");
        Assert.Contains("values.replicaCount: 0 is below the minimum 1", errors);
        Assert.Contains("values.service.type: \"Ingress\" is not one of ClusterIP, NodePort, LoadBalancer", errors);
        Assert.Contains("values.replicas: unknown key", errors);
    }

    [Fact]
    public void EveryValueAndFileATemplateUsesExists()
    {
        var values = Values();
        foreach (var template in Directory.GetFiles(Path.Combine(Chart, "templates")))
        {
            var text = File.ReadAllText(template);
            foreach (Match m in ValueReference().Matches(text))
            {
                JsonNode? node = values;
                foreach (var part in m.Groups[1].Value.Split('.')) node = node?[part];
                Assert.True(node is not null || values.ContainsKey(m.Groups[1].Value.Split('.')[0]) && Exists(values, m.Groups[1].Value),
                    $"{Path.GetFileName(template)} uses .Values.{m.Groups[1].Value}, which values.yaml does not define");
            }
            foreach (Match m in FileReference().Matches(text))
            {
                Assert.True(File.Exists(Path.Combine(Chart, m.Groups[1].Value)), $"{Path.GetFileName(template)} reads {m.Groups[1].Value}, which the chart lacks");
            }
        }
    }

    private static bool Exists(JsonObject values, string path)
    {
        JsonNode? node = values;
        var parts = path.Split('.');
        for (var i = 0; i < parts.Length; i++)
        {
            if (node is not JsonObject o || !o.ContainsKey(parts[i])) return false;
            node = o[parts[i]];
        }
        return true;
    }

    [Fact]
    public void TemplatesHaveBalancedActionsAndAreYamlOnceActionsArePlaceheld()
    {
        foreach (var template in Directory.GetFiles(Path.Combine(Chart, "templates"), "*.yaml"))
        {
            var text = File.ReadAllText(template);
            var depth = 0;
            foreach (Match m in Action().Matches(text))
            {
                var action = m.Groups[1].Value.Trim();
                if (Regex.IsMatch(action, @"^(if|range|with|define)\b")) depth++;
                else if (action == "end") depth--;
                Assert.True(depth >= 0, $"{Path.GetFileName(template)}: an end without an opening action");
            }
            Assert.True(depth == 0, $"{Path.GetFileName(template)}: {depth} actions not closed");
            foreach (var document in Placeheld(text).Split("\n---", StringSplitOptions.RemoveEmptyEntries))
            {
                var exception = Record.Exception(() => Yaml(document));
                Assert.True(exception is null, $"{Path.GetFileName(template)} is not YAML once its actions are replaced: {exception?.Message}\n{document}");
            }
        }
    }

    /// <summary>Drops lines that hold only actions, and turns inline actions into a scalar.</summary>
    private static string Placeheld(string template) =>
        string.Join('\n', template.Split('\n')
            .Where(l => !OnlyActions().IsMatch(l))
            .Select(l => Action().Replace(l, "x")));

    [Fact]
    public void TheOperatorPodRunsRestricted()
    {
        var deployment = Yaml(Placeheld(File.ReadAllText(Path.Combine(Chart, "templates", "deployment.yaml"))))!;
        var pod = deployment["spec"]!["template"]!["spec"]!;
        Assert.True((bool)pod["securityContext"]!["runAsNonRoot"]!);
        Assert.Equal("RuntimeDefault", (string?)pod["securityContext"]!["seccompProfile"]!["type"]);
        var container = pod["containers"]![0]!;
        Assert.False((bool)container["securityContext"]!["allowPrivilegeEscalation"]!);
        Assert.True((bool)container["securityContext"]!["readOnlyRootFilesystem"]!);
        Assert.Equal("ALL", (string?)container["securityContext"]!["capabilities"]!["drop"]![0]);
        Assert.Equal("/healthz", (string?)container["livenessProbe"]!["httpGet"]!["path"]);
        Assert.Equal("/readyz", (string?)container["readinessProbe"]!["httpGet"]!["path"]);
        Assert.Equal(2L, (long)Values()["replicaCount"]!);
        Assert.True((bool)Values()["leaderElection"]!);

        var dockerfile = File.ReadAllText(Repo.Path("Dockerfile"));
        Assert.Matches(@"(?m)^FROM mcr\.microsoft\.com/dotnet/sdk:10\.0 AS build", dockerfile);
        // The shipped operator is the Native AOT binary on runtime-deps: no .NET runtime in the image.
        Assert.Matches(@"(?m)^RUN dotnet publish src/Operator/Operator\.csproj -c Release -r linux-x64 --no-restore -p:PublishAot=true -o /app", dockerfile);
        Assert.Matches(@"(?m)^FROM mcr\.microsoft\.com/dotnet/runtime-deps:10\.0 AS runtime$", dockerfile);
        Assert.Matches(@"(?m)^USER 1654$", dockerfile);
        Assert.Matches(@"(?m)^ENTRYPOINT \[""/app/DoraOperator\.Operator""\]$", dockerfile);
        Assert.Contains("runAsUser: 1654", File.ReadAllText(Path.Combine(Chart, "templates", "deployment.yaml")));
    }

    [Fact]
    public void TheDashboardQueriesOnlyDocumentedSeries()
    {
        var dashboard = JsonNode.Parse(File.ReadAllText(Path.Combine(Chart, "dashboards", "dora.json")))!;
        var docs = File.ReadAllText(Repo.Path("docs", "metrics.md"));
        var titles = dashboard["panels"]!.AsArray().Select(p => (string?)p!["title"]).ToList();
        foreach (var key in new[] { "Deployment frequency", "Lead time", "Change failure rate", "Recovery time", "Tiers", "Counts", "Operator CPU", "Operator memory" })
        {
            Assert.Contains(titles, t => t!.StartsWith(key, StringComparison.Ordinal));
        }
        var expressions = dashboard["panels"]!.AsArray().SelectMany(p => p!["targets"]!.AsArray()).Select(t => (string)t!["expr"]!).ToList();
        Assert.NotEmpty(expressions);
        foreach (var series in expressions.SelectMany(e => SeriesName().Matches(e).Select(m => m.Value)).Distinct())
        {
            var family = Regex.Replace(series, "_(bucket|sum|count)$", "");
            Assert.True(docs.Contains($"`{family}`", StringComparison.Ordinal), $"the dashboard uses {series}, which docs/metrics.md does not list");
        }
    }

    /// <summary>
    /// Every query of the Grafana dashboard, its variables filled in, parses as PromQL (promtool
    /// checks it as a recording rule); each key has a panel comparing it with $compare ago, and the
    /// team table reads the team series.
    /// </summary>
    [Fact]
    public async Task EveryDashboardQueryParses_AndEachKeyIsComparedWithTheWindowBefore()
    {
        var dashboard = JsonNode.Parse(File.ReadAllText(Path.Combine(Chart, "dashboards", "dora.json")))!;
        var expressions = dashboard["panels"]!.AsArray().SelectMany(p => p!["targets"]!.AsArray()).Select(t => (string)t!["expr"]!).ToList();
        foreach (var metric in new[] { "dora_deployment_frequency_per_day", "dora_lead_time_median_seconds", "dora_change_failure_ratio", "dora_recovery_time_median_seconds" })
        {
            Assert.Contains(expressions, e => e.StartsWith(metric, StringComparison.Ordinal) && e.EndsWith($"- {metric}{{namespace=~\"$namespace\", project=~\"$project\"}} offset $compare", StringComparison.Ordinal));
            Assert.Contains(expressions, e => e.StartsWith(metric.Replace("dora_", "dora_team_", StringComparison.Ordinal), StringComparison.Ordinal));
        }
        Assert.Contains(dashboard["templating"]!["list"]!.AsArray(), v => (string?)v!["name"] == "compare" && (string?)v["current"]!["value"] == "30d");
        var rules = new System.Text.StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
        for (var i = 0; i < expressions.Count; i++)
        {
            var expr = expressions[i].Replace("$namespace", ".*", StringComparison.Ordinal).Replace("$project", ".*", StringComparison.Ordinal).Replace("$team", ".*", StringComparison.Ordinal)
                .Replace("$__range", "30d", StringComparison.Ordinal).Replace("$compare", "30d", StringComparison.Ordinal);
            Assert.DoesNotContain("$", expr, StringComparison.Ordinal);
            rules.Append("      - record: dashboard:query").Append(i).Append("\n        expr: '").Append(expr.Replace("'", "''", StringComparison.Ordinal)).Append("'\n");
        }
        var file = Path.Combine(Path.GetTempPath(), $"dora-dashboard-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, rules.ToString());
        try
        {
            var psi = new ProcessStartInfo("promtool") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in (string[])["check", "rules", file]) psi.ArgumentList.Add(a);
            using var process = Process.Start(psi)!;
            var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, output);
            Assert.Contains($"SUCCESS: {expressions.Count} rules found", output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task PromtoolAcceptsTheRecordingRules()
    {
        var rules = File.ReadAllText(Path.Combine(Chart, "rules", "dora-recording-rules.yaml"));
        var file = Path.Combine(Path.GetTempPath(), $"dora-rules-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, "groups:\n" + string.Join('\n', rules.Split('\n').Select(l => l.Length == 0 ? l : "  " + l)));
        try
        {
            var psi = new ProcessStartInfo("promtool") { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add("check");
            psi.ArgumentList.Add("rules");
            psi.ArgumentList.Add(file);
            using var process = Process.Start(psi)!;
            var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, output);
            Assert.Contains("SUCCESS: 4 rules found", output);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>
    /// The alerting rules as the chart renders them with its default values, run by <c>promtool test
    /// rules</c> against the hand-written series of Fixtures/dora-alerts.test.yaml: every alert fires
    /// with its labels and annotations where it should, and stays silent where it should not.
    /// </summary>
    [Fact]
    public async Task PromtoolTestsEveryAlertOnHandWrittenSeries()
    {
        var alerts = Values()["prometheusRule"]!["alerts"]!;
        var rules = File.ReadAllText(Path.Combine(Chart, "rules", "dora-alerts.yaml"))
            .Replace("__TIER_LOOKBACK__", (string)alerts["tierDropLookback"]!, StringComparison.Ordinal)
            .Replace("__CHANGE_FAILURE_RATE_ABOVE__", alerts["changeFailureRateAbove"]!.ToString(), StringComparison.Ordinal)
            .Replace("__NO_DEPLOYMENT_DAYS__", alerts["noDeploymentDays"]!.ToString(), StringComparison.Ordinal)
            .Replace("__INCIDENT_OPEN_FOR__", (string)alerts["incidentOpenFor"]!, StringComparison.Ordinal)
            .Replace("__WATCH_RESTARTS_PER_15M__", alerts["watchRestartsPer15m"]!.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("__", rules, StringComparison.Ordinal);
        // The rules file carries its thresholds as __NAME__ tokens (kept out of Helm's template syntax,
        // which would clash with the alerts' own {{ $labels }}); each must be one the template substitutes.
        var template = File.ReadAllText(Path.Combine(Chart, "templates", "prometheusrule.yaml"));
        foreach (var token in Regex.Matches(File.ReadAllText(Path.Combine(Chart, "rules", "dora-alerts.yaml")), "__[A-Z0-9_]+__").Select(m => m.Value).Distinct())
        {
            Assert.Contains($"replace \"{token}\"", template, StringComparison.Ordinal);
        }
        var dir = Directory.CreateTempSubdirectory("dora-alerts-");
        try
        {
            var rulesFile = Path.Combine(dir.FullName, "rules.yaml");
            await File.WriteAllTextAsync(rulesFile, "groups:\n" + string.Join('\n', rules.Split('\n').Select(l => l.Length == 0 ? l : "  " + l)));
            var testFile = Path.Combine(dir.FullName, "test.yaml");
            await File.WriteAllTextAsync(testFile, File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "dora-alerts.test.yaml")).Replace("[RULES]", "[rules.yaml]", StringComparison.Ordinal));
            var psi = new ProcessStartInfo("promtool") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir.FullName };
            foreach (var a in new[] { "test", "rules", testFile }) psi.ArgumentList.Add(a);
            using var process = Process.Start(psi)!;
            var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, output);
            Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [GeneratedRegex(@"\.Values\.([A-Za-z0-9_.]+)")]
    private static partial Regex ValueReference();

    [GeneratedRegex(@"\.Files\.Get ""([^""]+)""")]
    private static partial Regex FileReference();

    [GeneratedRegex(@"\{\{-?(.*?)-?\}\}")]
    private static partial Regex Action();

    [GeneratedRegex(@"^\s*(\{\{-?.*?-?\}\}\s*)+$")]
    private static partial Regex OnlyActions();

    [GeneratedRegex(@"\bdora_[a-z_]+")]
    private static partial Regex SeriesName();
}

/// <summary>YAML to JSON with YAML 1.2 core-schema typing of plain scalars (quoted ones stay strings).</summary>
internal static class YamlJson
{
    public static JsonNode? Parse(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return stream.Documents.Count == 0 ? null : Convert(stream.Documents[0].RootNode);
    }

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, Convert(kv.Value)))),
        YamlSequenceNode list => new JsonArray(list.Children.Select(Convert).ToArray()),
        YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain } scalar => Plain(scalar.Value ?? ""),
        YamlScalarNode scalar => JsonValue.Create(scalar.Value),
        _ => null,
    };

    private static JsonNode? Plain(string v) => v switch
    {
        "" or "null" or "~" => null,
        "true" => JsonValue.Create(true),
        "false" => JsonValue.Create(false),
        _ when long.TryParse(v, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var l) => JsonValue.Create(l),
        _ when Regex.IsMatch(v, @"^-?[0-9]+\.[0-9]+$") => JsonValue.Create(double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)),
        _ => JsonValue.Create(v),
    };
}

/// <summary>The part of JSON Schema draft 7 that values.schema.json uses: type, properties, required, additionalProperties, enum, minimum, maximum, minLength, pattern, items.</summary>
internal static class SchemaCheck
{
    public static List<string> Validate(JsonObject schema, JsonNode? value, string path)
    {
        var errors = new List<string>();
        Check(schema, value, path, errors);
        return errors;
    }

    private static void Check(JsonObject schema, JsonNode? value, string path, List<string> errors)
    {
        if (schema["type"] is JsonValue t && !TypeMatches((string)t!, value))
        {
            errors.Add($"{path}: expected {(string)t!}, got {value?.GetValueKind().ToString().ToLowerInvariant() ?? "null"}");
            return;
        }
        if (schema["enum"] is JsonArray options && !options.Any(o => JsonNode.DeepEquals(o, value)))
        {
            errors.Add($"{path}: {value?.ToJsonString()} is not one of {string.Join(", ", options.Select(o => (string?)o))}");
        }
        if (value is JsonValue number && number.GetValueKind() == System.Text.Json.JsonValueKind.Number)
        {
            var n = Num(number);
            if (schema["minimum"] is { } min && n < Num(min)) errors.Add($"{path}: {n} is below the minimum {Num(min)}");
            if (schema["maximum"] is { } max && n > Num(max)) errors.Add($"{path}: {n} is above the maximum {Num(max)}");
        }
        if (value is JsonValue s && s.GetValueKind() == System.Text.Json.JsonValueKind.String)
        {
            var text = s.GetValue<string>();
            if (schema["minLength"] is { } minLength && text.Length < Num(minLength)) errors.Add($"{path}: shorter than {Num(minLength)}");
            if (schema["pattern"] is { } pattern && !Regex.IsMatch(text, (string)pattern!)) errors.Add($"{path}: \"{text}\" does not match {(string)pattern!}");
        }
        if (value is JsonObject obj)
        {
            var properties = schema["properties"] as JsonObject;
            foreach (var required in (schema["required"] as JsonArray)?.Select(r => (string)r!) ?? [])
            {
                if (!obj.ContainsKey(required)) errors.Add($"{path}.{required}: required");
            }
            foreach (var (key, child) in obj)
            {
                if (properties?[key] is JsonObject childSchema) Check(childSchema, child, $"{path}.{key}", errors);
                else if (schema["additionalProperties"] is JsonValue extra && !(bool)extra) errors.Add($"{path}.{key}: unknown key");
            }
        }
        if (value is JsonArray array && schema["items"] is JsonObject itemSchema)
        {
            for (var i = 0; i < array.Count; i++) Check(itemSchema, array[i], $"{path}[{i}]", errors);
        }
    }

    private static double Num(JsonNode node) => double.Parse(node.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);

    private static bool TypeMatches(string type, JsonNode? value) => type switch
    {
        "object" => value is JsonObject,
        "array" => value is JsonArray,
        "string" => value is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String,
        "boolean" => value is JsonValue b && b.GetValueKind() is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False,
        "integer" => value is JsonValue i && i.GetValueKind() == System.Text.Json.JsonValueKind.Number && Math.Abs(Num(i) % 1) < 1e-12,
        "number" => value is JsonValue n && n.GetValueKind() == System.Text.Json.JsonValueKind.Number,
        _ => true,
    };
}
