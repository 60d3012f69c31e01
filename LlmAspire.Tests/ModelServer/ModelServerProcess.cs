using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using LlmAspire.Tests.Inference;
using static LlmAspire.Tests.ModelServer.ModelServerHttp;

namespace LlmAspire.Tests.ModelServer;

/// <summary>
/// The model server's own assembly built by this run, started as <c>dotnet LlmAspire.ModelServer.dll</c> on a free local
/// port with the CPU provider, the given model folder (empty: the demo model) and environment.
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

    public static ModelServerProcess Start(string? modelFolder, params (string Name, string Value)[] environment)
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var address = new Uri($"http://127.0.0.1:{port}");
        var startInfo = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } dotnet ? dotnet : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(FindAssembly())!,
        };
        startInfo.ArgumentList.Add(FindAssembly());
        startInfo.Environment["ASPNETCORE_URLS"] = address.ToString();
        startInfo.Environment["ModelServer__ExecutionProvider"] = "cpu";
        startInfo.Environment["ModelServer__ModelPath"] = modelFolder ?? "";
        foreach (var (name, value) in environment)
        {
            startInfo.Environment[name] = value;
        }

        return new ModelServerProcess(Process.Start(startInfo) ?? throw new InvalidOperationException("dotnet did not start."), address);
    }

    public async Task<(int ExitCode, string Output)> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancellation.Token);
        return (_process.ExitCode, await _stdout + await _stderr);
    }

    public async Task<HttpClient> WaitUntilHealthyAsync(TimeSpan timeout)
    {
        var client = new HttpClient { BaseAddress = Address, Timeout = RequestTimeout };
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
