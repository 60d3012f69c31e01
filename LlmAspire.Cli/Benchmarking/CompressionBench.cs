using System.Diagnostics;
using System.Runtime.InteropServices;
using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.Pruning;
using LlmAspire.Inference.Models.Quantization;
using Microsoft.ML.OnnxRuntime;

namespace LlmAspire.Cli.Benchmarking;

/// <summary>
/// The measuring core of <c>bench compression</c> and <c>bench quantization</c>: makes every variant's folder from one
/// float32 folder, then measures all of them in one process against float32.
/// <list type="bullet">
/// <item>decode tokens/s, 1 stream: greedy, the first prompt prefilled, then single-token steps timed one by one
/// (prefill excluded); 1 / the median step over all rounds and 1 / the 10th percentile (the least disturbed steps).</item>
/// <item>decode tokens/s, N streams: N greedy requests at once through the continuous-batching engine
/// (<see cref="LanguageModel.GenerateAsync"/>), end tokens biased away so each decodes exactly the asked count;
/// generated tokens over wall time, one value per round.</item>
/// <item>prefill tokens/s: one forward pass over a prompt of the asked length in a fresh state (no prefix cache).</item>
/// </list>
/// Every variant is warmed up once, then the variants take turns for the rounds, so a burst of load on a shared machine
/// hits them all alike. Quality is <see cref="CompressionQuality"/>'s.
/// </summary>
internal static class CompressionBench
{
    /// <summary>The fixed prompts of the agreement columns (the first also starts every speed run).</summary>
    public static readonly IReadOnlyList<string> Prompts =
    [
        "Once upon a time",
        "One day, a little girl named Lily",
        "The cat sat on the",
        "Tom and his dog went to the park",
        "There was a big tree in the garden",
        "The sun was shining and the birds",
        "Mom said, \"It is time for bed",
        "A little bird wanted to fly",
    ];

    /// <summary>The held-out story KL and perplexity are measured on; the built-in calibration sample does not contain it.</summary>
    public const string HeldOutText =
        "Once upon a time, there was a little boy named Tim. Tim had a red ball that he loved very much. " +
        "Every day he went to the park with his mom to play. One day, the ball rolled under a big tree. " +
        "Tim was sad because he could not reach it. A kind dog came and pushed the ball back to Tim. " +
        "Tim smiled and said, \"Thank you, dog!\" They played together until the sun went down, and then Tim went home happy.";

    /// <summary>
    /// Makes the variants' folders under <paramref name="root"/>, measures them with float32 and writes the table to
    /// <paramref name="output"/> (progress to <paramref name="log"/>); returns the table and the rows.
    /// </summary>
    public static async Task<(string Table, IReadOnlyList<CompressionRow> Rows)> RunAsync(
        string source, IReadOnlyList<CompressionVariant> variants, string root, CompressionSettings settings, TextWriter output, TextWriter log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(log);
        log.WriteLine($"machine: {MachineDescription()}");
        List<CompressionRow> rows = Prepare(source, variants, root, settings.CalibrationFile, log);
        int textTokens = await MeasureAsync(rows, settings, log, cancellationToken);
        string table = CompressionTable.Format(rows, Path.GetFileName(Path.TrimEndingDirectorySeparator(source)), textTokens, settings);
        output.WriteLine(table);
        return (table, rows);
    }

    /// <summary>
    /// Writes each variant's folder under <paramref name="root"/> (a pruning once, however many composites quantize it)
    /// and returns the rows, float32 first.
    /// </summary>
    public static List<CompressionRow> Prepare(string source, IReadOnlyList<CompressionVariant> variants, string root, string? calibrationFile, TextWriter log)
    {
        var rows = new List<CompressionRow> { new("fp32", source, null) };
        var pruned = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (CompressionVariant variant in variants)
        {
            string input = source;
            if (variant.Prune is { } prune)
            {
                string pruneName = variant.PruneName!;
                if (!pruned.TryGetValue(pruneName, out string? folder))
                {
                    folder = Path.Combine(root, pruneName);
                    var stopwatch = Stopwatch.StartNew();
                    PruningManifest manifest = ModelPruner.PruneFolder(source, folder, prune, calibrationFile, overwrite: true);
                    log.WriteLine($"pruned {pruneName} in {stopwatch.ElapsedMilliseconds} ms: layers {manifest.Layers.After}, ffn {manifest.Ffn.After}, heads {manifest.Heads.After}");
                    pruned[pruneName] = folder;
                }

                input = folder;
            }

            string output = input;
            if (variant.Quantize is { } quantize)
            {
                output = Path.Combine(root, variant.Name.Replace('+', '_'));
                var stopwatch = Stopwatch.StartNew();
                ModelQuantizer.QuantizeFolder(input, output, quantize.Method == QuantizationMethod.Rtn ? quantize : quantize with { CalibrationFile = calibrationFile }, overwrite: true);
                log.WriteLine($"quantized {variant.Name} in {stopwatch.ElapsedMilliseconds} ms");
            }

            rows.Add(new CompressionRow(variant.Name, output, variant));
        }

        return rows;
    }

    /// <summary>Loads every row's folder, measures it and returns the number of held-out text positions KL was averaged over.</summary>
    public static async Task<int> MeasureAsync(List<CompressionRow> rows, CompressionSettings settings, TextWriter log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(settings);
        int streams = Math.Max(1, settings.Streams);
        var engineOptions = new EngineOptions { MaxSequences = streams, MaxQueue = streams };
        try
        {
            foreach (CompressionRow row in rows)
            {
                row.Model = LanguageModel.Load(row.Folder, ExecutionProviderPreference.Cpu, engineOptions);
                row.Bytes = OnnxModelFile.SizeOnDisk(Path.Combine(row.Folder, ModelFolder.ModelFile));
            }

            LanguageModel reference = rows[0].Model!;
            await MeasureSpeedAsync(rows, reference, settings, log, cancellationToken);
            return CompressionQuality.Measure(rows, reference, settings.AgreementTokens, log);
        }
        finally
        {
            foreach (CompressionRow row in rows)
            {
                row.Model?.Dispose();
                row.Model = null;
            }
        }
    }

    /// <summary>The machine the numbers come from, for the log and the docs.</summary>
    public static string MachineDescription()
    {
        string cpu = "unknown CPU";
        if (File.Exists("/proc/cpuinfo"))
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        }

        string load = File.Exists("/proc/loadavg") ? ", load average " + string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "";
        return $"{cpu}, {Environment.ProcessorCount} logical cores{load}, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, ONNX Runtime {OrtEnv.Instance().GetVersionString()} (CPU provider)";
    }

    private static async Task MeasureSpeedAsync(List<CompressionRow> rows, LanguageModel reference, CompressionSettings settings, TextWriter log, CancellationToken cancellationToken)
    {
        int[] speedPrompt = reference.Tokenizer.Encode(Prompts[0], addBos: true);
        int[][] streamPrompts = [.. Enumerable.Range(0, settings.Streams).Select(i => reference.Tokenizer.Encode(Prompts[i % Prompts.Count], addBos: true))];
        int[] prefillPrompt = PrefillPrompt(reference, settings.PrefillTokens);
        foreach (CompressionRow row in rows)
        {
            DecodeStepSeconds(row.Model!.Decoder, speedPrompt, Math.Min(settings.DecodeTokens, 8));
            if (settings.Streams > 0)
            {
                await StreamsAsync(row.Model, streamPrompts, Math.Min(settings.DecodeTokens, 8), cancellationToken);
            }

            if (prefillPrompt.Length > 0)
            {
                Prefill(row.Model.Decoder, prefillPrompt);
            }
        }

        for (int r = 0; r < settings.Rounds; r++)
        {
            foreach (CompressionRow row in rows)
            {
                double[] steps = DecodeStepSeconds(row.Model!.Decoder, speedPrompt, settings.DecodeTokens);
                row.StepSeconds.AddRange(steps);
                row.Speeds.Add(steps.Length / steps.Sum());
                if (settings.Streams > 0)
                {
                    row.StreamSpeeds.Add(await StreamsAsync(row.Model, streamPrompts, settings.DecodeTokens, cancellationToken));
                }

                if (prefillPrompt.Length > 0)
                {
                    row.PrefillSpeeds.Add(Prefill(row.Model.Decoder, prefillPrompt));
                }
            }

            log.WriteLine($"round {r + 1}/{settings.Rounds}: " + string.Join(", ", rows.Select(e => $"{e.Name} {e.Speeds[^1]:F1}")));
        }
    }

    /// <summary>BOS and the held-out story repeated, cut to <paramref name="tokens"/> (at most the context less one); empty for 0.</summary>
    private static int[] PrefillPrompt(LanguageModel model, int tokens)
    {
        int length = Math.Min(tokens, model.Config.ContextLength - 1);
        if (length <= 0)
        {
            return [];
        }

        int[] again = model.Tokenizer.Encode(" " + HeldOutText, addBos: false);
        var prompt = new List<int>(model.Tokenizer.Encode(HeldOutText, addBos: true));
        while (prompt.Count < length)
        {
            prompt.AddRange(again);
        }

        return [.. prompt.Take(length)];
    }

    /// <summary>Prefills <paramref name="prompt"/>, then times each of <paramref name="steps"/> greedy decode steps.</summary>
    private static double[] DecodeStepSeconds(DecoderSession decoder, int[] prompt, int steps)
    {
        using DecoderState state = decoder.CreateState();
        int token = Sampler.ArgMax(decoder.Forward(state, prompt));
        double[] seconds = new double[Math.Min(steps, decoder.Config.ContextLength - prompt.Length - 1)];
        for (int i = 0; i < seconds.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            token = Sampler.ArgMax(decoder.Forward(state, [token]));
            seconds[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        return seconds;
    }

    /// <summary>All prompts at once through the engine, greedy, end tokens biased away; generated tokens per second of wall time.</summary>
    private static async Task<double> StreamsAsync(LanguageModel model, int[][] prompts, int tokens, CancellationToken cancellationToken)
    {
        Dictionary<int, float> noEnd = model.EndTokenIds.Distinct().ToDictionary(id => id, _ => -1e9f);
        var stopwatch = Stopwatch.StartNew();
        int[] generated = await Task.WhenAll(prompts.Select(async prompt =>
        {
            int count = 0;
            var request = new GenerationRequest(prompt, tokens, Temperature: 0) { LogitBias = noEnd };
            await foreach (GenerationUpdate update in model.GenerateAsync(request, cancellationToken))
            {
                count = update.CompletionTokens;
            }

            return count;
        }));
        return generated.Sum() / stopwatch.Elapsed.TotalSeconds;
    }

    /// <summary>One forward pass over <paramref name="prompt"/> in a fresh state; prompt tokens per second.</summary>
    private static double Prefill(DecoderSession decoder, int[] prompt)
    {
        using DecoderState state = decoder.CreateState();
        var stopwatch = Stopwatch.StartNew();
        decoder.Forward(state, prompt);
        return prompt.Length / stopwatch.Elapsed.TotalSeconds;
    }
}
