using LlmAspire.Inference.Models;
using Microsoft.ML.OnnxRuntime;

namespace LlmAspire.Inference.Engine;

/// <summary>
/// One ONNX Runtime session over a decoder graph with a KV cache. Owns the native session; thread-safe
/// (each <see cref="DecoderState"/> belongs to one caller).
/// </summary>
public sealed class DecoderSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly LlamaConfig _config;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly bool _hasPositionIds;
    private readonly int _pastOffset;

    private DecoderSession(InferenceSession session, LlamaConfig config, string executionProvider, string? fallbackReason)
    {
        _session = session;
        _config = config;
        ExecutionProvider = executionProvider;
        FallbackReason = fallbackReason;
        // Graphs with GroupQueryAttention derive positions from the mask; other decoders take them as an input.
        _hasPositionIds = session.InputMetadata.ContainsKey(LlamaOnnxBuilder.PositionIds);
        var inputs = new List<string> { LlamaOnnxBuilder.InputIds, LlamaOnnxBuilder.AttentionMask };
        if (_hasPositionIds)
        {
            inputs.Add(LlamaOnnxBuilder.PositionIds);
        }

        _pastOffset = inputs.Count;
        var outputs = new List<string> { LlamaOnnxBuilder.Logits };
        for (int l = 0; l < config.Layers; l++)
        {
            inputs.Add(LlamaOnnxBuilder.PastKey(l));
            inputs.Add(LlamaOnnxBuilder.PastValue(l));
            outputs.Add(LlamaOnnxBuilder.PresentKey(l));
            outputs.Add(LlamaOnnxBuilder.PresentValue(l));
        }

        _inputNames = [.. inputs];
        _outputNames = [.. outputs];
    }

    /// <summary>"cuda" or "cpu".</summary>
    public string ExecutionProvider { get; }

    /// <summary>Why <see cref="ExecutionProviderPreference.Auto"/> fell back to the CPU, else null.</summary>
    public string? FallbackReason { get; }

    /// <summary>The model shape.</summary>
    public LlamaConfig Config => _config;

    /// <summary>Opens <paramref name="modelPath"/> on the preferred execution provider.</summary>
    public static DecoderSession Open(string modelPath, LlamaConfig config, ExecutionProviderPreference preference)
    {
        ArgumentNullException.ThrowIfNull(config);
        string? fallbackReason = null;
        if (preference != ExecutionProviderPreference.Cpu)
        {
            SessionOptions? cudaOptions = null;
            try
            {
                cudaOptions = CreateOptions();
                cudaOptions.AppendExecutionProvider_CUDA(0);
                var session = new InferenceSession(modelPath, cudaOptions);
                return new DecoderSession(session, config, "cuda", null);
            }
            catch (Exception ex) when (preference == ExecutionProviderPreference.Auto && ex is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
            {
                fallbackReason = ex.Message.Trim();
            }
            finally
            {
                cudaOptions?.Dispose();
            }
        }

        using SessionOptions options = CreateOptions();
        return new DecoderSession(new InferenceSession(modelPath, options), config, "cpu", fallbackReason);
    }

    /// <summary>A fresh, empty KV cache for one sequence.</summary>
    public DecoderState CreateState() => new(_config);

    /// <summary>
    /// Runs the decoder over <paramref name="tokens"/> appended to <paramref name="state"/> (prefill when the
    /// state is empty, one decode step for one token) and returns the logits of every new position,
    /// [tokens.Length, vocab], row-major.
    /// </summary>
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
            outputs = _session.Run(_runOptions, _inputNames, inputs, _outputNames);
        }
        finally
        {
            for (int i = 0; i < _pastOffset; i++)
            {
                inputs[i].Dispose();
            }
        }

        int vocab = _config.VocabSize;
        ReadOnlySpan<float> logits = outputs[0].GetTensorDataAsSpan<float>();
        float[] result = allPositions ? logits.ToArray() : logits.Slice((s - 1) * vocab, vocab).ToArray();
        state.Advance(outputs, s);
        return result;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }

    private static SessionOptions CreateOptions() => new()
    {
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
    };
}
