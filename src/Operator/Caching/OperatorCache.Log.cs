using Microsoft.Extensions.Logging;

namespace DoraOperator.Operator.Caching;

internal sealed partial class OperatorCache
{
    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "{Kind} ({ApiVersion}) is served: tracking it from now on")]
        public static partial void Discovered(ILogger logger, string kind, string apiVersion);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Discovery of {ApiVersion} failed ({Error}); trying again later")]
        public static partial void DiscoveryFailed(ILogger logger, string apiVersion, string error);
    }
}
