using Microsoft.Extensions.Logging;

namespace DoraOperator.Kube.Informers;

internal static partial class InformerLog
{
    [LoggerMessage(1, LogLevel.Information, "{Kind} watch expired at resourceVersion {Rv} ({Message}); relisting")]
    public static partial void Expired(ILogger logger, string kind, string rv, string? message);

    [LoggerMessage(2, LogLevel.Warning, "{Kind} {Phase} failed: {Error}; retrying in {Delay} ms")]
    public static partial void Failed(ILogger logger, string kind, string phase, string error, int delay);

    [LoggerMessage(3, LogLevel.Error, "{Kind} informer handler failed")]
    public static partial void HandlerFailed(ILogger logger, Exception error, string kind);
}
