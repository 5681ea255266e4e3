using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DoraOperator.Operator.Http;

/// <summary>
/// A Kestrel server embedded in the operator (the HTTP port, the intake port): slim, no logging of
/// its own unless given, and no console lifetime, since the operator's command owns Ctrl+C.
/// </summary>
internal static class EmbeddedWeb
{
    public static WebApplicationBuilder CreateBuilder(string address, int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHostLifetime, NoLifetime>();
        builder.WebHost.UseUrls($"http://{address}:{port}");
        return builder;
    }

    /// <summary>The URL a started server listens on, with a wildcard address made reachable (127.0.0.1), ending in '/'.</summary>
    public static Uri BaseUrl(WebApplication web)
    {
        var url = web.Urls.First().Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal);
        return new Uri(url.EndsWith('/') ? url : url + "/");
    }

    private sealed class NoLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
