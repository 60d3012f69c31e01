using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models.Hub;

namespace LlmAspire.Tests.Inference.Hub;

/// <summary>Helpers shared by the hub tests.</summary>
internal static class HubTestModels
{
    /// <summary>How the known greedy continuation of "Once upon a time" begins (../shared/models/stories260K/README.md).</summary>
    public const string KnownStart = ", there was a little girl named Lily";

    /// <summary>Greedy text of the model in <paramref name="folder"/> after "Once upon a time".</summary>
    public static async Task<string> GreedyAsync(string folder, int tokens, TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        using var model = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu);
        var request = new GenerationRequest(model.Tokenizer.Encode("Once upon a time", addBos: true), MaxTokens: tokens, Temperature: 0);
        var text = new StringBuilder();
        await foreach (var update in model.GenerateAsync(request, cancellation.Token))
        {
            text.Append(update.Text);
        }

        return text.ToString();
    }

    /// <summary>An http URL on 127.0.0.1 where nothing listens: a port just bound and released.</summary>
    public static Uri ClosedEndpoint()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}");
    }
}

/// <summary>Collects progress reports synchronously, in order (unlike <see cref="Progress{T}"/>, which posts them).</summary>
internal sealed class ProgressRecorder : IProgress<HubProgress>
{
    private readonly ConcurrentQueue<HubProgress> _reports = new();

    public IReadOnlyList<HubProgress> Reports => [.. _reports];

    public void Report(HubProgress value) => _reports.Enqueue(value);
}
