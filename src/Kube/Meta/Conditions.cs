using System.Text.Json;

namespace DoraOperator.Kube.Meta;

/// <summary>metav1.Condition lists as controllers keep them: keyed by type, lastTransitionTime changed only when status flips.</summary>
public static class Conditions
{
    /// <summary>Sets condition <paramref name="type"/>; returns true when anything about it changed.</summary>
    public static bool Set(ref List<Condition>? list, string type, bool status, string reason, string message, DateTimeOffset now, long? observedGeneration = null)
    {
        list ??= [];
        var text = status ? "True" : "False";
        var existing = list.FirstOrDefault(c => c.Type == type);
        if (existing is not null && existing.Status == text && existing.Reason == reason && existing.Message == message && existing.ObservedGeneration == observedGeneration)
        {
            return false;
        }
        // metav1.Time has whole seconds: a transition written now reads back the same.
        var transition = existing is not null && existing.Status == text ? existing.LastTransitionTime : WholeSeconds(now);
        list.RemoveAll(c => c.Type == type);
        list.Add(new Condition { Type = type, Status = text, Reason = reason, Message = message, LastTransitionTime = transition, ObservedGeneration = observedGeneration });
        return true;
    }

    /// <summary>Removes condition <paramref name="type"/>; returns true when it was there. An emptied list becomes null.</summary>
    public static bool Remove(ref List<Condition>? list, string type)
    {
        var removed = list?.RemoveAll(c => c.Type == type) > 0;
        if (list is { Count: 0 }) list = null;
        return removed;
    }

    /// <summary><paramref name="t"/> without its fraction of a second, as metav1.Time stores it.</summary>
    public static DateTimeOffset WholeSeconds(DateTimeOffset t) => new(t.UtcTicks - (t.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);

    public static Condition? Find(IEnumerable<Condition>? list, string type) => list?.FirstOrDefault(c => c.Type == type);
}

/// <summary>Deep copies through the object's own JSON contract, so a cached object is never mutated.</summary>
public static class KubeClone
{
    public static T DeepCopy<T>(T obj)
        where T : KubeObject, IKubeResource<T> =>
        JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(obj, T.JsonType), T.JsonType)!;
}
