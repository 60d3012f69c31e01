using System.Runtime.CompilerServices;
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

    private LanguageModel(string id, LlamaConfig config, ITokenizer tokenizer, DecoderSession decoder, int eosId)
    {
        Id = id;
        EosId = eosId;
        Config = config;
        Tokenizer = tokenizer;
        _decoder = decoder;
    }

    /// <summary>The model id served by the OpenAI API: the folder name.</summary>
    public string Id { get; }

    /// <summary>Architecture and context length.</summary>
    public LlamaConfig Config { get; }

    /// <summary>The id that ends a generation (genai_config.json's <c>eos_token_id</c>).</summary>
    public int EosId { get; }

    /// <summary>The model's tokenizer.</summary>
    public ITokenizer Tokenizer { get; }

    /// <summary>"cuda" or "cpu": the provider the session runs on.</summary>
    public string ExecutionProvider => _decoder.ExecutionProvider;

    /// <summary>Why CUDA was not used when <see cref="ExecutionProviderPreference.Auto"/> fell back; else null.</summary>
    public string? FallbackReason => _decoder.FallbackReason;

    /// <summary>The decoder session, for step-level use (tests, benchmarks).</summary>
    public DecoderSession Decoder => _decoder;

    /// <summary>Loads a model folder written by <see cref="ModelFolder"/>.</summary>
    public static LanguageModel Load(string folder, ExecutionProviderPreference preference = ExecutionProviderPreference.Auto)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        string full = Path.GetFullPath(folder);
        (LlamaConfig config, GenAiConfig genai) = ModelFolder.ReadConfig(full);
        ITokenizer tokenizer = ModelFolder.ReadTokenizer(full, genai);
        var decoder = DecoderSession.Open(
            Path.Combine(full, genai.Model.Decoder.Filename), config, preference, DecoderIoNames.FromConfig(genai.Model.Decoder));
        string id = Path.GetFileName(Path.TrimEndingDirectorySeparator(full));
        return new LanguageModel(id, config, tokenizer, decoder, genai.Model.EosTokenId);
    }

    /// <summary>Generates a continuation of <see cref="GenerationRequest.PromptTokens"/>, streaming text as it is decoded.</summary>
    public async IAsyncEnumerable<GenerationUpdate> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        int promptLength = request.PromptTokens.Count;
        if (promptLength == 0)
        {
            throw new ArgumentException("The prompt has no tokens.", nameof(request));
        }

        if (promptLength >= Config.ContextLength)
        {
            throw new ArgumentException($"The prompt has {promptLength} tokens; the context holds {Config.ContextLength}.", nameof(request));
        }

        if (request.MaxTokens < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(request), request.MaxTokens, "MaxTokens must be at least 1.");
        }

        var sampler = new Sampler(request.Temperature, request.TopP, request.Seed);
        var detokenizer = new StreamingDetokenizer(Tokenizer);
        var stops = new StopSequenceMatcher(request.Stop);
        int budget = Math.Min(request.MaxTokens, Config.ContextLength - promptLength);
        using DecoderState state = _decoder.CreateState();

        int[] step = [.. request.PromptTokens];
        int generated = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            float[] logits = _decoder.Forward(state, step);
            int token = sampler.Sample(logits);
            if (token == EosId)
            {
                yield return new GenerationUpdate(stops.Push(detokenizer.Flush()) + stops.Flush(), generated, FinishReason.Stop);
                yield break;
            }

            generated++;
            string text = stops.Push(detokenizer.Push(token));
            if (stops.Stopped)
            {
                yield return new GenerationUpdate(text, generated, FinishReason.Stop);
                yield break;
            }

            if (generated >= budget)
            {
                text += stops.Push(detokenizer.Flush());
                yield return new GenerationUpdate(text + stops.Flush(), generated, stops.Stopped ? FinishReason.Stop : FinishReason.Length);
                yield break;
            }

            if (text.Length > 0)
            {
                yield return new GenerationUpdate(text, generated, null);
            }

            step = [token];
            await Task.Yield();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _decoder.Dispose();
}
