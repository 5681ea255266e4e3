using System.Text;
using DoraOperator.Sandbox.Resources;

namespace DoraOperator.Sandbox.Storage;

internal static class WatchEventTypes
{
    public const string Added = "ADDED";
    public const string Modified = "MODIFIED";
    public const string Deleted = "DELETED";
    public const string Bookmark = "BOOKMARK";
    public const string Error = "ERROR";
}

/// <summary>One change in the store: the new state (or the last state, for deletions) and the previous one.</summary>
internal sealed class StoreEvent(ResourceType type, string eventType, StoredObject obj, StoredObject? previous)
{
    private byte[]? _encoded;

    public ResourceType Type { get; } = type;
    public string EventType { get; } = eventType;
    public StoredObject Object { get; } = obj;
    public StoredObject? Previous { get; } = previous;
    public long ResourceVersion => Object.ResourceVersion;

    /// <summary>The newline-terminated watch frame, encoded once and shared by every watcher.</summary>
    public byte[] Encoded => _encoded ??= Encode(EventType, Object.Json);

    public static byte[] Encode(string eventType, byte[] objectJson)
    {
        var head = Encoding.UTF8.GetBytes($"{{\"type\":\"{eventType}\",\"object\":");
        var frame = new byte[head.Length + objectJson.Length + 2];
        head.CopyTo(frame, 0);
        objectJson.CopyTo(frame, head.Length);
        frame[^2] = (byte)'}';
        frame[^1] = (byte)'\n';
        return frame;
    }
}
