using System.Diagnostics;
using LlmAspire.Inference;
using LlmAspire.Inference.Models;
using Microsoft.Extensions.Options;

namespace LlmAspire.ModelServer.Hosting;

/// <summary>
/// Loads the configured model folder (or the built-in demo model) off the start-up path, so the
/// server answers health probes while it loads; see <see cref="ModelHealthCheck"/>.
/// </summary>
internal sealed partial class ModelLoader(ModelHost host, IOptions<ModelServerOptions> options, ILogger<ModelLoader> logger) : BackgroundService
{
    /// <summary>Where the built-in demo model is written when no model path is configured.</summary>
    public static string DemoDirectory => Path.Combine(Path.GetTempPath(), "llmaspire");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        try
        {
            var model = await Task.Run(() => Load(settings), stoppingToken);
            host.SetReady(model);
            LogReady(logger, model.Id, model.ExecutionProvider, model.Config.ContextLength, model.Config.VocabSize);
            if (model.FallbackReason is { } reason)
            {
                LogFallback(logger, settings.ExecutionProvider, reason);
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

    private LanguageModel Load(ModelServerOptions settings)
    {
        var folder = settings.ModelPath;
        if (string.IsNullOrWhiteSpace(folder))
        {
            folder = BuiltInModels.EnsureDemoFolder(DemoDirectory);
            LogDemoModel(logger, BuiltInModels.DemoName, folder);
        }

        LogLoading(logger, folder, settings.ExecutionProvider);
        var stopwatch = Stopwatch.StartNew();
        var model = LanguageModel.Load(folder, settings.GetExecutionProviderPreference());
        LogLoaded(logger, stopwatch.Elapsed.TotalMilliseconds);
        return model;
    }

    [LoggerMessage(LogLevel.Warning, "ModelServer:ModelPath is empty: serving the built-in demo model {Name} from {Folder}. Its weights are RANDOM, so its text is gibberish; set ModelServer:ModelPath to a converted model folder to serve a real model.")]
    private static partial void LogDemoModel(ILogger logger, string name, string folder);

    [LoggerMessage(LogLevel.Information, "Loading model folder {Folder} (execution provider preference {Preference}).")]
    private static partial void LogLoading(ILogger logger, string folder, string preference);

    [LoggerMessage(LogLevel.Information, "Model loaded in {ElapsedMs:F0} ms.")]
    private static partial void LogLoaded(ILogger logger, double elapsedMs);

    [LoggerMessage(LogLevel.Information, "Serving model {ModelId} on the {ExecutionProvider} execution provider (context {ContextLength} tokens, vocabulary {VocabSize}).")]
    private static partial void LogReady(ILogger logger, string modelId, string executionProvider, int contextLength, int vocabSize);

    [LoggerMessage(LogLevel.Warning, "Execution provider preference {Preference} fell back to the CPU provider: {Reason}")]
    private static partial void LogFallback(ILogger logger, string preference, string reason);

    [LoggerMessage(LogLevel.Error, "Loading the model from '{Folder}' failed; the server stays up and reports Unhealthy.")]
    private static partial void LogLoadFailed(ILogger logger, Exception exception, string folder);
}
