using DoraOperator.Kube.Meta;

namespace DoraOperator.Operator.Rollouts;

/// <summary>metav1.LabelSelector matching (matchLabels and matchExpressions), as the API server defines it.</summary>
internal static class Selectors
{
    /// <summary>True when <paramref name="labels"/> satisfy the selector. An empty selector matches nothing here: a DoraProject must say what it selects.</summary>
    public static bool Matches(LabelSelector selector, IReadOnlyDictionary<string, string>? labels)
    {
        labels ??= new Dictionary<string, string>();
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
}
