using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using GenAi = Microsoft.ML.OnnxRuntimeGenAI;

namespace LlmAspire.Bench.Peers;

/// <summary>
/// ONNX Runtime GenAI on our own model folder (it reads our genai_config.json), its intra-op threads overlaid on the
/// config: one generator per run, with <c>batch_size</c> = the stream count (a static batch: every stream has the same
/// prompt and length), greedy (<c>do_sample</c> false); <c>min_length</c> = <c>max_length</c> masks the end token
/// so every stream decodes exactly the asked count. A prefill is one <c>AppendTokens</c> of the whole prompt.
/// Per-stream (<see cref="PerStream"/>): what a naive server on GenAI does with concurrent requests, which its
/// examples never batch: one <c>batch_size</c> 1 generator per stream on the shared model, each stepped to the end on
/// a thread of its own (one request per handler thread); the generators are made before the clock starts, as the
/// static batch's is.
/// </summary>
internal sealed class GenAiRunner : IPeerRunner
{
    private readonly GenAi.Config _config;
    private readonly GenAi.Model _model;
    private readonly Workload _workload;
    private readonly RunSettings _settings;
    private int[] _lastTokens = [];

    /// <param name="model">The model folder.</param>
    /// <param name="workload">What to run.</param>
    /// <param name="settings">Threads, tokens and prompts.</param>
    /// <param name="perStream">One generator per stream instead of one static batch.</param>
    /// <param name="profilePrefix">When set, ONNX Runtime's profiler records GenAI's session to a file with this prefix (written when the runner is disposed).</param>
    public GenAiRunner(PeerModel model, Workload workload, RunSettings settings, bool perStream = false, string? profilePrefix = null)
    {
        _workload = workload;
        _settings = settings;
        PerStream = perStream;
        _config = new GenAi.Config(model.Folder);
        string threads = settings.Threads.ToString(CultureInfo.InvariantCulture);
        string profiling = profilePrefix is null ? "" : ",\"enable_profiling\":" + JsonSerializer.Serialize(profilePrefix);
        _config.Overlay("""{"model":{"decoder":{"session_options":{"intra_op_num_threads":""" + threads + profiling + "}}}}");
        _model = new GenAi.Model(_config);
    }

    /// <summary>One generator per stream, each on its own thread, instead of one static batch.</summary>
    public bool PerStream { get; }

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

        if (PerStream)
        {
            return MeasurePerStreamAsync(cancellationToken);
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

    private async Task<double> MeasurePerStreamAsync(CancellationToken cancellationToken)
    {
        int streams = _workload.Streams, length = _settings.Prompt.Length, total = length + _settings.Tokens;
        var parameters = new List<GenAi.GeneratorParams>(streams);
        var generators = new List<GenAi.Generator>(streams);
        try
        {
            for (int s = 0; s < streams; s++)
            {
                var streamParameters = new GenAi.GeneratorParams(_model);
                parameters.Add(streamParameters);
                streamParameters.SetSearchOption("max_length", total);
                streamParameters.SetSearchOption("min_length", total);
                streamParameters.SetSearchOption("do_sample", false);
                generators.Add(new GenAi.Generator(_model, streamParameters));
            }

            var stopwatch = Stopwatch.StartNew();
            int[][] outputs = await Task.WhenAll(generators.Select(generator => Task.Factory.StartNew(
                () =>
                {
                    generator.AppendTokens(_settings.Prompt);
                    while (!generator.IsDone())
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        generator.GenerateNextToken();
                    }

                    return generator.GetSequence(0).ToArray()[length..];
                },
                cancellationToken,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default)));
            double seconds = stopwatch.Elapsed.TotalSeconds;
            Counts.Check("ORT GenAI per-stream", outputs.Select(o => o.Length), _settings.Tokens);
            _lastTokens = outputs[0];
            return streams * _settings.Tokens / seconds;
        }
        finally
        {
            generators.ForEach(g => g.Dispose());
            parameters.ForEach(p => p.Dispose());
        }
    }

    public void Dispose()
    {
        _model.Dispose();
        _config.Dispose();
    }
}
