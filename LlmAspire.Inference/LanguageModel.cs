using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Tokenization;

namespace LlmAspire.Inference;

/// <summary>
/// A model folder loaded on ONNX Runtime: its configuration, its tokenizer and one inference session.
/// Thread-safe; <see cref="GenerateAsync"/> may run for several requests at once.
/// </summary>
public sealed class LanguageModel : IDisposable
{
    private readonly DecoderSession _decoder;
    private readonly OnnxBatchModel _batch;
    private readonly InferenceEngine _engine;

    private LanguageModel(string id, LlamaConfig config, ITokenizer tokenizer, DecoderSession decoder, int[] endTokens, EngineOptions options, IEngineListener? listener)
    {
        Id = id;
        EndTokenIds = endTokens;
        Config = config;
        Tokenizer = tokenizer;
        _decoder = decoder;
        int context = options.MaxContext > 0 ? Math.Min(options.MaxContext, config.ContextLength) : config.ContextLength;
        _batch = new OnnxBatchModel(decoder, options.MaxSequences, context);
        _engine = new InferenceEngine(_batch, tokenizer, endTokens, options, listener);
    }

    /// <summary>The model id served by the OpenAI API: the folder name.</summary>
    public string Id { get; }

    /// <summary>Architecture and context length.</summary>
    public LlamaConfig Config { get; }

    /// <summary>The main end-of-sequence id.</summary>
    public int EosId => EndTokenIds[0];

    /// <summary>The ids that end a generation (genai_config.json's <c>eos_token_id</c>, else the tokenizer's EOS).</summary>
    public IReadOnlyList<int> EndTokenIds { get; }

    /// <summary>The model's tokenizer.</summary>
    public ITokenizer Tokenizer { get; }

    /// <summary>"cuda" or "cpu": the provider the session runs on.</summary>
    public string ExecutionProvider => _decoder.ExecutionProvider;

    /// <summary>Why CUDA was not used when <see cref="ExecutionProviderPreference.Auto"/> fell back; else null.</summary>
    public string? FallbackReason => _decoder.FallbackReason;

    /// <summary>The decoder session, for step-level use (tests, benchmarks).</summary>
    public DecoderSession Decoder => _decoder;

    /// <summary>The continuous-batching engine that serves <see cref="GenerateAsync"/>.</summary>
    public InferenceEngine Engine => _engine;

    /// <summary>Bytes of KV memory allocated up front for the engine.</summary>
    public long KvCacheBytes => _batch.KvBytes;

    /// <summary>
    /// Loads a model folder written by <see cref="ModelFolder"/> (or ONNX Runtime GenAI's model builder) and starts
    /// its engine with KV memory for <see cref="EngineOptions.MaxSequences"/> sequences.
    /// </summary>
    public static LanguageModel Load(string folder, ExecutionProviderPreference preference = ExecutionProviderPreference.Auto, EngineOptions? engineOptions = null, IEngineListener? listener = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        string full = Path.GetFullPath(folder);
        (LlamaConfig config, GenAiConfig genai) = ModelFolder.ReadConfig(full);
        ITokenizer tokenizer = ModelFolder.ReadTokenizer(full, genai);
        engineOptions ??= new EngineOptions();
        var decoder = DecoderSession.Open(
            Path.Combine(full, genai.Model.Decoder.Filename), config, preference, DecoderIoNames.FromConfig(genai.Model.Decoder), engineOptions.IntraOpThreads);
        string id = Path.GetFileName(Path.TrimEndingDirectorySeparator(full));
        try
        {
            return new LanguageModel(id, config, tokenizer, decoder, genai.Model.EosTokenId is { Length: > 0 } eos ? eos : [tokenizer.EosId], engineOptions, listener);
        }
        catch
        {
            decoder.Dispose();
            throw;
        }
    }

    /// <summary>Generates a continuation of <see cref="GenerationRequest.PromptTokens"/>, streaming text as it is decoded.</summary>
    public IAsyncEnumerable<GenerationUpdate> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default) =>
        _engine.GenerateAsync(request, cancellationToken);

    /// <inheritdoc />
    public void Dispose()
    {
        _engine.Dispose();
        _batch.Dispose();
        _decoder.Dispose();
    }
}
