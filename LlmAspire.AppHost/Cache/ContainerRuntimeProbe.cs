using System.ComponentModel;
using System.Diagnostics;
using Microsoft.Extensions.Configuration;

namespace LlmAspire.AppHost.Cache;

/// <summary>Asks the container runtime whether its engine answers (<c>docker info</c>), with a time limit.</summary>
internal static class ContainerRuntimeProbe
{
    /// <summary>The time <c>docker info</c> may take before the runtime counts as absent.</summary>
    internal static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>The runtime Aspire uses: <c>ASPIRE_CONTAINER_RUNTIME</c> when set, else docker.</summary>
    internal static string GetRuntime(IConfiguration configuration) =>
        configuration["ASPIRE_CONTAINER_RUNTIME"] is { Length: > 0 } runtime ? runtime : "docker";

    /// <summary>True when <c>{runtime} info</c> exits 0 within <see cref="Timeout"/>.</summary>
    internal static bool Answers(string runtime)
    {
        var startInfo = new ProcessStartInfo(runtime)
        {
            ArgumentList = { "info" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        try
        {
            using var process = Process.Start(startInfo);
            if (process is null)
            {
                return false;
            }

            // Drain both pipes so a chatty runtime cannot block on a full buffer.
            _ = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();

            if (!process.WaitForExit(Timeout))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }

            return process.ExitCode == 0;
        }
        catch (Win32Exception)
        {
            // The runtime's client is not installed.
            return false;
        }
    }
}
