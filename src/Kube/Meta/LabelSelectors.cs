namespace DoraOperator.Kube.Meta;

/// <summary>metav1.LabelSelector matching (matchLabels and matchExpressions), as the API server defines it.</summary>
public static class LabelSelectors
{
    private static readonly Dictionary<string, string> NoLabels = [];

    /// <summary>True when <paramref name="labels"/> satisfy the selector. An empty selector matches nothing here: a DoraProject must say what it selects.</summary>
    public static bool Matches(LabelSelector selector, IReadOnlyDictionary<string, string>? labels)
    {
        labels ??= NoLabels;
        var any = false;
        foreach (var (k, v) in selector.MatchLabels ?? [])
        {
            any = true;
            if (!labels.TryGetValue(k, out var actual) || actual != v) return false;
        }
        foreach (var e in selector.MatchExpressions ?? [])
        {
            any = true;
            var has = labels.TryGetValue(e.Key, out var actual);
            var ok = e.Operator switch
            {
                "In" => has && (e.Values ?? []).Contains(actual!),
                "NotIn" => !has || !(e.Values ?? []).Contains(actual!),
                "Exists" => has,
                "DoesNotExist" => !has,
                _ => false,
            };
            if (!ok) return false;
        }
        return any;
    }

    /// <summary>What the API server's label-selector validation would say about <paramref name="selector"/>, or null.</summary>
    public static string? Problem(LabelSelector selector)
    {
        foreach (var e in selector.MatchExpressions ?? [])
        {
            switch (e.Operator)
            {
                case "In" or "NotIn" when e.Values is not { Count: > 0 }:
                    return $"matchExpressions key {e.Key}: operator {e.Operator} needs at least one value";
                case "Exists" or "DoesNotExist" when e.Values is { Count: > 0 }:
                    return $"matchExpressions key {e.Key}: operator {e.Operator} takes no values";
                case "In" or "NotIn" or "Exists" or "DoesNotExist":
                    break;
                default:
                    return $"matchExpressions key {e.Key}: unknown operator \"{e.Operator}\" (In, NotIn, Exists, DoesNotExist)";
            }
        }
        return null;
    }
}
