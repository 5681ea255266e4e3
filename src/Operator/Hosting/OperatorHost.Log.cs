using Microsoft.Extensions.Logging;

namespace DoraOperator.Operator.Hosting;

internal sealed partial class OperatorHost
{
    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "connected to {Server} (Kubernetes {Version}) using {Source}")]
        public static partial void Connected(ILogger logger, string server, string version, string source);

        [LoggerMessage(2, LogLevel.Warning, "stopped leading; only the leader writes records")]
        public static partial void StoppedLeading(ILogger logger);

        [LoggerMessage(3, LogLevel.Information, "leader is {Leader}")]
        public static partial void LeaderIs(ILogger logger, string leader);

        [LoggerMessage(4, LogLevel.Warning, "metric {Metric} reached its limit of {Limit} series (room for {MaxProjects} projects); further series are folded into one series labelled otel_metric_overflow=\"true\". Raise --metrics-max-projects")]
        public static partial void SeriesOverflow(ILogger logger, string metric, int limit, int maxProjects);

        [LoggerMessage(5, LogLevel.Information, "client-side rate limit on Kubernetes API requests: {Limit}")]
        public static partial void RateLimit(ILogger logger, string limit);

        [LoggerMessage(6, LogLevel.Information, "caches synced and the rollout queue quiet: compacted the managed heap from {Before:F0} MB to {After:F0} MB in {Milliseconds:F0} ms")]
        public static partial void Compacted(ILogger logger, double before, double after, double milliseconds);

        [LoggerMessage(7, LogLevel.Information, "the rollout queue quiet and the managed heap grown from {Previous:F0} MB (after the last compaction) to {Before:F0} MB: compacted the managed heap to {After:F0} MB in {Milliseconds:F0} ms")]
        public static partial void CompactedAgain(ILogger logger, double before, double previous, double after, double milliseconds);
    }
}
