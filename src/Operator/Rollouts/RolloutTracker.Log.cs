using Microsoft.Extensions.Logging;

namespace DoraOperator.Operator.Rollouts;

internal sealed partial class RolloutTracker
{
    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "recorded {Namespace}/{Record}: {Phase}")]
        public static partial void Recorded(ILogger logger, string? @namespace, string? record, string phase);

        [LoggerMessage(2, LogLevel.Warning, "retention pass failed: {Error}; retrying in {Interval}")]
        public static partial void RetentionFailed(ILogger logger, string error, TimeSpan interval);

        [LoggerMessage(3, LogLevel.Information, "retention: deleted {Namespace}/{Record} (project {Project}: maxAge {MaxAge}, maxRecords {MaxRecords})")]
        public static partial void RetentionDeleted(ILogger logger, string? @namespace, string? record, string? project, string maxAge, int maxRecords);

        [LoggerMessage(4, LogLevel.Debug, "retired {ObjectKind} {Namespace}/{Object} of {Kind} {Workload} from the cache: its revision is recorded and older than the previous one")]
        public static partial void Retired(ILogger logger, string objectKind, string @namespace, string @object, string kind, string? workload);
    }
}
