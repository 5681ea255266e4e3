using Microsoft.Extensions.Logging;

namespace DoraOperator.Kube.Leadership;

internal static partial class LeaderElectorLog
{
    [LoggerMessage(1, LogLevel.Information, "{Identity} became leader of lease {Namespace}/{Lease}")]
    public static partial void BecameLeader(ILogger logger, string identity, string @namespace, string lease);

    [LoggerMessage(2, LogLevel.Warning, "{Identity} lost leadership of lease {Namespace}/{Lease}")]
    public static partial void Lost(ILogger logger, string identity, string @namespace, string lease);

    [LoggerMessage(3, LogLevel.Error, "leader work of {Identity} failed")]
    public static partial void WorkFailed(ILogger logger, Exception error, string identity);

    [LoggerMessage(4, LogLevel.Warning, "{Identity}: lease {Namespace}/{Lease} not acquired or renewed: {Error}")]
    public static partial void NotRenewed(ILogger logger, string identity, string @namespace, string lease, string error);

    [LoggerMessage(5, LogLevel.Information, "{Identity} released lease {Namespace}/{Lease}")]
    public static partial void Released(ILogger logger, string identity, string @namespace, string lease);

    [LoggerMessage(6, LogLevel.Warning, "{Identity}: releasing lease failed: {Error}")]
    public static partial void ReleaseFailed(ILogger logger, string identity, string error);
}
