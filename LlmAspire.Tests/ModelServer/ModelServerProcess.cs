using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using LlmAspire.Tests.Inference;

namespace LlmAspire.Tests.ModelServer;

/// <summary>
/// The model server's own assembly built by this run, started as <c>dotnet LlmAspire.ModelServer.dll</c> and configured
/// by environment variables, as an operator runs it; killed with its process tree on dispose.
/// </summary>
internal sealed class ModelServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stdout;
    private readonly Task<string> _stderr;

    private ModelServerProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
        _stdout = process.StandardOutput.ReadToEndAsync();
        _stderr = process.StandardError.ReadToEndAsync();
    }

    public Uri Address { get; }

    /// <summary>Starts a server of <paramref name="modelFolder"/> on a free port of 127.0.0.1.</summary>
    public static ModelServerProcess Start(string? modelFolder, params (string Name, string Value)[] environment) =>
        Start(modelFolder, new Uri($"http://127.0.0.1:{FreePort(IPAddress.Loopback)}"), environment);

    /// <summary>Starts a server of <paramref name="modelFolder"/> listening on <paramref name="address"/>.</summary>
    public static ModelServerProcess Start(string? modelFolder, Uri address, params (string Name, string Value)[] environment)
    {
        var assembly = FindAssembly();
        var startInfo = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } dotnet ? dotnet : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
        };
        startInfo.ArgumentList.Add(assembly);
        startInfo.Environment["ASPNETCORE_URLS"] = address.ToString();
        startInfo.Environment["ModelServer__ExecutionProvider"] = "cpu";
        startInfo.Environment["ModelServer__ModelPath"] = modelFolder ?? "";
        foreach (var (name, value) in environment)
        {
            startInfo.Environment[name] = value;
        }

        return new ModelServerProcess(Process.Start(startInfo) ?? throw new InvalidOperationException("dotnet did not start."), address);
    }

    /// <summary>A port nothing listens on at <paramref name="address"/> just now.</summary>
    public static int FreePort(IPAddress address)
    {
        using var listener = new TcpListener(address, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async Task<(int ExitCode, string Output)> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancellation.Token);
        return (_process.ExitCode, await _stdout + await _stderr);
    }

    public async Task<HttpClient> WaitUntilHealthyAsync(TimeSpan timeout)
    {
        var client = new HttpClient { BaseAddress = Address, Timeout = ModelServerHttp.RequestTimeout };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                Assert.Fail($"The model server exited: {await _stdout}{await _stderr}");
            }

            try
            {
                using var health = await client.GetAsync(new Uri("/health", UriKind.Relative));
                if (health.StatusCode == HttpStatusCode.OK)
                {
                    return client;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        client.Dispose();
        throw new TimeoutException($"The model server was not healthy within {timeout}.");
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private static string FindAssembly()
    {
        var configuration = typeof(ModelServerProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var directory = Path.Combine(TestPaths.RepositoryRoot, "LlmAspire.ModelServer", "bin", configuration);
        return Directory.EnumerateFiles(directory, "LlmAspire.ModelServer.dll", SearchOption.AllDirectories)
            .OrderByDescending(File.GetLastWriteTimeUtc)
            .FirstOrDefault() ?? throw new FileNotFoundException($"LlmAspire.ModelServer.dll not found under {directory}: build the solution first.");
    }
}
