using System.Diagnostics;
using LlmAspire.Inference;
using LlmAspire.Inference.Engine;

namespace LlmAspire.Bench.Peers;

/// <summary>
/// Our engine as the server runs it: every stream a request to <see cref="LanguageModel.GenerateAsync"/> at once,
/// greedy, the end tokens biased away so each decodes exactly the asked count (as <c>bench engine</c> drives it).
/// A prefill is one forward pass of the decoder over the prompt in a fresh state (no prefix cache).
/// </summary>
internal sealed class OursRunner : IPeerRunner
{
    private readonly LanguageModel _model;
    private readonly Workload _workload;
    private readonly RunSettings _settings;
    private readonly Dictionary<int, float> _noEnd;
    private int[] _lastTokens = [];

    /// <summary>Loads our engine for the row; <paramref name="spinning"/> null is the engine's default (<see cref="EngineOptions.Spinning"/>), what a model server runs.</summary>
    public OursRunner(PeerModel model, Workload workload, RunSettings settings, SpinningMode? spinning = null)
    {
        _workload = workload;
        _settings = settings;
        int streams = Math.Max(1, workload.Streams);
        var options = new EngineOptions
        {
            MaxSequences = streams,
            MaxQueue = streams,
            IntraOpThreads = settings.Threads,
        };
        _model = LanguageModel.Load(model.Folder, ExecutionProviderPreference.Cpu, spinning is { } mode ? options with { Spinning = mode } : options);
        _noEnd = _model.EndTokenIds.Distinct().ToDictionary(id => id, _ => -1e9f);
    }

    public IReadOnlyList<int> LastTokens => _lastTokens;

    public async Task<double> MeasureAsync(CancellationToken cancellationToken)
    {
        if (_workload.Prefill)
        {
            using DecoderState state = _model.Decoder.CreateState();
            var prefill = Stopwatch.StartNew();
            _model.Decoder.Forward(state, _settings.PrefillPrompt);
            return _settings.PrefillPrompt.Length / prefill.Elapsed.TotalSeconds;
        }

        var stopwatch = Stopwatch.StartNew();
        IReadOnlyList<int>[] outputs = await Task.WhenAll(Enumerable.Range(0, _workload.Streams).Select(async _ =>
        {
            IReadOnlyList<int> tokens = [];
            var request = new GenerationRequest(_settings.Prompt, _settings.Tokens, Temperature: 0) { LogitBias = _noEnd, FinalOnly = true };
            await foreach (GenerationUpdate update in _model.GenerateAsync(request, cancellationToken))
            {
                tokens = update.TokenIds ?? tokens; // every id, on the last update
            }

            return tokens;
        }));
        double seconds = stopwatch.Elapsed.TotalSeconds;
        Counts.Check("LlmAspire", outputs.Select(o => o.Count), _settings.Tokens);
        _lastTokens = [.. outputs[0]];
        return outputs.Sum(o => o.Count) / seconds;
    }

    public void Dispose() => _model.Dispose();
}
