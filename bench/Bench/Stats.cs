namespace DoraOperator.Bench;

internal static class Stats
{
    /// <summary>Nearest-rank percentile of a sample.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];

    public static void Row(string what, string value, string goal = "") =>
        Console.WriteLine($"| {what,-44} | {value,16} | {goal,-22} |");

    public static void Header()
    {
        Console.WriteLine($"| {"measure",-44} | {"result",16} | {"goal",-22} |");
        Console.WriteLine($"|{new string('-', 46)}|{new string('-', 18)}|{new string('-', 24)}|");
    }
}
