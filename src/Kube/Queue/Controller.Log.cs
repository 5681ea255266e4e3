using Microsoft.Extensions.Logging;

namespace DoraOperator.Kube.Queue;

internal static partial class ControllerLog
{
    [LoggerMessage(1, LogLevel.Warning, "{Controller}: reconciling {Key} failed: {Error}; retrying with backoff")]
    public static partial void Failed(ILogger logger, string controller, string key, string error);

    [LoggerMessage(2, LogLevel.Error, "{Controller}: reconciling {Key} threw; retrying with backoff")]
    public static partial void Threw(ILogger logger, Exception error, string controller, string key);
}
