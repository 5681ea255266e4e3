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

        [LoggerMessage(4, LogLevel.Information, "demo: played {Steps} steps of {Days} days of history in {Seconds:0.0} s; the clock runs on real time from here")]
        public static partial void MonthPlayed(ILogger logger, int steps, double days, double seconds);

        [LoggerMessage(5, LogLevel.Warning, "demo: record {Namespace}/{Record} not finished after {Seconds} s; playing on")]
        public static partial void NotSettled(ILogger logger, string @namespace, string record, double seconds);
    }
}
