using Microsoft.Extensions.Logging;

namespace DoraOperator.Operator.Projects;

internal sealed partial class ProjectAggregator
{
    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "project {Namespace}/{Name}: {Deploys}/day, lead time {LeadTime}, CFR {Cfr}, recovery {Recovery}, tier {Tier} ({Reason})")]
        public static partial void Calculated(ILogger logger, string @namespace, string name, string? deploys, string? leadTime, string? cfr, string? recovery, string? tier, string reason);
    }
}
