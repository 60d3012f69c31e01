using System.Globalization;
using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Engine.Speculation;
using GenAi = Microsoft.ML.OnnxRuntimeGenAI;

namespace LlmAspire.Cli.Commands;

/// <summary>
/// <c>bench engine --alternate Off,WithinRun,Always</c>: several engine setups (spinning mode, optionally <c>/threads</c>
/// and <c>@ort</c> for ONNX Runtime's attention kernel instead of ours, <c>@mlas</c> for the graph as written — MLAS's
/// MatMuls, no fused SwiGLU (<see cref="EngineOptions.RewriteGraph"/>);
/// <c>GenAI</c> for ONNX Runtime GenAI) loaded side by side and timed in turns, the order rotated every round, so that a
/// shared machine's changing load falls on every setup alike; median and range of decode tokens/s per setup.
/// </summary>
internal static class AlternatingBench
{
    /// <summary>One setup: a spinning mode and a thread count (0: the engine's choice), or GenAI.</summary>
    internal sealed record Setup(string Name, SpinningMode Spinning, int Threads, bool IsGenAi)
    {
        /// <summary>The attention kernel (a setup ending in <c>@ort</c> runs ONNX Runtime's).</summary>
        public AttentionKernelChoice Attention { get; init; }

        /// <summary>Whether the graph is rewritten for our packed kernels (a setup ending in <c>@mlas</c> is not).</summary>
        public bool RewriteGraph { get; init; } = true;
    }

    /// <summary>Parses "Off,WithinRun/2,GenAI"; throws <see cref="FormatException"/> naming a bad entry.</summary>
    internal static Setup[] Parse(string text)
    {
        string[] parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length < 2)
        {
            throw new FormatException("give at least two setups to alternate, e.g. Off,WithinRun,Always or Off/1,Off/2");
        }

        var setups = new Setup[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            string entry = parts[i];
            var attention = AttentionKernelChoice.LlmAspire;
            bool rewrite = true;
            if (entry.EndsWith("@ort", StringComparison.OrdinalIgnoreCase))
            {
                attention = AttentionKernelChoice.OnnxRuntime;
                entry = entry[..^4];
            }
            else if (entry.EndsWith("@mlas", StringComparison.OrdinalIgnoreCase))
            {
                rewrite = false;
                entry = entry[..^5];
            }

            string[] fields = entry.Split('/');
            if (fields.Length == 1 && fields[0].Equals("GenAI", StringComparison.OrdinalIgnoreCase) && attention == AttentionKernelChoice.LlmAspire && rewrite)
            {
                setups[i] = new Setup("GenAI", SpinningMode.Always, 0, IsGenAi: true);
                continue;
            }

            int threads = 0;
            if (fields.Length > 2 || fields[0].Length == 0 || !char.IsLetter(fields[0][0]) || !Enum.TryParse(fields[0], ignoreCase: true, out SpinningMode mode)
                || (fields.Length == 2 && (!int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out threads) || threads < 1)))
            {
                throw new FormatException($"'{parts[i]}' is not a setup: write Off, WithinRun, Always or Brief, optionally /threads (Off/2) and @ort for ONNX Runtime's attention kernel (Off/2@ort) or @mlas for the graph as written (Off/2@mlas), or GenAI");
            }

            setups[i] = new Setup(parts[i], mode, threads, IsGenAi: false) { Attention = attention, RewriteGraph = rewrite };
        }

        return setups;
    }

    /// <summary>Runs <paramref name="rounds"/> rounds of every setup at each stream count and prints the table.</summary>
    public static async Task RunAsync(
        TextWriter output, string folder, Setup[] setups, int[] counts, int rounds, int maxContext,
        Func<LanguageModel, int[][], Task<double>> ours, Func<GenAi.Model, int[][], Task<double>> genAi, Func<LanguageModel, int, int[][]> prompts,
        SpeculativeOptions? speculative = null)
    {
        var models = new LanguageModel?[setups.Length];
        var genAiModels = new GenAi.Model?[setups.Length];
        try
        {
            for (int i = 0; i < setups.Length; i++)
            {
                if (setups[i].IsGenAi)
                {
                    genAiModels[i] = new GenAi.Model(folder);
                }
                else
                {
                    models[i] = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu, new EngineOptions
                    {
                        MaxSequences = counts.Max(),
                        MaxContext = maxContext,
                        Spinning = setups[i].Spinning,
                        IntraOpThreads = setups[i].Threads,
                        Attention = setups[i].Attention,
                        RewriteGraph = setups[i].RewriteGraph,
                        Speculative = speculative ?? new SpeculativeOptions(),
                    });
                }
            }

            LanguageModel reference = models.First(m => m is not null)!;
            if (speculative is { Enabled: true })
            {
                output.WriteLine($"our setups speculate: {speculative.Tokens} tokens, n-grams {speculative.MinNgram}..{speculative.MaxNgram}, up to {speculative.MaxBatch} streams");
            }

            output.WriteLine($"model {reference.Id}; setups {string.Join(", ", setups.Select((s, i) => models[i] is { } m ? $"{s.Name} ({m.Decoder.IntraOpThreads} threads)" : s.Name))}; {rounds} rounds, order rotated; {Environment.ProcessorCount} cores");
            output.WriteLine($"streams | {string.Join(" | ", setups.Select(s => s.Name + " tok/s median (range)"))}");
            output.WriteLine($"------: | {string.Join(" | ", setups.Select(_ => "---:"))}");
            foreach (int count in counts)
            {
                int[][] batch = prompts(reference, count);
                var results = new List<double>[setups.Length];
                for (int i = 0; i < setups.Length; i++)
                {
                    results[i] = [];
                    await RunOneAsync(i, batch); // warm-up
                }

                for (int round = 0; round < rounds; round++)
                {
                    for (int k = 0; k < setups.Length; k++)
                    {
                        int i = (k + round) % setups.Length;
                        results[i].Add(await RunOneAsync(i, batch));
                    }
                }

                output.WriteLine($"{count,7} | {string.Join(" | ", results.Select(Summary))}");
            }
        }
        finally
        {
            foreach (LanguageModel? model in models)
            {
                model?.Dispose();
            }

            foreach (GenAi.Model? model in genAiModels)
            {
                model?.Dispose();
            }
        }

        Task<double> RunOneAsync(int i, int[][] batch) => models[i] is { } model ? ours(model, batch) : genAi(genAiModels[i]!, batch);
    }

    private static string Summary(List<double> values)
    {
        double[] sorted = [.. values.Order()];
        double median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        return string.Create(CultureInfo.InvariantCulture, $"{median:F0} ({sorted[0]:F0}-{sorted[^1]:F0})");
    }
}
