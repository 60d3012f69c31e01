using System.Diagnostics;
using System.Globalization;
using LLama;
using LLama.Common;
using LLama.Native;
using LlmAspire.Inference.Engine;

namespace LlmAspire.Bench.Peers;

/// <summary>
/// llama.cpp through LLamaSharp's CPU backend, driven as its own <c>parallel</c> example does: one context whose KV
/// cache holds every stream as a sequence, one <see cref="LLamaBatch"/> per step carrying each stream's token under its
/// sequence id. Greedy is the argmax of each stream's logits (no sampler chain), and llama.cpp never stops on its
/// own, so every stream decodes exactly the asked count. A prefill is one decode of the whole prompt (llama-bench's
/// pp). Each run gets a fresh context, made before the clock starts.
/// </summary>
internal sealed class LlamaCppRunner : IPeerRunner
{
    private readonly LLamaWeights _weights;
    private readonly ModelParams _parameters;
    private readonly Workload _workload;
    private readonly RunSettings _settings;
    private int[] _lastTokens = [];

    static LlamaCppRunner()
    {
        // llama.cpp's load log would drown the table; set before the native library loads.
        NativeLibraryConfig.All.WithLogCallback((_, _) => { });
    }

    public LlamaCppRunner(PeerModel model, Workload workload, RunSettings settings)
    {
        _workload = workload;
        _settings = settings;
        int streams = workload.Prefill ? 1 : workload.Streams;
        int perStream = workload.Prefill ? settings.PrefillPrompt.Length + 1 : settings.Prompt.Length + settings.Tokens;
        int batch = Math.Max(workload.Prefill ? settings.PrefillPrompt.Length : streams * settings.Prompt.Length, streams);
        _parameters = new ModelParams(model.Gguf)
        {
            // llama.cpp splits the context evenly between the sequences.
            ContextSize = (uint)(streams * RoundUp(perStream, 256)),
            SeqMax = (uint)streams,
            BatchSize = (uint)batch,
            UBatchSize = (uint)batch,
            Threads = settings.Threads,
            BatchThreads = settings.Threads,
            GpuLayerCount = 0,
        };
        _weights = LLamaWeights.LoadFromFile(_parameters);
    }

    public IReadOnlyList<int> LastTokens => _lastTokens;

    public Task<double> MeasureAsync(CancellationToken cancellationToken)
    {
        using LLamaContext context = _weights.CreateContext(_parameters);
        var batch = new LLamaBatch();
        if (_workload.Prefill)
        {
            int[] prompt = _settings.PrefillPrompt;
            for (int i = 0; i < prompt.Length; i++)
            {
                batch.Add(prompt[i], i, LLamaSeqId.Zero, i == prompt.Length - 1);
            }

            var prefill = Stopwatch.StartNew();
            Decode(context, batch);
            return Task.FromResult(prompt.Length / prefill.Elapsed.TotalSeconds);
        }

        int streams = _workload.Streams, length = _settings.Prompt.Length;
        var outputs = Enumerable.Range(0, streams).Select(_ => new List<int>(_settings.Tokens)).ToArray();
        int[] rows = new int[streams];
        var stopwatch = Stopwatch.StartNew();
        for (int s = 0; s < streams; s++)
        {
            for (int i = 0; i < length; i++)
            {
                int row = batch.Add(_settings.Prompt[i], i, (LLamaSeqId)s, i == length - 1);
                if (i == length - 1)
                {
                    rows[s] = row;
                }
            }
        }

        Decode(context, batch);
        for (int step = 0; ; step++)
        {
            for (int s = 0; s < streams; s++)
            {
                outputs[s].Add(Sampler.ArgMax(context.NativeHandle.GetLogitsIth(rows[s])));
            }

            if (step == _settings.Tokens - 1)
            {
                break;
            }

            cancellationToken.ThrowIfCancellationRequested();
            batch.Clear();
            for (int s = 0; s < streams; s++)
            {
                rows[s] = batch.Add(outputs[s][^1], length + step, (LLamaSeqId)s, true);
            }

            Decode(context, batch);
        }

        double seconds = stopwatch.Elapsed.TotalSeconds;
        Counts.Check("llama.cpp", outputs.Select(o => o.Count), _settings.Tokens);
        _lastTokens = [.. outputs[0]];
        return Task.FromResult(streams * _settings.Tokens / seconds);
    }

    public void Dispose() => _weights.Dispose();

    private static int RoundUp(int n, int multiple) => (n + multiple - 1) / multiple * multiple;

    private static void Decode(LLamaContext context, LLamaBatch batch)
    {
        DecodeResult result = context.Decode(batch);
        if (result != DecodeResult.Ok)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"llama_decode returned {result}."));
        }
    }
}
