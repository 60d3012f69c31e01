using System.Diagnostics;
using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.Hub;
using LlmAspire.ModelServer.Telemetry;
using Microsoft.Extensions.Options;

namespace LlmAspire.ModelServer.Hosting;

/// <summary>
/// Resolves and loads the configured model off the start-up path, so the server answers health probes (Degraded)
/// while it downloads and loads; see <see cref="ModelHealthCheck"/>. <c>ModelServer:ModelPath</c> is a model
/// folder, an <c>hf:</c> hub reference (downloaded, converted and cached on first use), or empty for the demo model.
/// With <c>ModelServer:Engine=simulated</c> nothing is resolved or loaded: the simulated engine starts at once.
/// </summary>
internal sealed partial class ModelLoader(
    ModelHost host,
    IOptions<ModelServerOptions> options,
    IHttpClientFactory httpClientFactory,
    VllmMetrics vllmMetrics,
    ILogger<ModelLoader> logger) : BackgroundService
{
    /// <summary>The named HttpClient that hub downloads use.</summary>
    public const string HubHttpClientName = "model-hub";

    /// <summary>
    /// Where the built-in demo model is written: one folder per engine build (its deterministic module version id),
    /// so a demo written by an older engine is never loaded by a newer one.
    /// </summary>
    public static string DemoDirectory { get; } = Path.Combine(
        Path.GetTempPath(), "llmaspire", "engine-" + typeof(BuiltInModels).Assembly.ManifestModule.ModuleVersionId.ToString("N")[..12]);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        try
        {
            LanguageModel model;
            if (settings.IsSimulated)
            {
                model = CreateSimulated(settings);
            }
            else
            {
                var folder = await ResolveFolderAsync(settings, stoppingToken);
                model = await Task.Run(() => Load(folder, settings), stoppingToken);
            }

            host.SetReady(model);
            LogReady(logger, model.Id, model.ExecutionProvider, model.Config.ContextLength, model.Config.VocabSize);
            if (model.FallbackReason is { } reason)
            {
                LogFallback(logger, settings.ExecutionProvider, reason);
            }

            if (model.AttentionKernelFallbackReason is { } attentionReason)
            {
                LogAttentionFallback(logger, attentionReason);
            }

            if (model.PackedMatMuls > 0)
            {
                LogPackedMatMuls(logger, model.PackedMatMuls);
            }
            else if (model.PackedMatMulFallbackReason is { } packReason)
            {
                LogPackedMatMulFallback(logger, packReason);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            host.SetFailed("The server stopped before the model was loaded.");
        }
        catch (Exception ex)
        {
            LogLoadFailed(logger, ex, settings.ModelPath);
            host.SetFailed($"Loading the model failed: {ex.Message}");
        }
    }

    /// <summary>
    /// The folder to load. An <c>hf:</c> reference falls back to the demo model only when the hub cannot be reached and
    /// nothing is cached (and <see cref="ModelServerOptions.FallBackToDemoModel"/> allows it); a reference the hub
    /// does not know, a bad local path or a failed verification stays an error.
    /// </summary>
    private async Task<string> ResolveFolderAsync(ModelServerOptions settings, CancellationToken cancellationToken)
    {
        var modelPath = settings.ModelPath.Trim();
        if (modelPath.Length == 0)
        {
            var demo = BuiltInModels.EnsureDemoFolder(DemoDirectory);
            LogDemoModel(logger, BuiltInModels.DemoName, demo);
            return demo;
        }

        if (!HubModelReference.IsHubReference(modelPath))
        {
            return modelPath;
        }

        var reference = HubModelReference.Parse(modelPath);
        var hubOptions = HubOptions.FromEnvironment(settings.HubEndpoint, settings.CacheDirectory);
        using var http = httpClientFactory.CreateClient(HubHttpClientName);

        // Large files take as long as they take; HubOptions.StallTimeout catches a transfer that stops moving.
        http.Timeout = Timeout.InfiniteTimeSpan;
        var resolver = new HubModelResolver(http, hubOptions);
        LogResolving(logger, reference.ToString(), hubOptions.Endpoint, resolver.CacheFolder(reference));
        try
        {
            var stopwatch = Stopwatch.StartNew();
            var resolution = await resolver.ResolveAsync(reference, new ProgressLog(logger), cancellationToken);
            LogResolved(logger, reference.ToString(), resolution.Folder, resolution.Format, resolution.Commit ?? "unknown",
                resolution.FromCache ? "the cache, without network access" : "the hub", stopwatch.Elapsed.TotalSeconds);
            return resolution.Folder;
        }
        catch (HubUnreachableException ex) when (settings.FallBackToDemoModel)
        {
            var demo = BuiltInModels.EnsureDemoFolder(DemoDirectory);
            LogHubFallback(logger, BuiltInModels.DemoName, reference.ToString(), hubOptions.Endpoint, ex.Message.TrimEnd('.'));
            return demo;
        }
    }

    /// <summary>The simulated engine: no ONNX Runtime session, no KV memory; its metrics carry the configured model id.</summary>
    private LanguageModel CreateSimulated(ModelServerOptions settings)
    {
        var simulated = settings.Simulated;
        var model = LanguageModel.CreateSimulated(simulated, settings.GetEngineOptions(), vllmMetrics.CreateListener(simulated.ModelId));
        LogSimulated(logger, simulated.ModelId, simulated.MaxSequences, simulated.ContextLength, simulated.KvBudgetTokens,
            simulated.PrefillMsPerToken, simulated.DecodeBaseMs, simulated.DecodeMsPerSequence, simulated.DecodeMsPerKvToken);
        return model;
    }

    private LanguageModel Load(string folder, ModelServerOptions settings)
    {
        LogLoading(logger, folder, settings.ExecutionProvider);
        var stopwatch = Stopwatch.StartNew();
        // The engine's metrics carry the model id, which is the folder's name (as LanguageModel.Id is).
        var modelId = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)));
        var engineOptions = settings.GetEngineOptions();
        var model = LanguageModel.Load(folder, settings.GetExecutionProviderPreference(), engineOptions, vllmMetrics.CreateListener(modelId));
        LogLoaded(logger, stopwatch.Elapsed.TotalMilliseconds, engineOptions.MaxSequences, model.ContextLength, model.KvCacheBytes / (1024.0 * 1024.0), engineOptions.MaxQueue);
        LogAttentionPath(logger, model.Attention.Path.ToString(), model.Attention.Description, model.Attention.AttentionOperators, model.Attention.Reason);
        return model;
    }

    [LoggerMessage(LogLevel.Warning, "ModelServer:ModelPath is empty: serving the built-in demo model {Name} from {Folder}. Its weights are RANDOM, so its text is gibberish; set ModelServer:ModelPath to a model folder or an hf: reference to serve a real model.")]
    private static partial void LogDemoModel(ILogger logger, string name, string folder);

    [LoggerMessage(LogLevel.Warning,
        "Serving the built-in demo model {Name} INSTEAD OF {Reference}: the hub at {Endpoint} cannot be reached and the model is not cached. Reason: {Reason}. "
        + "The demo's weights are RANDOM, so its text is gibberish. To fix: let this machine reach the hub (or point HF_ENDPOINT or ModelServer:HubEndpoint at a mirror) and restart, "
        + "or set ModelServer:ModelPath (LlmAspire:ModelPath in the AppHost) to a local model folder. ModelServer:FallBackToDemoModel=false makes this an error instead.")]
    private static partial void LogHubFallback(ILogger logger, string name, string reference, Uri endpoint, string reason);

    [LoggerMessage(LogLevel.Information, "Resolving {Reference} from {Endpoint} (cache {CacheFolder}).")]
    private static partial void LogResolving(ILogger logger, string reference, Uri endpoint, string cacheFolder);

    [LoggerMessage(LogLevel.Information, "Resolved {Reference} to {Folder} ({Format}, commit {Commit}) from {Source} in {ElapsedSeconds:F1} s.")]
    private static partial void LogResolved(ILogger logger, string reference, string folder, HubModelFormat format, string commit, string source, double elapsedSeconds);

    [LoggerMessage(LogLevel.Information, "Another process is downloading into {Folder}; waiting for it.")]
    private static partial void LogWaitingForLock(ILogger logger, string folder);

    [LoggerMessage(LogLevel.Information, "Downloading {File} ({TotalBytes} bytes).")]
    private static partial void LogDownloadStarting(ILogger logger, string file, long? totalBytes);

    [LoggerMessage(LogLevel.Information, "Resuming {File} at byte {Bytes} of {TotalBytes}.")]
    private static partial void LogDownloadResuming(ILogger logger, string file, long bytes, long? totalBytes);

    [LoggerMessage(LogLevel.Information, "Downloading {File}: {Bytes} of {TotalBytes} bytes ({Percent:F1} %).")]
    private static partial void LogDownloadProgress(ILogger logger, string file, long bytes, long? totalBytes, double? percent);

    [LoggerMessage(LogLevel.Warning, "The transfer of {File} broke off at {Bytes} bytes ({Reason}); retrying from there.")]
    private static partial void LogDownloadRetrying(ILogger logger, string file, long bytes, string? reason);

    [LoggerMessage(LogLevel.Information, "Downloaded {File} ({Bytes} bytes, {Checks}).")]
    private static partial void LogDownloaded(ILogger logger, string file, long bytes, string? checks);

    [LoggerMessage(LogLevel.Information, "Converting the {Format} snapshot into {Folder} (once; later starts reuse it).")]
    private static partial void LogConverting(ILogger logger, string? format, string folder);

    [LoggerMessage(LogLevel.Warning,
        "ModelServer:Engine is simulated: serving {ModelId} WITHOUT A MODEL. Its text is a fixed passage and its timing a latency model "
        + "({MaxSequences} sequences of {Context} positions, KV budget {KvBudgetTokens} tokens, prefill {PrefillMsPerToken} ms per uncached prompt token, "
        + "decode step {DecodeBaseMs} ms + {DecodeMsPerSequence} ms per sequence + {DecodeMsPerKvToken} ms per KV position read).")]
    private static partial void LogSimulated(ILogger logger, string modelId, int maxSequences, int context, int kvBudgetTokens,
        double prefillMsPerToken, double decodeBaseMs, double decodeMsPerSequence, double decodeMsPerKvToken);

    [LoggerMessage(LogLevel.Information, "Loading model folder {Folder} (execution provider preference {Preference}).")]
    private static partial void LogLoading(ILogger logger, string folder, string preference);

    [LoggerMessage(LogLevel.Information, "Model loaded in {ElapsedMs:F0} ms; the engine batches up to {MaxSequences} sequences of {Context} positions ({KvCacheMiB:F1} MiB of KV cache), with up to {MaxQueue} requests waiting.")]
    private static partial void LogLoaded(ILogger logger, double elapsedMs, int maxSequences, int context, double kvCacheMiB, int maxQueue);

    [LoggerMessage(LogLevel.Information, "Attention path {AttentionPath}: {Description}. The graph's attention: {AttentionOperators}. Why: {Reason}")]
    private static partial void LogAttentionPath(ILogger logger, string attentionPath, string description, string attentionOperators, string reason);

    [LoggerMessage(LogLevel.Information, "Serving model {ModelId} on the {ExecutionProvider} execution provider (context {ContextLength} tokens, vocabulary {VocabSize}).")]
    private static partial void LogReady(ILogger logger, string modelId, string executionProvider, int contextLength, int vocabSize);

    [LoggerMessage(LogLevel.Warning, "Execution provider preference {Preference} fell back to the CPU provider: {Reason}")]
    private static partial void LogFallback(ILogger logger, string preference, string reason);

    [LoggerMessage(LogLevel.Information, "ONNX Runtime's GroupQueryAttention kernel runs instead of LlmAspire's: {Reason}")]
    private static partial void LogAttentionFallback(ILogger logger, string reason);

    [LoggerMessage(LogLevel.Information, "LlmAspire's packed MatMul kernels run {Count} weight MatMuls (float32 MatMul, 8-bit MatMulNBits; weights packed at load).")]
    private static partial void LogPackedMatMuls(ILogger logger, int count);

    [LoggerMessage(LogLevel.Warning, "MLAS runs the weight MatMuls instead of LlmAspire's packed kernels: {Reason}")]
    private static partial void LogPackedMatMulFallback(ILogger logger, string reason);

    [LoggerMessage(LogLevel.Error, "Loading the model from '{ModelPath}' failed; the server stays up and reports Unhealthy.")]
    private static partial void LogLoadFailed(ILogger logger, Exception exception, string modelPath);

    /// <summary>Writes each hub progress report as one log line, synchronously and in order.</summary>
    private sealed class ProgressLog(ILogger logger) : IProgress<HubProgress>
    {
        public void Report(HubProgress value)
        {
            switch (value.Kind)
            {
                case HubProgressKind.WaitingForLock:
                    LogWaitingForLock(logger, value.File);
                    break;
                case HubProgressKind.Starting when value.Bytes > 0:
                    LogDownloadResuming(logger, value.File, value.Bytes, value.TotalBytes);
                    break;
                case HubProgressKind.Starting:
                    LogDownloadStarting(logger, value.File, value.TotalBytes);
                    break;
                case HubProgressKind.Downloading:
                    LogDownloadProgress(logger, value.File, value.Bytes, value.TotalBytes, value.Percent);
                    break;
                case HubProgressKind.Retrying:
                    LogDownloadRetrying(logger, value.File, value.Bytes, value.Detail);
                    break;
                case HubProgressKind.Downloaded:
                    LogDownloaded(logger, value.File, value.Bytes, value.Detail);
                    break;
                case HubProgressKind.Converting:
                    LogConverting(logger, value.Detail, value.File);
                    break;
            }
        }
    }
}
