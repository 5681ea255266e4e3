using DoraOperator.Entities.Vocabulary;
using Microsoft.AspNetCore.Http;

namespace DoraOperator.Operator.Http;

/// <summary>The <c>?window=</c> query the JSON API and the dashboard both take.</summary>
internal static class WindowQuery
{
    /// <summary>Null when absent; false with <paramref name="error"/> saying what is wrong when it is not a duration.</summary>
    public static bool TryRead(HttpContext context, out TimeSpan? window, out string? error)
    {
        window = null;
        error = null;
        var text = context.Request.Query["window"].ToString();
        if (text.Length == 0) return true;
        if (Durations.TryParse(text, out var w))
        {
            window = w;
            return true;
        }
        error = $"window \"{text}\" is not a duration: write a whole number and a unit m, h, d or w, e.g. 7d, 12h, 2w";
        return false;
    }
}
