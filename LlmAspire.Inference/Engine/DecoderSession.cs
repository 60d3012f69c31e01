using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using LlmAspire.Inference.Engine.Kernels;
using LlmAspire.Inference.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace LlmAspire.Inference.Engine;

/// <summary>
/// One ONNX Runtime session over a decoder graph with a KV cache. Owns the native session; thread-safe
/// (each <see cref="DecoderState"/> belongs to one caller). Reads what it needs from the graph itself:
/// whether it takes position ids, the KV cache's element type and head size, the logits' element type.
/// </summary>
internal sealed class DecoderSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly LlamaConfig _config;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly bool _hasPositionIds;
    private readonly int _pastOffset;
    private readonly TensorElementType _logitsType;

    private DecoderSession(InferenceSession session, LlamaConfig config, DecoderIoNames names, string executionProvider, string? fallbackReason)
    {
        _session = session;
        _config = config;
        ExecutionProvider = executionProvider;
        FallbackReason = fallbackReason;

        // Graphs with GroupQueryAttention derive positions from the mask; other decoders take them as an input.
        _hasPositionIds = session.InputMetadata.ContainsKey(names.PositionIds);
        var inputs = new List<string> { names.InputIds, names.AttentionMask };
        if (_hasPositionIds)
        {
            inputs.Add(names.PositionIds);
        }

        _pastOffset = inputs.Count;
        var outputs = new List<string> { names.Logits };
        for (int l = 0; l < config.Layers; l++)
        {
            inputs.Add(names.PastKeyOf(l));
            inputs.Add(names.PastValueOf(l));
            outputs.Add(names.PresentKeyOf(l));
            outputs.Add(names.PresentValueOf(l));
        }

        foreach (string input in inputs)
        {
            if (!session.InputMetadata.ContainsKey(input))
            {
                throw new InvalidDataException($"The decoder graph has no input '{input}' (genai_config.json names it).");
            }
        }

        foreach (string output in outputs)
        {
            if (!session.OutputMetadata.ContainsKey(output))
            {
                throw new InvalidDataException($"The decoder graph has no output '{output}' (genai_config.json names it).");
            }
        }

        string[] unfed = [.. session.InputMetadata.Keys.Where(name => !inputs.Contains(name, StringComparer.Ordinal))];
        if (unfed.Length > 0)
        {
            throw new InvalidDataException(
                $"The decoder graph takes inputs this engine does not feed: {string.Join(", ", unfed)} (it feeds {names.InputIds}, {names.AttentionMask}, {names.PositionIds} and the past key/values); export the decoder without them (e.g. not as a merged decoder with use_cache_branch).");
        }

        _inputNames = [.. inputs];
        _outputNames = [.. outputs];
        NodeMetadata past = session.InputMetadata[names.PastKeyOf(0)];
        KvElementType = past.ElementDataType;
        KvHeadSize = past.Dimensions[3] > 0 ? past.Dimensions[3] : config.AttentionHeadSize;
        KvHeads = past.Dimensions[1] > 0 ? past.Dimensions[1] : config.KvHeads;
        _logitsType = session.OutputMetadata[names.Logits].ElementDataType;
        if (_logitsType is not (TensorElementType.Float or TensorElementType.Float16 or TensorElementType.BFloat16))
        {
            throw new InvalidDataException($"Unsupported logits type {_logitsType}.");
        }
    }

    /// <summary>"cuda" or "cpu".</summary>
    public string ExecutionProvider { get; }

    /// <summary>Why <see cref="ExecutionProviderPreference.Auto"/> fell back to the CPU, else null.</summary>
    public string? FallbackReason { get; }

    /// <summary>The model shape.</summary>
    public LlamaConfig Config => _config;

    /// <summary>Element type of the KV cache (float32 or float16).</summary>
    public TensorElementType KvElementType { get; }

    /// <summary>Head size of the KV cache tensors (may be padded past the model's head size).</summary>
    public int KvHeadSize { get; }

    /// <summary>Heads of the KV cache tensors, as the graph declares them (a graph that repeats key/value heads before attention caches them all).</summary>
    public int KvHeads { get; }

    /// <summary>Whether the graph takes position ids.</summary>
    public bool TakesPositionIds => _hasPositionIds;

    /// <summary>ONNX Runtime's threads per operator, as chosen or given.</summary>
    public int IntraOpThreads { get; private init; }

    /// <summary>When idle workers spin; <see cref="SpinningMode.Brief"/> only where our packed MatMuls run (else <see cref="SpinningMode.Off"/>, what it means for ONNX Runtime's pool).</summary>
    public SpinningMode Spinning { get; private init; }

    /// <summary>The kernel that runs GroupQueryAttention: LlmAspire's only on the CPU provider with a float32 graph.</summary>
    public AttentionKernelChoice Attention { get; private init; }

    /// <summary>Why <see cref="AttentionKernelChoice.LlmAspire"/> was asked for but ONNX Runtime's kernel runs, else null.</summary>
    public string? AttentionFallbackReason { get; private init; }

    /// <summary>MatMul and MatMulNBits nodes run by <see cref="PackedMatMulKernel"/> and <see cref="PackedMatMulNBitsKernel"/> (their weights packed at load); 0 where MLAS runs them all.</summary>
    public int PackedMatMuls { get; private init; }

    /// <summary>Why the model could not be opened rewritten for our packed kernels (MLAS runs its MatMuls); else null.</summary>
    public string? PackedMatMulFallbackReason { get; private init; }

    /// <summary>SwiGLUs run by <see cref="SwiGluKernel"/>, fused at load in the graph rewritten for our packed MatMuls; 0 elsewhere.</summary>
    public int SwiGlus { get; private init; }

    /// <summary>The workers of our kernels in <see cref="SpinningMode.Brief"/> on the CPU with more than one thread, where our packed MatMuls run; else null.</summary>
    internal KernelThreadPool? KernelPool { get; private init; }

    /// <summary>Where the time of <see cref="ForwardBatch"/> goes (inside ONNX Runtime's Run, around it, between calls).</summary>
    internal DecoderTimings Timings { get; } = new();

    /// <summary>Opens <paramref name="modelPath"/> on the preferred execution provider.</summary>
    /// <param name="modelPath">The ONNX file.</param>
    /// <param name="config">The model shape.</param>
    /// <param name="preference">Execution provider.</param>
    /// <param name="names">Graph input/output names (GenAI's defaults when null).</param>
    /// <param name="intraOpThreads">
    /// Threads per operator on the CPU provider; 0 chooses: one for small models (below 20M parameters, where
    /// splitting each operator costs more than it saves), every core otherwise.
    /// </param>
    /// <param name="spinning">When idle intra-op workers spin (<see cref="EngineOptions.Spinning"/>).</param>
    /// <param name="profilePrefix">When set, ONNX Runtime's profiler records every operator to a file with this prefix (<see cref="EndProfiling"/>).</param>
    /// <param name="attention">The GroupQueryAttention kernel on the CPU provider (<see cref="AttentionKernelChoice"/>).</param>
    /// <param name="packWeights">
    /// With <see cref="AttentionKernelChoice.LlmAspire"/> on an AVX-512 CPU, run the float32 MatMuls by constant weights
    /// with <see cref="PackedMatMulKernel"/> (weights packed at load; outputs equal MLAS's); false leaves them to MLAS.
    /// </param>
    public static DecoderSession Open(string modelPath, LlamaConfig config, ExecutionProviderPreference preference, DecoderIoNames? names = null, int intraOpThreads = 0, SpinningMode spinning = SpinningMode.Off, string? profilePrefix = null, AttentionKernelChoice attention = AttentionKernelChoice.LlmAspire, bool packWeights = true)
    {
        ArgumentNullException.ThrowIfNull(config);
        names ??= DecoderIoNames.Default;
        int threads = intraOpThreads > 0 ? intraOpThreads
            : config.HiddenDim > 0 && config.ParameterCount < 20_000_000 ? 1
            : Environment.ProcessorCount;
        string? fallbackReason = null;
        if (preference != ExecutionProviderPreference.Cpu)
        {
            SessionOptions? cudaOptions = null;
            InferenceSession? session = null;
            try
            {
                cudaOptions = CreateOptions(threads, spinning, profilePrefix);
                cudaOptions.AppendExecutionProvider_CUDA(0);
                session = new InferenceSession(modelPath, cudaOptions);
                return new DecoderSession(session, config, names, "cuda", null) { IntraOpThreads = threads, Spinning = spinning == SpinningMode.Brief ? SpinningMode.Off : spinning, Attention = AttentionKernelChoice.OnnxRuntime };
            }
            catch (Exception ex) when (preference == ExecutionProviderPreference.Auto && ex is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
            {
                session?.Dispose();
                fallbackReason = ex.Message.Trim();
            }
            finally
            {
                cudaOptions?.Dispose();
            }
        }

        (InferenceSession cpu, AttentionKernelChoice kernel, string? attentionFallback, (int MatMuls, int SwiGlus, bool OursCarryAll) packedNodes, string? packFallback) = OpenCpu(modelPath, threads, spinning, profilePrefix, attention, packWeights);
        try
        {
            return new DecoderSession(cpu, config, names, "cpu", fallbackReason)
            {
                IntraOpThreads = threads,
                Spinning = spinning == SpinningMode.Brief && !BriefPool(threads, packedNodes) ? SpinningMode.Off : spinning,
                Attention = kernel,
                AttentionFallbackReason = attentionFallback,
                PackedMatMuls = packedNodes.MatMuls,
                SwiGlus = packedNodes.SwiGlus,
                PackedMatMulFallbackReason = packFallback,
                KernelPool = spinning == SpinningMode.Brief && BriefPool(threads, packedNodes)
                    ? new KernelThreadPool(threads - 1)
                    : null,
            };
        }
        catch
        {
            cpu.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Whether a Brief session gets its <see cref="KernelThreadPool"/>: where our packed MatMuls run, or where a small
    /// model's SwiGLUs were fused and no large MatMul is left (ONNX Runtime then runs on the calling thread alone, see
    /// <see cref="OpenPacked"/>). Not beside ONNX Runtime's own parallel MatMuls: a spinning worker of ours competed
    /// with its pool for the cores (stories260K, 2 threads, before the fusion: 7,211 tok/s in Brief vs 11,058 Off).
    /// </summary>
    private static bool BriefPool(int threads, (int MatMuls, int SwiGlus, bool OursCarryAll) packed) =>
        threads > 1 && (packed.MatMuls > 0 || (packed.SwiGlus > 0 && packed.OursCarryAll));

    /// <summary>A fresh, empty KV cache for one sequence.</summary>
    public DecoderState CreateState() => new(_config.Layers, KvHeads, KvHeadSize, KvElementType);

    /// <summary>
    /// Runs the decoder over <paramref name="tokens"/> appended to <paramref name="state"/> (prefill when the
    /// state is empty, one decode step for one token) and returns the logits of the last position, or of every
    /// new position ([tokens.Length, vocab], row-major) when <paramref name="allPositions"/> is set.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float[] Forward(DecoderState state, ReadOnlySpan<int> tokens, bool allPositions = false)
    {
        ArgumentNullException.ThrowIfNull(state);
        int s = tokens.Length;
        int past = state.Length;
        if (s == 0)
        {
            throw new ArgumentException("At least one token is needed.", nameof(tokens));
        }

        if (past + s > _config.ContextLength)
        {
            throw new ArgumentException($"{past + s} positions exceed the context length {_config.ContextLength}.", nameof(tokens));
        }

        long[] ids = new long[s];
        long[] positions = new long[s];
        for (int i = 0; i < s; i++)
        {
            ids[i] = tokens[i];
            positions[i] = past + i;
        }

        long[] mask = new long[past + s];
        Array.Fill(mask, 1L);

        var inputs = new OrtValue[_inputNames.Length];
        inputs[0] = OrtValue.CreateTensorValueFromMemory(ids, [1, s]);
        inputs[1] = OrtValue.CreateTensorValueFromMemory(mask, [1, past + s]);
        if (_hasPositionIds)
        {
            inputs[2] = OrtValue.CreateTensorValueFromMemory(positions, [1, s]);
        }

        state.CopyPastInto(inputs, _pastOffset);
        IDisposableReadOnlyCollection<OrtValue> outputs;
        try
        {
            using (EnterKernelPool())
            {
                outputs = _session.Run(_runOptions, _inputNames, inputs, _outputNames);
            }
        }
        finally
        {
            for (int i = 0; i < _pastOffset; i++)
            {
                inputs[i].Dispose();
            }
        }

        int vocab = _config.VocabSize;
        int start = allPositions ? 0 : (s - 1) * vocab;
        int count = allPositions ? s * vocab : vocab;
        float[] result = ReadLogits(outputs[0], start, count);
        state.Advance(outputs, s);
        return result;
    }

    /// <summary>Buffers for one caller's <see cref="ForwardBatch"/> passes (<see cref="ForwardBuffers"/>).</summary>
    internal ForwardBuffers CreateForwardBuffers() => new(_inputNames.Length, _outputNames.Length);

    /// <summary>
    /// Allocates the KV memory for continuous batching: <paramref name="slots"/> rows of <paramref name="context"/>
    /// positions, shared by past and present. Needs a graph whose attention writes in place (GroupQueryAttention).
    /// </summary>
    public KvCache CreateKvCache(int slots, int context)
    {
        if (_hasPositionIds)
        {
            throw new NotSupportedException("Continuous batching needs a decoder whose attention updates a shared KV buffer (GroupQueryAttention); this graph takes position ids.");
        }

        if (context > _config.ContextLength)
        {
            throw new ArgumentOutOfRangeException(nameof(context), context, $"The model's context is {_config.ContextLength}.");
        }

        return new KvCache(_config.Layers, slots, KvHeads, context, KvHeadSize, KvElementType);
    }

    /// <summary>
    /// Per-sequence KV memory: <paramref name="slots"/> rows of <paramref name="context"/> positions, from which each run's
    /// past tensors are gathered and into which its present tensors' new positions are written back.
    /// </summary>
    public KvCache CreateSequenceStore(int slots, int context)
    {
        if (context > _config.ContextLength)
        {
            throw new ArgumentOutOfRangeException(nameof(context), context, $"The model's context is {_config.ContextLength}.");
        }

        return new KvCache(_config.Layers, slots, KvHeads, context, KvHeadSize, KvElementType);
    }

    /// <summary>
    /// One run over <paramref name="rows"/> sequences given their own past tensors (<paramref name="past"/>, graph order,
    /// [rows, kvHeads, past, headSize] each): <paramref name="ids"/> and <paramref name="positions"/> are [rows, s],
    /// <paramref name="mask"/> is [rows, past + s]. Returns the logits of each row's last position, [rows, vocab], and
    /// the outputs (logits, then the present tensors in graph order), which the caller disposes.
    /// </summary>
    internal (float[] Logits, IDisposableReadOnlyCollection<OrtValue> Outputs) RunWithPast(long[] ids, long[] mask, long[] positions, int rows, int s, OrtValue[] past)
    {
        var inputs = new OrtValue[_inputNames.Length];
        IDisposableReadOnlyCollection<OrtValue> outputs;
        try
        {
            inputs[0] = OrtValue.CreateTensorValueFromMemory(ids, [rows, s]);
            inputs[1] = OrtValue.CreateTensorValueFromMemory(mask, [rows, mask.Length / rows]);
            if (_hasPositionIds)
            {
                inputs[2] = OrtValue.CreateTensorValueFromMemory(positions, [rows, s]);
            }

            Array.Copy(past, 0, inputs, _pastOffset, past.Length);
            using (EnterKernelPool())
            {
                outputs = _session.Run(_runOptions, _inputNames, inputs, _outputNames);
            }
        }
        finally
        {
            for (int i = 0; i < _pastOffset; i++)
            {
                inputs[i]?.Dispose();
            }
        }

        int vocab = _config.VocabSize;
        float[] logits = new float[rows * vocab];
        for (int r = 0; r < rows; r++)
        {
            ReadLogits(outputs[0], ((r * s) + s - 1) * vocab, vocab).CopyTo(logits, r * vocab);
        }

        return (logits, outputs);
    }

    /// <summary>
    /// One forward pass over rows [<paramref name="firstRow"/>, firstRow + lengths.Length) of <paramref name="cache"/>:
    /// each row appends <paramref name="tokensPerRow"/> tokens after its first <c>lengths[row]</c> positions.
    /// <paramref name="tokens"/> is [rows, tokensPerRow]. Returns the logits of each row's last new position, [rows, vocab],
    /// or of every new position, [rows, tokensPerRow, vocab], when <paramref name="allPositions"/> is set (to verify
    /// several proposed tokens in one pass). With <paramref name="counts"/> (not with <paramref name="allPositions"/>), row
    /// i's logits are those of its position counts[i] − 1 (its last real token; the rest of its tokens are padding).
    /// With <paramref name="buffers"/> (one per caller thread), the logits handed back are reused arrays, valid until the
    /// next call with the same buffers; without, they are new and the caller's to keep.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float[] ForwardBatch(
        KvCache cache, int firstRow, ReadOnlySpan<int> lengths, ReadOnlySpan<int> tokens, int tokensPerRow, bool allPositions = false, ReadOnlySpan<int> counts = default, ForwardBuffers? buffers = null)
    {
        ArgumentNullException.ThrowIfNull(cache);
        int rows = lengths.Length, s = tokensPerRow;
        if (rows == 0 || s < 1 || tokens.Length != rows * s)
        {
            throw new ArgumentException("tokens must hold tokensPerRow ids for each row.", nameof(tokens));
        }

        int total = 0;
        foreach (int length in lengths)
        {
            if (length < 0 || length + s > cache.Context)
            {
                throw new ArgumentOutOfRangeException(nameof(lengths), length, $"Row length {length} + {s} exceeds the cache context {cache.Context}.");
            }

            total = Math.Max(total, length + s);
        }

        // ids, mask and a prefill's full logits are rented, not allocated per step (a 256-token chunk's logits are
        // 256 x vocab floats); the logits handed back are the buffers' when there are buffers, else new (the caller keeps them).
        int vocab = _config.VocabSize;
        if (!counts.IsEmpty && (allPositions || counts.Length != rows))
        {
            throw new ArgumentException("counts, when given, holds one count per row and allPositions is false.", nameof(counts));
        }

        bool whole = (s == 1 && counts.IsEmpty) || allPositions;
        long[] ids = ArrayPool<long>.Shared.Rent(rows * s);
        long[] mask = ArrayPool<long>.Shared.Rent(rows * total);
        float[] logits = !whole ? ArrayPool<float>.Shared.Rent(rows * s * vocab) : buffers?.Logits(rows * s * vocab) ?? new float[rows * s * vocab];
        OrtValue[] inputs = buffers?.Inputs ?? new OrtValue[_inputNames.Length];
        OrtValue[] outputs = buffers?.Outputs ?? new OrtValue[_outputNames.Length];
        long start = Stopwatch.GetTimestamp(), runStart = 0, runEnd = 0;
        try
        {
            for (int i = 0; i < rows * s; i++)
            {
                ids[i] = tokens[i];
            }

            for (int r = 0; r < rows; r++)
            {
                Array.Fill(mask, 1L, r * total, lengths[r] + s);
                Array.Clear(mask, (r * total) + lengths[r] + s, total - lengths[r] - s);
            }

            OrtValue[] kv = cache.Views(firstRow, rows);
            inputs[0] = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, ids.AsMemory(0, rows * s), [rows, s]);
            inputs[1] = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, mask.AsMemory(0, rows * total), [rows, total]);
            outputs[0] = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, logits.AsMemory(0, rows * s * vocab), [rows, s, vocab]);
            for (int i = 0; i < kv.Length; i++)
            {
                inputs[_pastOffset + i] = kv[i];
                outputs[1 + i] = kv[i];
            }

            runStart = Stopwatch.GetTimestamp();
            using (EnterKernelPool())
            {
                _session.Run(_runOptions, _inputNames, inputs, _outputNames, outputs);
            }
            runEnd = Stopwatch.GetTimestamp();
        }
        finally
        {
            inputs[0]?.Dispose();
            inputs[1]?.Dispose();
            outputs[0]?.Dispose();
            inputs[0] = inputs[1] = outputs[0] = null!;
            ArrayPool<long>.Shared.Return(ids);
            ArrayPool<long>.Shared.Return(mask);
        }

        if (whole)
        {
            Timings.Add(start, runStart, runEnd, Stopwatch.GetTimestamp(), s == 1);
            return logits;
        }

        float[] last = buffers?.Logits(rows * vocab) ?? new float[rows * vocab];
        for (int r = 0; r < rows; r++)
        {
            int position = counts.IsEmpty ? s - 1 : Math.Clamp(counts[r], 1, s) - 1;
            Array.Copy(logits, ((r * s) + position) * vocab, last, r * vocab, vocab);
        }

        ArrayPool<float>.Shared.Return(logits);
        Timings.Add(start, runStart, runEnd, Stopwatch.GetTimestamp(), false);
        return last;
    }

    /// <summary>Stops ONNX Runtime's profiler (opened with a profile prefix) and returns the JSON file it wrote.</summary>
    internal string EndProfiling() => _session.EndProfiling();

    /// <inheritdoc />
    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
        KernelPool?.Dispose();
    }

    /// <summary>Makes <see cref="KernelPool"/> the calling thread's for one Run.</summary>
    private KernelThreadPool.Scope EnterKernelPool() => KernelPool?.Enter() ?? default;

    private float[] ReadLogits(OrtValue logits, int start, int count)
    {
        switch (_logitsType)
        {
            case TensorElementType.Float:
                return logits.GetTensorDataAsSpan<float>().Slice(start, count).ToArray();
            case TensorElementType.Float16:
            {
                ReadOnlySpan<Float16> half = logits.GetTensorDataAsSpan<Float16>().Slice(start, count);
                float[] result = new float[count];
                for (int i = 0; i < count; i++)
                {
                    result[i] = half[i].ToFloat();
                }

                return result;
            }

            default:
            {
                ReadOnlySpan<BFloat16> brain = logits.GetTensorDataAsSpan<BFloat16>().Slice(start, count);
                float[] result = new float[count];
                for (int i = 0; i < count; i++)
                {
                    result[i] = brain[i].ToFloat();
                }

                return result;
            }
        }
    }

    /// <summary>
    /// A CPU session, with LlmAspire's kernels registered when asked for — and then, on CPUs with AVX-512, the float32
    /// MatMuls by constant weights rewritten to <see cref="PackedMatMulKernel"/> (<see cref="PackedMatMulRewriter"/>; if
    /// that session fails, the graph as written with our kernels); a graph the kernels cannot take (not float32: its
    /// declared input types do not match, so the session refuses to load) is opened again as written, without them.
    /// </summary>
    private static (InferenceSession Session, AttentionKernelChoice Kernel, string? FallbackReason, (int MatMuls, int SwiGlus, bool OursCarryAll) Packed, string? PackFallbackReason) OpenCpu(string modelPath, int threads, SpinningMode spinning, string? profilePrefix, AttentionKernelChoice attention, bool packWeights)
    {
        string? reason = null;
        string? packReason = null;
        if (attention == AttentionKernelChoice.LlmAspire)
        {
            if (packWeights)
            {
                try
                {
                    if (OpenPacked(modelPath, threads, spinning, profilePrefix) is ({ } packedSession, int packedCount, int swiGlus, bool oursCarryAll))
                    {
                        return (packedSession, AttentionKernelChoice.LlmAspire, null, (packedCount, swiGlus, oursCarryAll), null);
                    }
                }
                catch (Exception ex) when (ex is OnnxRuntimeException or InvalidOperationException or NotSupportedException or TypeInitializationException or DllNotFoundException or EntryPointNotFoundException or InvalidDataException or Google.Protobuf.InvalidProtocolBufferException)
                {
                    // Our other kernels may still take the graph as written: the packed MatMul alone is given up.
                    packReason = (ex.InnerException ?? ex).Message.Trim();
                }
            }

            using SessionOptions ours = CreateOptions(threads, spinning, profilePrefix);
            try
            {
                LlmAspireKernels.Register(ours);
                return (new InferenceSession(modelPath, ours), AttentionKernelChoice.LlmAspire, null, (0, 0, false), packReason);
            }
            catch (Exception ex) when (ex is OnnxRuntimeException or InvalidOperationException or NotSupportedException or TypeInitializationException or DllNotFoundException or EntryPointNotFoundException)
            {
                reason = (ex.InnerException ?? ex).Message.Trim();
            }
        }

        using SessionOptions options = CreateOptions(threads, spinning, profilePrefix);
        return (new InferenceSession(modelPath, options), AttentionKernelChoice.OnnxRuntime, reason, (0, 0, false), packReason);
    }

    /// <summary>
    /// A session of the model rewritten for <see cref="PackedMatMulKernel"/> with our kernels — or, a small model whose
    /// MatMuls stay MLAS's, with only its SwiGLUs fused (<see cref="PackedMatMulRewriter.TryFuseSwiGlus"/>) — and how many
    /// MatMuls it packed and SwiGLUs it fused; null when nothing is rewritten
    /// (<see cref="PackedMatMulRewriter.TryRewrite(string, out PackedWeights?, long, double)"/>).
    /// </summary>
    private static (InferenceSession Session, int Packed, int SwiGlus, bool OursCarryAll)? OpenPacked(string modelPath, int threads, SpinningMode spinning, string? profilePrefix)
    {
        byte[]? rewritten = PackedMatMulRewriter.TryRewrite(modelPath, out PackedWeights? packed) ?? PackedMatMulRewriter.TryFuseSwiGlus(modelPath, out packed);
        if (rewritten is null)
        {
            return null;
        }

        using (packed)
        {
            // Brief: our kernels' parallel parts run on the session's KernelThreadPool; when they are all the large work
            // of a step, ONNX Runtime's few operators left (Split, Mul, Gather, Cast: microseconds at decode) run on the
            // calling thread, so no worker of ONNX Runtime's pool wakes to compete with ours for the cores.
            // A small model (stories260K) has no large work at all: its operators take microseconds, which parallelizing
            // on a pool that does not spin costs more than it saves (2 threads, 16 streams: 43k tok/s against 62k on one).
            int onnxRuntimeThreads = spinning == SpinningMode.Brief && packed!.LargeMatMulsLeft == 0 ? 1 : threads;
            using SessionOptions options = CreateOptions(onnxRuntimeThreads, spinning, profilePrefix);
            LlmAspireKernels.Register(options);

            // The model as parsed held every weight once more, now garbage: give that memory back before ONNX Runtime
            // copies the packed weights as it loads the graph (ours go when the session is open). Nothing to give back
            // where nothing was packed (a small model with only its SwiGLUs fused).
            if (packed!.Count > 0)
            {
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            }

            packed!.AddTo(options);
            return (new InferenceSession(rewritten, options), packed.Count, packed.SwiGlus, packed.LargeMatMulsLeft == 0);
        }
    }

    private static SessionOptions CreateOptions(int intraOpThreads, SpinningMode spinning, string? profilePrefix)
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
            IntraOpNumThreads = intraOpThreads,
        };

        // See SpinningMode: force_spinning_stop parks the spinning workers the moment the last concurrent Run returns.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", spinning is SpinningMode.Off or SpinningMode.Brief ? "0" : "1");
        options.AddSessionConfigEntry("session.force_spinning_stop", spinning == SpinningMode.WithinRun ? "1" : "0");
        if (profilePrefix is not null)
        {
            // The prefix first: turning profiling on hands ONNX Runtime the prefix set at that moment.
            options.ProfileOutputPathPrefix = profilePrefix;
            options.EnableProfiling = true;
        }

        return options;
    }
}
