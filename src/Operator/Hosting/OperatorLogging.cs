using Microsoft.Extensions.Logging;

namespace DoraOperator.Operator.Hosting;

/// <summary>The operator's console log: one line per message, with the time; ASP.NET Core's own chatter (a line per request) only from Warning up.</summary>
internal static class OperatorLogging
{
    public static ILoggerFactory Create(LogLevel minimum) => LoggerFactory.Create(b => b
        .AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        })
        .SetMinimumLevel(minimum)
        .AddFilter("Microsoft", LogLevel.Warning));
}
