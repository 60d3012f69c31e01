using Aspire.Hosting;

namespace LlmAspire.Tests.AppHost;

/// <summary>How every test fixture that starts an Aspire app ends it.</summary>
internal static class AppShutdown
{
    /// <summary>Stops <paramref name="app"/> and disposes it even when stopping fails, each bounded by <paramref name="timeout"/>.</summary>
    public static async Task StopAsync(DistributedApplication? app, TimeSpan timeout)
    {
        if (app is null)
        {
            return;
        }

        try
        {
            await app.StopAsync().WaitAsync(timeout);
        }
        finally
        {
            await app.DisposeAsync().AsTask().WaitAsync(timeout);
        }
    }
}
