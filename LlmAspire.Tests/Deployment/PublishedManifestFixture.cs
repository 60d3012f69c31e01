using System.Diagnostics;
using System.Reflection;
using LlmAspire.Cli.Deployment;
using LlmAspire.Tests.Inference;

namespace LlmAspire.Tests.Deployment;

/// <summary>The Aspire manifest of the AppHost this test run built (<c>--publisher manifest</c>), published once per class.</summary>
public sealed class PublishedManifestFixture : IAsyncLifetime
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);

    private string? _json;

    /// <summary>The manifest's JSON text.</summary>
    public string Json => _json ?? throw new InvalidOperationException("The manifest has not been published.");

    internal AspireManifest Manifest => AspireManifest.Parse(Json);

    public async Task InitializeAsync()
    {
        using var temp = TestPaths.CreateTempDirectory();
        var path = Path.Combine(temp.Path, "aspire-manifest.json");
        var startInfo = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } dotnet ? dotnet : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = TestPaths.RepositoryRoot,
        };
        foreach (var argument in new[] { FindAppHostAssembly(), "--publisher", "manifest", "--output-path", path })
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

        var output = await stdout.WaitAsync(s_timeout) + await stderr.WaitAsync(s_timeout);
        if (process.ExitCode != 0 || !File.Exists(path))
        {
            throw new InvalidOperationException($"Publishing the manifest failed ({process.ExitCode}):{Environment.NewLine}{output}");
        }

        _json = await File.ReadAllTextAsync(path).WaitAsync(s_timeout);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static string FindAppHostAssembly()
    {
        var configuration = typeof(PublishedManifestFixture).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var outputDirectory = Path.Combine(TestPaths.RepositoryRoot, "LlmAspire.AppHost", "bin", configuration);
        return Directory.EnumerateFiles(outputDirectory, "LlmAspire.AppHost.dll", SearchOption.AllDirectories)
            .OrderByDescending(File.GetLastWriteTimeUtc)
            .FirstOrDefault() ?? throw new FileNotFoundException($"LlmAspire.AppHost.dll not found under {outputDirectory}.");
    }
}
