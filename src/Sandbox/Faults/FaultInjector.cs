namespace DoraOperator.Sandbox.Faults;

/// <summary>
/// A fault to inject: requests matching <see cref="Verb"/>, <see cref="Resource"/> and
/// <see cref="Subresource"/> (null matches anything) fail with <see cref="Code"/> the next
/// <see cref="Times"/> times, or are delayed by <see cref="Delay"/> first.
/// </summary>
public sealed record FaultRule
{
    /// <summary>get, list, watch, create, update, patch, delete, deletecollection; null for any.</summary>
    public string? Verb { get; init; }
    /// <summary>The plural resource name, e.g. "deployments"; null for any.</summary>
    public string? Resource { get; init; }
    public string? Subresource { get; init; }
    public string? Namespace { get; init; }
    /// <summary>HTTP status to answer with (500, 429, 409, 410...); 0 to only delay.</summary>
    public int Code { get; init; } = 500;
    public int Times { get; init; } = 1;
    public int? RetryAfterSeconds { get; init; }
    public TimeSpan Delay { get; init; }
}

/// <summary>Fault injection for tests: failing or slow requests, cut or frozen watches, compacted history.</summary>
public sealed class FaultInjector
{
    private sealed class ActiveRule(FaultRule rule)
    {
        public FaultRule Rule { get; } = rule;
        public int Remaining = rule.Times;
    }

    private readonly Lock _gate = new();
    private readonly List<ActiveRule> _rules = [];
    private readonly Func<int> _cutWatches;
    private readonly Action _freezeWatches;
    private readonly Action _compact;

    internal FaultInjector(Func<int> cutWatches, Action freezeWatches, Action compact)
    {
        _cutWatches = cutWatches;
        _freezeWatches = freezeWatches;
        _compact = compact;
    }

    /// <summary>How many injected faults have fired so far.</summary>
    public int Fired { get; private set; }

    public void Add(FaultRule rule)
    {
        lock (_gate) _rules.Add(new ActiveRule(rule));
    }

    public void Clear()
    {
        lock (_gate) _rules.Clear();
    }

    /// <summary>Closes every open watch connection at once. Returns how many were open.</summary>
    public int CutWatches() => _cutWatches();

    /// <summary>The watch connections open now stay open but never send another byte (a silently dead connection); new watches work.</summary>
    public void FreezeWatches() => _freezeWatches();

    /// <summary>Drops the event history, so watches from any earlier resourceVersion get 410 Gone.</summary>
    public void CompactHistory() => _compact();

    internal FaultRule? Match(string verb, string resource, string? subresource, string? ns)
    {
        lock (_gate)
        {
            foreach (var active in _rules)
            {
                var r = active.Rule;
                if (active.Remaining <= 0) continue;
                if (r.Verb is not null && r.Verb != verb) continue;
                if (r.Resource is not null && r.Resource != resource) continue;
                if (r.Subresource is not null && r.Subresource != subresource) continue;
                if (r.Namespace is not null && r.Namespace != ns) continue;
                active.Remaining--;
                Fired++;
                return r;
            }
            _rules.RemoveAll(a => a.Remaining <= 0);
            return null;
        }
    }
}
