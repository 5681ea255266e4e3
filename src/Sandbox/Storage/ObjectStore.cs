using System.Globalization;
using System.Text.Json.Nodes;
using DoraOperator.Sandbox.Apply;
using DoraOperator.Sandbox.Http;
using DoraOperator.Sandbox.Resources;
using DoraOperator.Sandbox.Selectors;

namespace DoraOperator.Sandbox.Storage;

internal sealed record ListResult(IReadOnlyList<StoredObject> Items, long ResourceVersion, string? ContinueKey, long? Remaining);

internal sealed record DeleteOptions(string? PreconditionUid, string? PreconditionResourceVersion, string PropagationPolicy, bool DryRun);

/// <summary>
/// The Sandbox's memory-only storage: one resourceVersion sequence for every resource (as etcd's
/// revision), a bounded event history per resource so old resourceVersions expire with 410, and
/// watch fan-out in resourceVersion order. All writes take one lock; reads of a single object do not.
/// </summary>
internal sealed class ObjectStore(TimeProvider time, int historyCapacity = 10_000, int watcherBacklog = 100_000, bool managedFields = true)
{
    private sealed class Bucket(ResourceType type)
    {
        public ResourceType Type { get; set; } = type;
        public SortedDictionary<string, StoredObject> Objects { get; } = new(StringComparer.Ordinal);
        public Queue<StoreEvent> History { get; } = new();
        public long CompactedRv { get; set; }
        public List<Watcher> Watchers { get; } = [];
        /// <summary>ownerReference uid → keys of the objects it owns (garbage collection, controllers).</summary>
        public Dictionary<string, HashSet<string>> ByOwner { get; } = new(StringComparer.Ordinal);

        private string[]? _keys;

        /// <summary>The keys in order, for lists to seek in (as etcd ranges over its keys); rebuilt after an object is added or removed.</summary>
        public string[] SortedKeys => _keys ??= [.. Objects.Keys];

        public void Put(StoredObject obj)
        {
            if (Objects.TryGetValue(obj.Key, out var old)) Unindex(old);
            else _keys = null;
            Objects[obj.Key] = obj;
            foreach (var owner in obj.OwnerUids)
            {
                if (!ByOwner.TryGetValue(owner, out var keys)) ByOwner[owner] = keys = new HashSet<string>(StringComparer.Ordinal);
                keys.Add(obj.Key);
            }
        }

        public void Remove(StoredObject obj)
        {
            if (!Objects.Remove(obj.Key, out var old)) return;
            Unindex(old);
            _keys = null;
        }

        private void Unindex(StoredObject obj)
        {
            foreach (var owner in obj.OwnerUids)
            {
                if (ByOwner.TryGetValue(owner, out var keys) && keys.Remove(obj.Key) && keys.Count == 0) ByOwner.Remove(owner);
            }
        }
    }

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Bucket> _buckets = [];
    private readonly List<Action<StoreEvent>> _subscribers = [];
    private long _rv = 1000;

    public TimeProvider Time { get; } = time;

    public long CurrentResourceVersion
    {
        get { lock (_gate) return _rv; }
    }

    /// <summary>Registers an in-process observer (the simulated controllers). Called under the store lock: keep it cheap.</summary>
    public void Subscribe(Action<StoreEvent> subscriber)
    {
        lock (_gate) _subscribers.Add(subscriber);
    }

    public string Now() => FormatTime(Time.GetUtcNow());

    public static string FormatTime(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public StoredObject? Get(ResourceType type, string? ns, string name)
    {
        lock (_gate)
        {
            return BucketFor(type).Objects.GetValueOrDefault(StoredObject.KeyOf(ns, name));
        }
    }

    /// <summary>The objects of a type whose ownerReferences name <paramref name="ownerUid"/>.</summary>
    public IReadOnlyList<StoredObject> OwnedBy(ResourceType type, string ownerUid)
    {
        lock (_gate)
        {
            var bucket = BucketFor(type);
            return bucket.ByOwner.TryGetValue(ownerUid, out var keys) ? keys.Select(k => bucket.Objects[k]).ToList() : [];
        }
    }

    public IReadOnlyList<StoredObject> Snapshot(ResourceType type, string? ns = null)
    {
        lock (_gate)
        {
            return BucketFor(type).Objects.Values.Where(o => string.IsNullOrEmpty(ns) || o.Namespace == ns).ToList();
        }
    }

    public ListResult List(ResourceType type, string? ns, LabelSelector labels, FieldSelector fields, int limit, string? continueKey, long? continueRv)
    {
        lock (_gate)
        {
            var bucket = BucketFor(type);
            if (continueRv is { } crv && crv < bucket.CompactedRv)
            {
                throw ApiException.Gone("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.");
            }
            var listRv = continueRv ?? _rv;
            return Page(bucket.SortedKeys, bucket.Objects, ns, labels, fields, limit, continueKey, listRv);
        }
    }

    /// <summary>
    /// One page of a list, read as etcd ranges over its keys (<c>namespace/name</c>, in order): from
    /// the first key after <paramref name="continueKey"/> (or the namespace's first), the selected
    /// objects until <paramref name="limit"/> are found. A continue key is given when keys remain in
    /// the range, selected or not, so a last page can be empty; how many remain is counted only for a
    /// list without selectors, which the API server leaves unset otherwise (ListMeta.remainingItemCount).
    /// Each page costs its own keys, not the collection's.
    /// </summary>
    private ListResult Page(string[] keys, IReadOnlyDictionary<string, StoredObject> objects, string? ns, LabelSelector labels, FieldSelector fields, int limit, string? continueKey, long listRv)
    {
        var (start, end) = string.IsNullOrEmpty(ns) ? (0, keys.Length) : (Seek(keys, ns + "/"), Seek(keys, ns + "0")); // '0' follows '/'
        if (continueKey is not null) start = Math.Max(start, Seek(keys, continueKey, after: true));
        var items = new List<StoredObject>(limit > 0 ? Math.Min(limit, Math.Max(0, end - start)) : 0);
        for (var i = start; i < end; i++)
        {
            var obj = objects[keys[i]];
            if (!labels.Matches(obj.Labels) || (!fields.IsEmpty && !fields.Matches(f => ReadField(obj, f)))) continue;
            items.Add(obj);
            if (limit <= 0 || items.Count < limit || i + 1 == end) continue;
            return new ListResult(items, listRv, keys[i], labels.IsEmpty && fields.IsEmpty ? end - (i + 1) : null);
        }
        return new ListResult(items, listRv, null, null);
    }

    /// <summary>The index of the first key at or after (with <paramref name="after"/>, strictly after) <paramref name="key"/>.</summary>
    private static int Seek(string[] keys, string key, bool after = false)
    {
        var i = Array.BinarySearch(keys, key, StringComparer.Ordinal);
        return i >= 0 ? (after ? i + 1 : i) : ~i;
    }

    /// <summary>
    /// A list exactly as it was at <paramref name="resourceVersion"/> (resourceVersionMatch=Exact): the
    /// current objects with every later event of the type undone. 410 when that history was compacted.
    /// </summary>
    public ListResult ListAt(ResourceType type, string? ns, LabelSelector labels, FieldSelector fields, int limit, string? continueKey, long resourceVersion)
    {
        lock (_gate)
        {
            var bucket = BucketFor(type);
            if (resourceVersion < bucket.CompactedRv) throw ApiException.Gone("The resourceVersion for the provided list is too old.");
            var snapshot = new SortedDictionary<string, StoredObject>(bucket.Objects, StringComparer.Ordinal);
            foreach (var e in bucket.History.Reverse())
            {
                if (e.ResourceVersion <= resourceVersion) break;
                if (e.EventType == WatchEventTypes.Added) snapshot.Remove(e.Object.Key);
                else if (e.Previous is { } before) snapshot[e.Object.Key] = before;
            }
            return Page([.. snapshot.Keys], snapshot, ns, labels, fields, limit, continueKey, resourceVersion);
        }
    }

    /// <summary>
    /// Puts <paramref name="obj"/> as it is (its uid and creationTimestamp kept, a new resourceVersion),
    /// creating or replacing: how one object shows in a second API (the two Event APIs).
    /// </summary>
    public StoredObject Mirror(ResourceType type, JsonObject obj)
    {
        lock (_gate)
        {
            var bucket = BucketFor(type);
            var meta = obj["metadata"]!.AsObject();
            var key = StoredObject.KeyOf((string?)meta["namespace"], (string)meta["name"]!);
            bucket.Objects.TryGetValue(key, out var current);
            meta["resourceVersion"] = (++_rv).ToString(CultureInfo.InvariantCulture);
            var stored = StoredObject.From(obj);
            bucket.Put(stored);
            Publish(bucket, new StoreEvent(bucket.Type, current is null ? WatchEventTypes.Added : WatchEventTypes.Modified, stored, current));
            return stored;
        }
    }

    /// <summary>Removes an object's copy in a second API, if there is one.</summary>
    public void Unmirror(ResourceType type, string? ns, string name)
    {
        lock (_gate)
        {
            var bucket = BucketFor(type);
            if (!bucket.Objects.TryGetValue(StoredObject.KeyOf(ns, name), out var current)) return;
            var final = current.ToNode();
            final["metadata"]!["resourceVersion"] = (++_rv).ToString(CultureInfo.InvariantCulture);
            RemoveLocked(bucket, current, StoredObject.From(final));
        }
    }

    /// <summary>
    /// Stores a new object. With an <paramref name="owner"/>, its fields are recorded in managedFields
    /// as that manager's update; without, managedFields stays as the caller set it.
    /// </summary>
    public StoredObject Create(ResourceType type, JsonObject obj, bool dryRun = false, FieldOwner? owner = null)
    {
        if (owner is not null && managedFields) ManagedFields.RecordUpdate(type, ManagedFields.Snapshot(type, null, owner), obj, owner, Now());
        lock (_gate)
        {
            var bucket = BucketFor(type);
            var meta = obj["metadata"]!.AsObject();
            var name = (string)meta["name"]!;
            var ns = (string?)meta["namespace"];
            var key = StoredObject.KeyOf(ns, name);
            if (bucket.Objects.ContainsKey(key)) throw ApiException.AlreadyExists(type, name);
            meta["uid"] = Guid.NewGuid().ToString();
            meta["creationTimestamp"] = Now();
            var rv = dryRun ? _rv : ++_rv;
            meta["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture);
            ManagedFields.PlaceLast(meta);
            var stored = StoredObject.From(obj);
            if (dryRun) return stored;
            bucket.Put(stored);
            Publish(bucket, new StoreEvent(bucket.Type, WatchEventTypes.Added, stored, null));
            return stored;
        }
    }

    /// <summary>
    /// Read-modify-write as kube-apiserver's GuaranteedUpdate does it: <paramref name="mutate"/> runs
    /// outside the lock on a fresh copy of the current object and returns the desired one; the result
    /// is committed only if the object is still the one it started from, else the update runs again
    /// on the newer object (so <paramref name="mutate"/> must be free of side effects). A
    /// resourceVersion in the result is a precondition. A result identical to the current object is a
    /// no-op: no new resourceVersion, no event (as in a real server). With an <paramref name="owner"/>,
    /// the fields the write changed are recorded in managedFields.
    /// </summary>
    public StoredObject Update(ResourceType type, string? ns, string name, Func<JsonObject, JsonObject> mutate, bool dryRun = false, FieldOwner? owner = null)
    {
        var key = StoredObject.KeyOf(ns, name);
        while (true)
        {
            StoredObject? current;
            lock (_gate)
            {
                if (!BucketFor(type).Objects.TryGetValue(key, out current)) throw ApiException.NotFound(type, name);
            }
            var node = current.ToNode();
            var before = owner is not null && managedFields ? ManagedFields.Snapshot(type, node, owner) : null;
            var desired = mutate(node);
            if (before is not null) ManagedFields.RecordUpdate(type, before, desired, owner!, Now());
            var meta = desired["metadata"]!.AsObject();
            var requestedRv = (string?)meta["resourceVersion"];
            var currentRv = current.ResourceVersion.ToString(CultureInfo.InvariantCulture);
            if (!string.IsNullOrEmpty(requestedRv) && requestedRv != currentRv)
            {
                throw ApiException.Conflict(type, name);
            }
            // System fields are the server's.
            meta["resourceVersion"] = currentRv;
            meta["uid"] = current.Uid;
            meta["name"] = name;
            if (!string.IsNullOrEmpty(ns)) meta["namespace"] = ns;
            meta["creationTimestamp"] = current.CreationTimestamp;
            if (current.DeletionTimestamp is not null) meta["deletionTimestamp"] = current.DeletionTimestamp;
            ManagedFields.PlaceLast(meta);
            var unchanged = SandboxJson.Serialize(desired);
            if (unchanged.AsSpan().SequenceEqual(current.Json)) return current;
            if (dryRun)
            {
                return StoredObject.From(desired, unchanged);
            }
            lock (_gate)
            {
                var bucket = BucketFor(type);
                if (!bucket.Objects.TryGetValue(key, out var latest) || !ReferenceEquals(latest, current)) continue;
                meta["resourceVersion"] = (++_rv).ToString(CultureInfo.InvariantCulture);
                var stored = StoredObject.From(desired);
                if (stored.Deleting && stored.Finalizers.Count == 0)
                {
                    RemoveLocked(bucket, current, stored);
                    return stored;
                }
                bucket.Put(stored);
                Publish(bucket, new StoreEvent(bucket.Type, WatchEventTypes.Modified, stored, current));
                return stored;
            }
        }
    }

    /// <summary>Deletes an object, honouring preconditions, finalizers and the propagation policy. Returns the final state and whether it is gone.</summary>
    public (StoredObject Object, bool Removed) Delete(ResourceType type, string? ns, string name, DeleteOptions options)
    {
        lock (_gate)
        {
            var bucket = BucketFor(type);
            var key = StoredObject.KeyOf(ns, name);
            if (!bucket.Objects.TryGetValue(key, out var current)) throw ApiException.NotFound(type, name);
            if (options.PreconditionUid is { Length: > 0 } uid && uid != current.Uid)
            {
                throw ApiException.Conflict(type, name, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {current.Uid}");
            }
            if (options.PreconditionResourceVersion is { Length: > 0 } prv && prv != current.ResourceVersion.ToString(CultureInfo.InvariantCulture))
            {
                throw ApiException.Conflict(type, name, $"Precondition failed: ResourceVersion in precondition: {prv}, ResourceVersion in object meta: {current.ResourceVersion}");
            }
            if (options.DryRun) return (current, true);
            if (current.Finalizers.Count > 0 || options.PropagationPolicy == "Foreground")
            {
                if (options.PropagationPolicy == "Foreground") DeleteDependentsLocked(current.Uid, "Background");
                if (current.Finalizers.Count > 0)
                {
                    if (current.Deleting) return (current, false);
                    var node = current.ToNode();
                    var meta = node["metadata"]!.AsObject();
                    meta["deletionTimestamp"] = Now();
                    meta["deletionGracePeriodSeconds"] = 0;
                    if (meta["generation"] is JsonValue g) meta["generation"] = J.Long(g)!.Value + 1;
                    meta["resourceVersion"] = (++_rv).ToString(CultureInfo.InvariantCulture);
                    var stored = StoredObject.From(node);
                    bucket.Put(stored);
                    Publish(bucket, new StoreEvent(bucket.Type, WatchEventTypes.Modified, stored, current));
                    return (stored, false);
                }
            }
            var final = current.ToNode();
            final["metadata"]!["resourceVersion"] = (++_rv).ToString(CultureInfo.InvariantCulture);
            var last = StoredObject.From(final);
            RemoveLocked(bucket, current, last, options.PropagationPolicy);
            return (last, true);
        }
    }

    /// <summary>Opens a watch. No resourceVersion (or "0"): synthetic ADDED events for what exists now, then changes.
    /// A resourceVersion older than the retained history: 410 Expired.</summary>
    public Watcher Watch(ResourceType type, string? ns, LabelSelector labels, FieldSelector fields, string? resourceVersion)
    {
        lock (_gate)
        {
            var bucket = BucketFor(type);
            var watcher = new Watcher(bucket.Type, ns, labels, fields, ReadField, watcherBacklog);
            if (string.IsNullOrEmpty(resourceVersion) || resourceVersion == "0")
            {
                foreach (var obj in bucket.Objects.Values)
                {
                    watcher.Offer(new StoreEvent(bucket.Type, WatchEventTypes.Added, obj, null));
                }
            }
            else
            {
                if (!long.TryParse(resourceVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var from))
                {
                    throw ApiException.BadRequest($"invalid resource version \"{resourceVersion}\": must be a non-negative integer");
                }
                if (from < bucket.CompactedRv)
                {
                    throw ApiException.Gone($"too old resource version: {from} ({bucket.CompactedRv})");
                }
                foreach (var e in bucket.History)
                {
                    if (e.ResourceVersion > from) watcher.Offer(e);
                }
            }
            bucket.Watchers.Add(watcher);
            return watcher;
        }
    }

    public void StopWatching(Watcher watcher)
    {
        lock (_gate)
        {
            foreach (var b in _buckets.Values) b.Watchers.Remove(watcher);
        }
        watcher.Close();
    }

    public IReadOnlyList<Watcher> OpenWatchers()
    {
        lock (_gate) return _buckets.Values.SelectMany(b => b.Watchers).ToList();
    }

    /// <summary>Drops all retained history, so any watch from an older resourceVersion gets 410.</summary>
    public void CompactHistory()
    {
        lock (_gate)
        {
            foreach (var b in _buckets.Values)
            {
                b.History.Clear();
                b.CompactedRv = _rv;
            }
        }
    }

    /// <summary>Ends every open watch (as when the API server restarts or a load balancer drops connections).</summary>
    public int CloseAllWatchers()
    {
        List<Watcher> all;
        lock (_gate)
        {
            all = _buckets.Values.SelectMany(b => b.Watchers).ToList();
            foreach (var b in _buckets.Values) b.Watchers.Clear();
        }
        foreach (var w in all) w.Close();
        return all.Count;
    }

    /// <summary>Updates the served type of a bucket (a CRD changed), keeping its objects.</summary>
    public void Retype(ResourceType type)
    {
        lock (_gate) BucketFor(type).Type = type;
    }

    /// <summary>
    /// Marks a Namespace for deletion as kube-apiserver does: a deletionTimestamp and
    /// <c>status.phase: Terminating</c>; its contents and then the Namespace go in
    /// <see cref="FinalizeNamespace"/>. Idempotent.
    /// </summary>
    public StoredObject MarkTerminating(ResourceType type, string name, DeleteOptions options)
    {
        lock (_gate)
        {
            var bucket = BucketFor(type);
            if (!bucket.Objects.TryGetValue(StoredObject.KeyOf(null, name), out var current)) throw ApiException.NotFound(type, name);
            if (options.PreconditionUid is { Length: > 0 } uid && uid != current.Uid)
                throw ApiException.Conflict(type, name, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {current.Uid}");
            if (options.DryRun || current.Deleting) return current;
            var node = current.ToNode();
            var meta = node["metadata"]!.AsObject();
            meta["deletionTimestamp"] = Now();
            meta["resourceVersion"] = (++_rv).ToString(CultureInfo.InvariantCulture);
            var status = node["status"] as JsonObject ?? [];
            status["phase"] = "Terminating";
            node["status"] = status;
            var stored = StoredObject.From(node);
            bucket.Put(stored);
            Publish(bucket, new StoreEvent(bucket.Type, WatchEventTypes.Modified, stored, current));
            return stored;
        }
    }

    /// <summary>
    /// One pass of the namespace controller over a Terminating Namespace: deletes what it holds
    /// (objects with finalizers are marked and wait for them), and once it is empty removes the
    /// Namespace. True when the Namespace is gone.
    /// </summary>
    public bool FinalizeNamespace(ResourceType type, string name)
    {
        lock (_gate)
        {
            var bucket = BucketFor(type);
            if (!bucket.Objects.TryGetValue(StoredObject.KeyOf(null, name), out var ns)) return true;
            var remaining = 0;
            foreach (var b in _buckets.Values.Where(b => b.Type.Namespaced).ToList())
            {
                foreach (var obj in b.Objects.Values.Where(o => o.Namespace == name).ToList())
                {
                    if (!b.Objects.ContainsKey(StoredObject.KeyOf(obj.Namespace, obj.Name))) continue;
                    var node = obj.ToNode();
                    var meta = node["metadata"]!.AsObject();
                    if (obj.Finalizers.Count > 0)
                    {
                        remaining++;
                        if (obj.Deleting) continue;
                        meta["deletionTimestamp"] = Now();
                        meta["deletionGracePeriodSeconds"] = 0;
                        meta["resourceVersion"] = (++_rv).ToString(CultureInfo.InvariantCulture);
                        var marked = StoredObject.From(node);
                        b.Put(marked);
                        Publish(b, new StoreEvent(b.Type, WatchEventTypes.Modified, marked, obj));
                        continue;
                    }
                    meta["resourceVersion"] = (++_rv).ToString(CultureInfo.InvariantCulture);
                    RemoveLocked(b, obj, StoredObject.From(node));
                }
            }
            if (remaining > 0) return false;
            var final = ns.ToNode();
            final["metadata"]!["resourceVersion"] = (++_rv).ToString(CultureInfo.InvariantCulture);
            RemoveLocked(bucket, ns, StoredObject.From(final));
            return true;
        }
    }

    /// <summary>Removes every object of a type (a CRD was deleted): DELETED to watchers, then the watchers end.</summary>
    public void DropType(ResourceType type)
    {
        List<Watcher> watchers;
        lock (_gate)
        {
            var bucket = BucketFor(type);
            foreach (var obj in bucket.Objects.Values.ToList())
            {
                var node = obj.ToNode();
                node["metadata"]!["resourceVersion"] = (++_rv).ToString(CultureInfo.InvariantCulture);
                RemoveLocked(bucket, obj, StoredObject.From(node));
            }
            watchers = [.. bucket.Watchers];
            bucket.Watchers.Clear();
        }
        foreach (var w in watchers) w.Close();
    }

    private void RemoveLocked(Bucket bucket, StoredObject current, StoredObject last, string propagation = "Background")
    {
        bucket.Remove(current);
        Publish(bucket, new StoreEvent(bucket.Type, WatchEventTypes.Deleted, last, current));
        if (bucket.Type is { Group: "", Plural: "namespaces" })
        {
            foreach (var b in _buckets.Values.Where(b => b.Type.Namespaced).ToList())
            {
                foreach (var obj in b.Objects.Values.Where(o => o.Namespace == current.Name).ToList())
                {
                    var node = obj.ToNode();
                    node["metadata"]!["resourceVersion"] = (++_rv).ToString(CultureInfo.InvariantCulture);
                    RemoveLocked(b, obj, StoredObject.From(node));
                }
            }
        }
        DeleteDependentsLocked(current.Uid, propagation);
    }

    /// <summary>Garbage collection: dependents (by ownerReference uid) are deleted, or orphaned.</summary>
    private void DeleteDependentsLocked(string ownerUid, string propagation)
    {
        if (ownerUid.Length == 0) return;
        foreach (var bucket in _buckets.Values.ToList())
        {
            if (!bucket.ByOwner.TryGetValue(ownerUid, out var owned)) continue;
            foreach (var dependent in owned.Select(k => bucket.Objects[k]).ToList())
            {
                var node = dependent.ToNode();
                var meta = node["metadata"]!.AsObject();
                if (propagation == "Orphan")
                {
                    var owners = meta["ownerReferences"]!.AsArray();
                    foreach (var o in owners.Where(o => (string?)o?["uid"] == ownerUid).ToList()) owners.Remove(o);
                    if (owners.Count == 0) meta.Remove("ownerReferences");
                    meta["resourceVersion"] = (++_rv).ToString(CultureInfo.InvariantCulture);
                    var orphan = StoredObject.From(node);
                    bucket.Put(orphan);
                    Publish(bucket, new StoreEvent(bucket.Type, WatchEventTypes.Modified, orphan, dependent));
                    continue;
                }
                if (dependent.Finalizers.Count > 0)
                {
                    if (dependent.Deleting) continue;
                    meta["deletionTimestamp"] = Now();
                    meta["deletionGracePeriodSeconds"] = 0;
                    meta["resourceVersion"] = (++_rv).ToString(CultureInfo.InvariantCulture);
                    var marked = StoredObject.From(node);
                    bucket.Put(marked);
                    Publish(bucket, new StoreEvent(bucket.Type, WatchEventTypes.Modified, marked, dependent));
                    continue;
                }
                meta["resourceVersion"] = (++_rv).ToString(CultureInfo.InvariantCulture);
                RemoveLocked(bucket, dependent, StoredObject.From(node));
            }
        }
    }

    private void Publish(Bucket bucket, StoreEvent e)
    {
        bucket.History.Enqueue(e);
        while (bucket.History.Count > historyCapacity)
        {
            bucket.CompactedRv = bucket.History.Dequeue().ResourceVersion;
        }
        for (var i = bucket.Watchers.Count - 1; i >= 0; i--)
        {
            var w = bucket.Watchers[i];
            w.Offer(e);
            if (w.IsClosed) bucket.Watchers.RemoveAt(i);
        }
        foreach (var s in _subscribers) s(e);
    }

    private Bucket BucketFor(ResourceType type)
    {
        if (!_buckets.TryGetValue(type.Key, out var bucket))
        {
            bucket = new Bucket(type);
            _buckets[type.Key] = bucket;
        }
        return bucket;
    }

    private static string? ReadField(StoredObject obj, string field) => field switch
    {
        "metadata.name" => obj.Name,
        "metadata.namespace" => obj.Namespace,
        _ => FieldSelector.Read(obj.ToNode(), field),
    };
}
