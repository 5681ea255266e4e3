using Microsoft.Extensions.Logging;

namespace DoraOperator.Operator.Sandboxing;

internal sealed partial class DemoDriver
{
    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "demo stopped: {Error}")]
        public static partial void Stopped(ILogger logger, string error);

        [LoggerMessage(2, LogLevel.Information, "demo: namespace {Namespace}, DoraProject {Project}, Deployments {Workloads}")]
        public static partial void Created(ILogger logger, string @namespace, string project, string workloads);

        [LoggerMessage(3, LogLevel.Information, "demo: history done (releases, a failed rollout, a rollback, an incident, a restart); a release every {Pace} s from now on")]
        public static partial void HistoryDone(ILogger logger, double pace);
    }
}
