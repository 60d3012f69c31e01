using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using LlmAspire.Tests.Inference;

namespace LlmAspire.Tests.AppHost;

/// <summary>The manifest azd reads, written by the built AppHost run with <c>--publisher manifest</c>.</summary>
public sealed class ManifestPublishTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task PublishManifest_WritesTheTopologyWithOnlyTheGatewayExternal()
    {
        using var temp = TestPaths.CreateTempDirectory();
        var manifestPath = Path.Combine(temp.Path, "aspire-manifest.json");

        var (exitCode, output) = await RunAppHostAsync("--publisher", "manifest", "--output-path", manifestPath).WaitAsync(s_timeout);

        Assert.True(exitCode == 0, $"The AppHost exited with {exitCode}:{Environment.NewLine}{output}");
        Assert.True(File.Exists(manifestPath), $"No manifest at {manifestPath}:{Environment.NewLine}{output}");
        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(manifestPath).WaitAsync(s_timeout));
        var resources = manifest.RootElement.GetProperty("resources");

        Assert.StartsWith("container.", resources.GetProperty("cache").GetProperty("type").GetString(), StringComparison.Ordinal);
        foreach (var name in new[] { "modelserver-0", "modelserver-1", "gateway" })
        {
            Assert.True(resources.TryGetProperty(name, out var resource), $"{name} is missing from the manifest.");
            Assert.StartsWith("project.", resource.GetProperty("type").GetString(), StringComparison.Ordinal);
        }

        Assert.False(resources.TryGetProperty("modelserver-2", out _), "The default is two model servers.");
        Assert.True(HasExternalBinding(resources.GetProperty("gateway")), "The gateway must have an external endpoint.");
        Assert.False(HasExternalBinding(resources.GetProperty("modelserver-0")), "Model servers must stay internal.");
        Assert.False(HasExternalBinding(resources.GetProperty("modelserver-1")), "Model servers must stay internal.");

        var gatewayEnvironment = resources.GetProperty("gateway").GetProperty("env");
        Assert.Equal("modelserver-0", gatewayEnvironment.GetProperty("Gateway__ModelServers__0").GetString());
        Assert.Equal("modelserver-1", gatewayEnvironment.GetProperty("Gateway__ModelServers__1").GetString());
        Assert.True(gatewayEnvironment.TryGetProperty("services__modelserver-0__http__0", out _), "The gateway must discover modelserver-0.");
        Assert.True(gatewayEnvironment.TryGetProperty("ConnectionStrings__cache", out _), "The gateway must reference the cache.");
    }

    private static bool HasExternalBinding(JsonElement resource) =>
        resource.TryGetProperty("bindings", out var bindings)
        && bindings.EnumerateObject().Any(binding =>
            binding.Value.TryGetProperty("external", out var external) && external.ValueKind == JsonValueKind.True);

    /// <summary>Runs the AppHost this test run built, as <c>dotnet LlmAspire.AppHost.dll</c>.</summary>
    private static async Task<(int ExitCode, string Output)> RunAppHostAsync(params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } dotnet ? dotnet : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = TestPaths.RepositoryRoot,
        };
        startInfo.ArgumentList.Add(FindAppHostAssembly());
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("dotnet did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancellation = new CancellationTokenSource(s_timeout);
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private static string FindAppHostAssembly()
    {
        var configuration = typeof(ManifestPublishTests).Assembly
            .GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var outputDirectory = Path.Combine(TestPaths.RepositoryRoot, "LlmAspire.AppHost", "bin", configuration);
        return Directory.Exists(outputDirectory)
            ? Directory.EnumerateFiles(outputDirectory, "LlmAspire.AppHost.dll", SearchOption.AllDirectories)
                .OrderByDescending(File.GetLastWriteTimeUtc)
                .FirstOrDefault() ?? throw new FileNotFoundException($"LlmAspire.AppHost.dll not found under {outputDirectory}.")
            : throw new DirectoryNotFoundException($"{outputDirectory} does not exist: build the solution first.");
    }
}
