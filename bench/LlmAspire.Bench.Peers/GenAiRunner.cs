using System.Diagnostics;
using System.Globalization;
using GenAi = Microsoft.ML.OnnxRuntimeGenAI;

namespace LlmAspire.Bench.Peers;

/// <summary>
/// ONNX Runtime GenAI on our own model folder (it reads our genai_config.json), its intra-op threads overlaid on the
/// config: one generator per run, with <c>batch_size</c> = the stream count (a static batch: every stream has the same
/// prompt and length), greedy (<c>do_sample</c> false); <c>min_length</c> = <c>max_length</c> masks the end token
/// so every stream decodes exactly the asked count. A prefill is one <c>AppendTokens</c> of the whole prompt.
/// </summary>
internal sealed class GenAiRunner : IPeerRunner
{
    private readonly GenAi.Config _config;
    private readonly GenAi.Model _model;
    private readonly Workload _workload;
    private readonly RunSettings _settings;
    private int[] _lastTokens = [];

    public GenAiRunner(PeerModel model, Workload workload, RunSettings settings)
    {
        _workload = workload;
        _settings = settings;
        _config = new GenAi.Config(model.Folder);
        string threads = settings.Threads.ToString(CultureInfo.InvariantCulture);
        _config.Overlay("""{"model":{"decoder":{"session_options":{"intra_op_num_threads":""" + threads + "}}}}");
        _model = new GenAi.Model(_config);
    }

    public IReadOnlyList<int> LastTokens => _lastTokens;

    public Task<double> MeasureAsync(CancellationToken cancellationToken)
    {
        if (_workload.Prefill)
        {
            int[] prompt = _settings.PrefillPrompt;
            using var prefillParameters = new GenAi.GeneratorParams(_model);
            prefillParameters.SetSearchOption("max_length", prompt.Length + 1);
            prefillParameters.SetSearchOption("do_sample", false);
            using var prefillGenerator = new GenAi.Generator(_model, prefillParameters);
            var prefill = Stopwatch.StartNew();
            prefillGenerator.AppendTokens(prompt);
            return Task.FromResult(prompt.Length / prefill.Elapsed.TotalSeconds);
        }

        int streams = _workload.Streams, length = _settings.Prompt.Length, total = length + _settings.Tokens;
        using var parameters = new GenAi.GeneratorParams(_model);
        parameters.SetSearchOption("max_length", total);
        parameters.SetSearchOption("min_length", total);
        parameters.SetSearchOption("do_sample", false);
        parameters.SetSearchOption("batch_size", streams);
        using var generator = new GenAi.Generator(_model, parameters);
        int[] prompts = [.. Enumerable.Repeat(_settings.Prompt, streams).SelectMany(p => p)];
        var stopwatch = Stopwatch.StartNew();
        generator.AppendTokens(prompts);
        while (!generator.IsDone())
        {
            cancellationToken.ThrowIfCancellationRequested();
            generator.GenerateNextToken();
        }

        double seconds = stopwatch.Elapsed.TotalSeconds;
        int[][] outputs = [.. Enumerable.Range(0, streams).Select(s => generator.GetSequence((ulong)s).ToArray()[length..])];
        Counts.Check("ORT GenAI", outputs.Select(o => o.Length), _settings.Tokens);
        _lastTokens = outputs[0];
        return Task.FromResult(streams * _settings.Tokens / seconds);
    }

    public void Dispose()
    {
        _model.Dispose();
        _config.Dispose();
    }
}
