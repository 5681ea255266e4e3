using Microsoft.Extensions.Logging;

namespace DoraOperator.Operator.Incidents;

internal sealed partial class IncidentController
{
    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "incident {Namespace}/{Name}: defaulted {Fields}")]
        public static partial void Defaulted(ILogger logger, string? @namespace, string? name, string fields);

        [LoggerMessage(2, LogLevel.Information, "incident {Namespace}/{Name}: {Reason}{Linked}")]
        public static partial void PhaseChanged(ILogger logger, string? @namespace, string? name, string reason, string linked);
    }
}
