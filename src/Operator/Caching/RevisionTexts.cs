using DoraOperator.Entities.BuiltIn;
using DoraOperator.Entities.Dora;
using DoraOperator.Entities.Vocabulary;

namespace DoraOperator.Operator.Caching;

/// <summary>
/// A revision's commit SHA and first image reach the operator up to three times: in the
/// Deployment's pod template, in its ReplicaSet's and in the DeploymentRecord written for it, and
/// each decoding makes strings of its own (a SHA is 104 bytes, an image name 100-200). The caches'
/// transforms give each newly decoded object the instances already cached for the same workload,
/// so a revision's texts are held once whichever arrives first: a ReplicaSet takes them from its
/// Deployment (and the image from its records), a record its image from its workload's ReplicaSets
/// or Deployment, a Deployment from its ReplicaSets. A record holds a 40-digit SHA packed in 20
/// bytes (<see cref="Kube.Meta.PackedSha"/>), not as a string: it outlives the retired ReplicaSets,
/// and is then the only holder of its revision's texts. Only an equal text is ever replaced, so no
/// reader sees a difference; the transforms run outside the informers' locks and read the other
/// caches as any consumer does.
/// </summary>
internal sealed class RevisionTexts(OperatorCache cache)
{
    public Deployment Share(Deployment d)
    {
        if (d.Spec?.Template is not { } template || d.Metadata.Uid is not { } uid) return d;
        var replicaSets = cache.ReplicaSets.ByIndex(CacheIndexes.Owner, uid);
        if (replicaSets.Count == 0) return d;
        template.LeanImage = Pick(template.LeanImage, replicaSets, static rs => rs.Image);
        ShareSha(template.LeanAnnotations, replicaSets, static rs => Sha(rs.TemplateAnnotations));
        return d;
    }

    public LeanReplicaSet Share(LeanReplicaSet rs)
    {
        if (rs.OwnerReferences?.FirstOrDefault(o => o.Controller == true && o.Kind is "Deployment" or "Rollout") is not { } owner) return rs;
        if (owner.Kind == "Deployment" && cache.Deployments.Get(rs.Namespace, owner.Name)?.Spec?.Template is { } template)
        {
            rs.Image = Same(rs.Image, template.LeanImage);
            ShareSha(rs.TemplateAnnotations, [template], static t => Sha(t.LeanAnnotations));
        }
        var records = cache.Records.ByIndex(CacheIndexes.Workload, CacheIndexes.Key(rs.Namespace, ObjectNames.WorkloadKey(owner.Kind, owner.Name)));
        if (records.Count == 0) return rs;
        rs.Image = Pick(rs.Image, records, static r => r.Spec.Image);
        return rs;
    }

    public DeploymentRecord Share(DeploymentRecord r)
    {
        var spec = r.Spec;
        if (spec.Source is not (null or Sources.Cluster) || spec.Image is null) return r;
        if (spec.Workload.Uid is { } uid && cache.ReplicaSets.ByIndex(CacheIndexes.Owner, uid) is { Count: > 0 } replicaSets)
        {
            spec.Image = Pick(spec.Image, replicaSets, static rs => rs.Image);
        }
        if (spec.Workload.Kind is "Deployment" && cache.Deployments.Get(r.Metadata.Namespace, spec.Workload.Name)?.Spec?.Template is { } template)
        {
            spec.Image = Same(spec.Image, template.LeanImage);
        }
        return r;
    }

    /// <summary>The instance among <paramref name="holders"/>' texts equal to <paramref name="text"/>, or <paramref name="text"/>.</summary>
    private static string? Pick<THolder>(string? text, IReadOnlyList<THolder> holders, Func<THolder, string?> read)
    {
        if (text is null) return null;
        foreach (var holder in holders)
        {
            if (read(holder) is { } held && string.Equals(held, text, StringComparison.Ordinal)) return held;
        }
        return text;
    }

    /// <summary><paramref name="held"/> when it equals <paramref name="text"/>, else <paramref name="text"/>.</summary>
    private static string? Same(string? text, string? held) => text is not null && string.Equals(held, text, StringComparison.Ordinal) ? held : text;

    private static void ShareSha<THolder>(KeyValuePair<string, string>[]? annotations, IReadOnlyList<THolder> holders, Func<THolder, string?> read)
    {
        if (annotations is null) return;
        for (var i = 0; i < annotations.Length; i++)
        {
            if (annotations[i].Key != DoraNames.CommitShaAnnotation) continue;
            annotations[i] = KeyValuePair.Create(annotations[i].Key, Pick(annotations[i].Value, holders, read)!);
            return;
        }
    }

    private static string? Sha(KeyValuePair<string, string>[]? annotations) => Workloads.LeanAnnotation(annotations, DoraNames.CommitShaAnnotation);
}
