using System.Threading.Channels;
using LlmAspire.Inference.Constraints;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Engine.Simulation;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Tokenization;

namespace LlmAspire.Inference;

/// <summary>
/// A model folder loaded on ONNX Runtime (or a simulated one, <see cref="CreateSimulated(SimulatedEngineOptions, EngineOptions?, IEngineListener?)"/>) and served by its continuous-batching engine: the one surface a host needs —
/// submit a generation, the context it fits in, the tokenizer and chat renderer, the engine's load, and a drain
/// that is awaited. The engine and the decoder session behind it are internal (tests and benchmarks see them).
/// Thread-safe; many generations run at once.
/// </summary>
public sealed class LanguageModel : IDisposable
{
    private readonly DecoderSession? _decoder;
    private readonly IBatchModel _batch;
    private readonly InferenceEngine _engine;

    private LanguageModel(string id, LlamaConfig config, ITokenizer tokenizer, DecoderSession? decoder, AttentionPlan attention, int[] endTokens, IBatchModel batch, long kvCacheBytes, EngineOptions options, IEngineListener? listener)
    {
        Attention = attention;
        Id = id;
        EndTokenIds = endTokens;
        Config = config;
        Tokenizer = tokenizer;
        Chat = ChatRenderer.For(tokenizer);
        Grammars = new GrammarCache(TokenVocabulary.For(tokenizer, [.. endTokens, .. Chat.StopTokenIds]));
        _decoder = decoder;
        (_batch, KvCacheBytes) = (batch, kvCacheBytes);
        try
        {
            _engine = new InferenceEngine(_batch, tokenizer, endTokens, options, listener);
        }
        catch
        {
            (_batch as IDisposable)?.Dispose();
            throw;
        }
    }

    /// <summary>The <see cref="ExecutionProvider"/> of a simulated model.</summary>
    public const string SimulatedProvider = "simulated";

    /// <summary>The model id served by the OpenAI API: the folder name (a simulated model's configured id).</summary>
    public string Id { get; }

    /// <summary>Architecture and the model's own context length.</summary>
    public LlamaConfig Config { get; }

    /// <summary>Positions per sequence the engine serves (prompt plus completion), at most the model's context length.</summary>
    public int ContextLength => _engine.Context;

    /// <summary>Number of token ids the model scores.</summary>
    public int VocabularySize => Config.VocabSize;

    /// <summary>The main end-of-sequence id.</summary>
    public int EosId => EndTokenIds[0];

    /// <summary>The ids that end a generation (genai_config.json's <c>eos_token_id</c>, else the tokenizer's EOS).</summary>
    public IReadOnlyList<int> EndTokenIds { get; }

    /// <summary>The model's tokenizer.</summary>
    public ITokenizer Tokenizer { get; }

    /// <summary>How the model chats: its template, end-of-turn tokens and stop strings, or why it cannot.</summary>
    public ChatRenderer Chat { get; }

    /// <summary>
    /// Compiled output grammars (JSON Schema, regex, choice, GBNF) for this model's vocabulary, cached by constraint;
    /// put one on <see cref="GenerationRequest.Grammar"/> to constrain a generation.
    /// </summary>
    public GrammarCache Grammars { get; }

    /// <summary>"cuda" or "cpu": the provider the session runs on; "simulated" for <see cref="CreateSimulated"/>.</summary>
    public string ExecutionProvider => _decoder?.ExecutionProvider ?? SimulatedProvider;

    /// <summary>Why CUDA was not used when <see cref="ExecutionProviderPreference.Auto"/> fell back; else null.</summary>
    public string? FallbackReason => _decoder?.FallbackReason;

    /// <summary>The kernel that runs attention (<see cref="AttentionKernelChoice"/>); ONNX Runtime's on CUDA and for a simulated model.</summary>
    public AttentionKernelChoice AttentionKernel => _decoder?.Attention ?? AttentionKernelChoice.OnnxRuntime;

    /// <summary>Why LlmAspire's attention kernel was asked for but ONNX Runtime's runs; else null.</summary>
    public string? AttentionKernelFallbackReason => _decoder?.AttentionFallbackReason;

    /// <summary>Weight MatMuls run by LlmAspire's packed kernels (float32 MatMul, 8-bit MatMulNBits; weights packed at load); 0 where MLAS runs them all.</summary>
    public int PackedMatMuls => _decoder?.PackedMatMuls ?? 0;

    /// <summary>Why the packed kernels were tried but MLAS runs the MatMuls; else null.</summary>
    public string? PackedMatMulFallbackReason => _decoder?.PackedMatMulFallbackReason;

    /// <summary>Bytes of KV memory allocated up front for the engine.</summary>
    public long KvCacheBytes { get; }

    /// <summary>How the engine keeps the KV cache for this decoder (shared buffer or per sequence), and why; for a simulated model, a placeholder saying so.</summary>
    public AttentionPlan Attention { get; }

    /// <summary>Requests holding KV rows now.</summary>
    public int Running => _engine.Running;

    /// <summary>Requests waiting for a KV row.</summary>
    public int Waiting => _engine.Waiting;

    /// <summary>The decoder session, for step-level use (tests, benchmarks); a simulated model has none.</summary>
    internal DecoderSession Decoder => _decoder ?? throw new InvalidOperationException($"The simulated model {Id} has no decoder session.");

    /// <summary>The batch model under the engine (the simulated one's counters, for tests).</summary>
    internal IBatchModel BatchModel => _batch;

    /// <summary>The continuous-batching engine behind <see cref="Submit"/>.</summary>
    internal InferenceEngine Engine => _engine;

    /// <summary>
    /// Loads a model folder written by <see cref="ModelFolder"/> (or ONNX Runtime GenAI's model builder, or an Optimum /
    /// onnx-community export: see <see cref="OnnxExportFolder"/>) and starts its engine with KV memory for
    /// <see cref="EngineOptions.MaxSequences"/> sequences, on the attention path the graph calls for (<see cref="Attention"/>).
    /// </summary>
    public static LanguageModel Load(string folder, ExecutionProviderPreference preference = ExecutionProviderPreference.Auto, EngineOptions? engineOptions = null, IEngineListener? listener = null) =>
        Load(folder, preference, engineOptions, listener, profilePrefix: null);

    /// <summary>
    /// <see cref="Load(string, ExecutionProviderPreference, EngineOptions?, IEngineListener?)"/> with ONNX Runtime's
    /// profiler recording every operator to a file starting with <paramref name="profilePrefix"/> (benchmarks).
    /// </summary>
    internal static LanguageModel Load(string folder, ExecutionProviderPreference preference, EngineOptions? engineOptions, IEngineListener? listener, string? profilePrefix)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        string full = Path.GetFullPath(folder);
        (LlamaConfig config, GenAiConfig genai) = ModelFolder.ReadConfig(full);
        ITokenizer tokenizer = ModelFolder.ReadTokenizer(full, genai);
        engineOptions ??= new EngineOptions();
        string graph = Path.Combine(full, genai.Model.Decoder.Filename);
        AttentionPlan attention = AttentionPlan.Detect(DecoderGraphSummary.Read(graph), genai.Model.Decoder.Inputs);
        var decoder = DecoderSession.Open(graph, config, preference, DecoderIoNames.FromConfig(genai.Model.Decoder), engineOptions.IntraOpThreads, engineOptions.Spinning, profilePrefix, engineOptions.Attention, engineOptions.RewriteGraph);
        string id = Path.GetFileName(Path.TrimEndingDirectorySeparator(full));
        try
        {
            int context = engineOptions.MaxContext > 0 ? Math.Min(engineOptions.MaxContext, config.ContextLength) : config.ContextLength;
            (IBatchModel batch, long kvBytes) = attention.Path == AttentionPath.SharedBuffer
                ? Shared(new OnnxBatchModel(decoder, engineOptions.MaxSequences, context))
                : PerSequence(new PerSequenceBatchModel(decoder, engineOptions.MaxSequences, context, attention.Padded));
            return new LanguageModel(id, config, tokenizer, decoder, attention, genai.Model.EosTokenId is { Length: > 0 } eos ? eos : [tokenizer.EosId], batch, kvBytes, engineOptions, listener);
        }
        catch
        {
            decoder.Dispose();
            throw;
        }

        static (IBatchModel, long) Shared(OnnxBatchModel model) => (model, model.KvBytes);

        static (IBatchModel, long) PerSequence(PerSequenceBatchModel model) => (model, model.KvBytes);
    }

    /// <summary>
    /// A model server without a model: the real engine (queue, continuous batching, prefix cache, sampler) over
    /// <see cref="SimulatedBatchModel"/>, whose passes sleep for <paramref name="simulated"/>'s latency model of a GPU
    /// server and emit text in the built-in demo vocabulary. Nothing is loaded and no KV memory is allocated, so it
    /// starts in milliseconds. <paramref name="engineOptions"/> gives the queue length and sampling-related settings;
    /// rows, context and prompt chunking come from <paramref name="simulated"/>, and speculation is off.
    /// </summary>
    public static LanguageModel CreateSimulated(SimulatedEngineOptions simulated, EngineOptions? engineOptions = null, IEngineListener? listener = null) =>
        CreateSimulated(simulated, engineOptions, listener, pacer: null);

    /// <summary><see cref="CreateSimulated(SimulatedEngineOptions, EngineOptions?, IEngineListener?)"/> with a given pacer (tests).</summary>
    internal static LanguageModel CreateSimulated(SimulatedEngineOptions simulated, EngineOptions? engineOptions, IEngineListener? listener, StepPacer? pacer)
    {
        ArgumentNullException.ThrowIfNull(simulated);
        if (simulated.Validate() is { } invalid)
        {
            throw new ArgumentException(invalid, nameof(simulated));
        }

        SentencePieceBpeTokenizer tokenizer = BuiltInModels.DemoVocabulary();
        LlamaConfig config = BuiltInModels.DemoConfig with { ContextLength = simulated.ContextLength };
        var model = new SimulatedBatchModel(simulated, tokenizer, config.VocabSize, pacer);
        EngineOptions options = (engineOptions ?? new EngineOptions()) with
        {
            MaxSequences = simulated.MaxSequences,
            MaxContext = simulated.ContextLength,
            PrefillChunkTokens = simulated.PrefillChunkTokens,
            Speculative = new(),
        };
        var attention = new AttentionPlan(AttentionPath.PerSequence, false, "none (simulated)", "The simulated engine computes no attention and holds no KV memory; its passes sleep for a latency model.");
        return new LanguageModel(simulated.ModelId, config, tokenizer, null, attention, [tokenizer.EosId], model, 0, options, listener);
    }

    /// <summary>
    /// Queues a generation and returns its updates as they come (choices interleaved, each ending with a finish reason).
    /// Throws at once, before anything runs, when it cannot be served: <see cref="ContextLengthExceededException"/>,
    /// <see cref="EngineQueueFullException"/>, or <see cref="EngineStoppedException"/> once draining began.
    /// Cancelling <paramref name="cancellationToken"/> frees the request's KV rows within one engine step.
    /// </summary>
    public ChannelReader<GenerationUpdate> Submit(GenerationRequest request, CancellationToken cancellationToken = default) =>
        _engine.Submit(request, cancellationToken);

    /// <summary>Generates a continuation of <see cref="GenerationRequest.PromptTokens"/>, streaming text as it is decoded.</summary>
    public IAsyncEnumerable<GenerationUpdate> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default) =>
        _engine.GenerateAsync(request, cancellationToken);

    /// <summary>
    /// Stops taking requests and waits until every request already submitted has ended, at most
    /// <paramref name="timeout"/>; true when all ended in time.
    /// </summary>
    public async Task<bool> DrainAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        try
        {
            await _engine.DrainAsync().WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _engine.Dispose();
        (_batch as IDisposable)?.Dispose();
        _decoder?.Dispose();
    }
}
