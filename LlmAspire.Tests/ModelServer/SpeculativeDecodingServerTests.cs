using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using LlmAspire.Inference.Models;
using LlmAspire.Tests.Inference;
using static LlmAspire.Tests.ModelServer.ModelServerHttp;

namespace LlmAspire.Tests.ModelServer;

/// <summary>
/// <c>ModelServer:Speculative:*</c> as an operator sets it: the model server process built by this run, configured by
/// environment variables, refuses bad values at start-up and, configured well, speculates and counts it under vLLM's names.
/// </summary>
public sealed class SpeculativeDecodingServerTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);

    [Theory]
    [InlineData("Tokens", "33", "ModelServer:Speculative:Tokens must be between 0 (off) and 32.")]
    [InlineData("MinNgram", "5", "ModelServer:Speculative:MinNgram must be between 1 and ModelServer:Speculative:MaxNgram (4); it is 5.")]
    [InlineData("MaxBatch", "0", "ModelServer:Speculative:MaxBatch must be between 1 and 1024.")]
    public async Task Start_InvalidSpeculativeSetting_ExitsNamingIt(string name, string value, string message)
    {
        using var server = ServerProcess.Start(null, ($"ModelServer__Speculative__{name}", value));

        var (exitCode, output) = await server.WaitForExitAsync(s_timeout);

        Assert.NotEqual(0, exitCode);
        Assert.Contains(message, output, StringComparison.Ordinal);
    }

    [Stories260KFact]
    public async Task Completion_WithSpeculationOn_IsTheKnownGreedyTextAndCountsAcceptedTokens()
    {
        using var temp = TestPaths.CreateTempDirectory();
        var folder = Path.Combine(temp.Path, AppHost.AspireAppFixture.ModelId);
        ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, folder);
        using var server = ServerProcess.Start(folder, ("ModelServer__Speculative__Tokens", "4"), ("ModelServer__Speculative__MinNgram", "1"));
        using var client = await server.WaitUntilHealthyAsync(s_timeout);

        using var completion = await CompleteAsync(client, Json(new Dictionary<string, object?>
        {
            ["model"] = AppHost.AspireAppFixture.ModelId,
            ["prompt"] = StoryPrompt,
            ["max_tokens"] = 60,
            ["temperature"] = 0,
        }));
        var metrics = await ModelServerMetrics.ScrapeAsync(client);

        Assert.Equal(KnownContinuation, completion.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
        var drafts = metrics.Value("vllm:spec_decode_num_drafts_total");
        var proposed = metrics.Value("vllm:spec_decode_num_draft_tokens_total");
        var accepted = metrics.Value("vllm:spec_decode_num_accepted_tokens_total");
        Assert.True(drafts > 0 && proposed >= drafts, $"{drafts} drafts of {proposed} tokens");
        Assert.InRange(accepted, 1, proposed);
    }

    /// <summary>The model server's own assembly, run as <c>dotnet LlmAspire.ModelServer.dll</c> on a free local port.</summary>
    private sealed class ServerProcess : IDisposable
    {
        private readonly Process _process;
        private readonly Task<string> _stdout;
        private readonly Task<string> _stderr;

        private ServerProcess(Process process, Uri address)
        {
            _process = process;
            Address = address;
            _stdout = process.StandardOutput.ReadToEndAsync();
            _stderr = process.StandardError.ReadToEndAsync();
        }

        public Uri Address { get; }

        public static ServerProcess Start(string? modelFolder, params (string Name, string Value)[] environment)
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

            return new ServerProcess(Process.Start(startInfo) ?? throw new InvalidOperationException("dotnet did not start."), address);
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
            var configuration = typeof(SpeculativeDecodingServerTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
            var directory = Path.Combine(TestPaths.RepositoryRoot, "LlmAspire.ModelServer", "bin", configuration);
            return Directory.EnumerateFiles(directory, "LlmAspire.ModelServer.dll", SearchOption.AllDirectories)
                .OrderByDescending(File.GetLastWriteTimeUtc)
                .FirstOrDefault() ?? throw new FileNotFoundException($"LlmAspire.ModelServer.dll not found under {directory}: build the solution first.");
        }
    }
}
