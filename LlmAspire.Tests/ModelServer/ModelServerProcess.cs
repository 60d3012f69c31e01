using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using LlmAspire.Tests.Inference;
using static LlmAspire.Tests.ModelServer.ModelServerHttp;

namespace LlmAspire.Tests.ModelServer;

/// <summary>
/// The model server's own assembly built by this run, run as <c>dotnet LlmAspire.ModelServer.dll</c> on a free local
/// port and configured by environment variables, as an operator runs it; <see cref="Terminate"/> sends SIGTERM, as
/// Kubernetes and systemd stop it. Disposal kills what still runs.
/// </summary>
internal sealed class ModelServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ModelServerProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
        process.OutputDataReceived += (_, line) => Append(line.Data);
        process.ErrorDataReceived += (_, line) => Append(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Uri Address { get; }

    /// <summary>What the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts the server on <paramref name="modelFolder"/> (null: the built-in demo model) on the CPU, on a free port of 127.0.0.1.</summary>
    public static ModelServerProcess Start(string? modelFolder, params (string Name, string Value)[] environment) =>
        Start(modelFolder, new Uri($"http://127.0.0.1:{FreePort(IPAddress.Loopback)}"), environment);

    /// <summary>Starts the server on <paramref name="modelFolder"/> listening on <paramref name="address"/>.</summary>
    public static ModelServerProcess Start(string? modelFolder, Uri address, params (string Name, string Value)[] environment)
    {
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

    /// <summary>A port nothing listens on at <paramref name="address"/> just now.</summary>
    public static int FreePort(IPAddress address)
    {
        using var listener = new TcpListener(address, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A client of this server.</summary>
    public HttpClient CreateClient() => new() { BaseAddress = Address, Timeout = RequestTimeout };

    /// <summary>Sends SIGTERM (<c>kill -TERM</c>): the host's graceful stop, as Kubernetes begins a pod's termination.</summary>
    public void Terminate()
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", _process.Id.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false })
            ?? throw new InvalidOperationException("kill did not start.");
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    public async Task<(int ExitCode, string Output)> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancellation.Token);
        return (_process.ExitCode, Output);
    }

    /// <summary>Polls <c>/health</c> until it answers 200 (bounded); fails at once if the process exits.</summary>
    public async Task<HttpClient> WaitUntilHealthyAsync(TimeSpan timeout)
    {
        var client = CreateClient();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                client.Dispose();
                Assert.Fail($"The model server exited: {Output}");
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

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
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
