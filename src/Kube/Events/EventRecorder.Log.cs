using Microsoft.Extensions.Logging;

namespace DoraOperator.Kube.Events;

internal static partial class EventRecorderLog
{
    [LoggerMessage(1, LogLevel.Warning, "could not record event {Reason} on {Kind}/{Name}: {Error}")]
    public static partial void RecordFailed(ILogger logger, string reason, string? kind, string? name, string error);

    [LoggerMessage(2, LogLevel.Information, "events.k8s.io/v1 is not served; recording core/v1 events")]
    public static partial void CoreEvents(ILogger logger);
}
