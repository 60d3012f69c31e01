using System.ComponentModel;
using System.Diagnostics;
using Microsoft.Extensions.Configuration;

namespace LlmAspire.AppHost.Cache;

/// <summary>Asks container runtimes (Docker, Podman) whether they answer and whether an image can be had, with a time limit.</summary>
internal static class ContainerRuntimeProbe
{
    /// <summary>
    /// The time one runtime command may take before the answer counts as no. <c>docker info</c> without a daemon fails
    /// in a fraction of a second; <c>podman info</c>, daemonless, opens its storage and took 5-7 s on a loaded two-core
    /// machine, so the limit leaves room for that.
    /// </summary>
    internal static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    /// <summary>The runtimes probed, in order, when none is configured: Aspire's default first.</summary>
    internal static readonly IReadOnlyList<string> DefaultRuntimes = ["docker", "podman"];

    /// <summary>The configuration key (and environment variable) Aspire reads its container runtime from.</summary>
    internal const string RuntimeKey = "ASPIRE_CONTAINER_RUNTIME";

    /// <summary>The older spelling of <see cref="RuntimeKey"/>, which Aspire still reads.</summary>
    internal const string LegacyRuntimeKey = "DOTNET_ASPIRE_CONTAINER_RUNTIME";

    /// <summary>The runtime the user chose for Aspire (<c>ASPIRE_CONTAINER_RUNTIME</c>), or null when none is set.</summary>
    internal static string? GetConfiguredRuntime(IConfiguration configuration) =>
        configuration[RuntimeKey] is { Length: > 0 } runtime ? runtime
            : configuration[LegacyRuntimeKey] is { Length: > 0 } legacy ? legacy
            : null;

    /// <summary>True when <c>{runtime} info</c> exits 0 within <see cref="Timeout"/>.</summary>
    internal static bool Answers(string runtime) => Succeeds(runtime, "info");

    /// <summary>
    /// True when <paramref name="image"/> is in the runtime's local store (<c>image inspect</c>) or its registry
    /// describes it (<c>manifest inspect</c>, which reads the manifest without pulling the layers).
    /// </summary>
    internal static bool ImageAvailable(string runtime, string image) =>
        Succeeds(runtime, "image", "inspect", image) || Succeeds(runtime, "manifest", "inspect", image);

    private static bool Succeeds(string runtime, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(runtime)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

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
