using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using LlmAspire.Cli.Errors;
using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using GenAi = Microsoft.ML.OnnxRuntimeGenAI;

namespace LlmAspire.Cli.Commands;

/// <summary>
/// <c>bench engine</c>: our continuous-batching engine against ONNX Runtime GenAI (one generator per request) on the
/// same model folder, side by side in one run: aggregate decode tokens/s at each concurrency, and the ratio.
/// </summary>
internal static class BenchEngineCommand
{
    private static readonly string[] Prompts =
    [
        "Once upon a time", "Lily and Ben went to the park", "The little dog was sad because", "One day, a big bird",
        "Tom had a red ball", "The sun was hot and the children", "Mom made a cake for", "There was a tall tree near",
    ];

    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Model folder", Required = true };
        var streams = new Option<string>("--streams") { Description = "Concurrent streams, comma-separated", DefaultValueFactory = _ => "1,16" }.MustParse(text => ParseStreams(text));
        var maxTokens = new Option<int>("--max-tokens") { Description = "Tokens per stream", DefaultValueFactory = _ => 128 }.AtLeast(1);
        var repeats = new Option<int>("--repeats") { Description = "Timed runs per setting (the best is reported)", DefaultValueFactory = _ => 3 }.AtLeast(1);
        var skipGenAi = new Option<bool>("--no-genai") { Description = "Measure our engine only" };
        // For A/B measurements of ONNX Runtime's thread pool only, so it stays out of --help.
        var spinning = new Option<bool>("--spinning") { Description = "Let idle intra-op workers spin (--spin always)", Hidden = true };
        var spin = new Option<SpinningMode?>("--spin") { Description = "When ONNX Runtime's idle workers spin: Off, WithinRun or Always (default: the engine's)" };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime threads per operator (0: the engine's choice)" }.AtLeast(0);
        var maxContext = new Option<int>("--max-context") { Description = "KV positions per sequence (0: the model's context length)" }.AtLeast(0);
        var breakdown = new Option<bool>("--breakdown") { Description = "Also print where a step's time goes (inside ONNX Runtime's Run or not) and its top operators" };
        var alternate = new Option<string>("--alternate") { Description = "Setups timed in turns instead: spinning modes, optionally /threads, or GenAI (e.g. Off,WithinRun,Always or Off/1,Off/2); --repeats rounds" }
            .MustParse(text => AlternatingBench.Parse(text));
        var command = new Command("engine", "Decode throughput of our engine vs ONNX Runtime GenAI, side by side.") { model, streams, maxTokens, repeats, skipGenAi, spinning, spin, threads, maxContext, breakdown, alternate };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            TextWriter stdout = parse.InvocationConfiguration.Output;
            int[] counts = ParseStreams(parse.GetRequiredValue(streams));
            string folder = CommandPaths.ModelFolder(parse.GetRequiredValue(model), "--model");
            int tokens = parse.GetValue(maxTokens);
            int runs = parse.GetValue(repeats);
            bool withGenAi = !parse.GetValue(skipGenAi);
            if (parse.GetValue(alternate) is { } setups)
            {
                await AlternatingBench.RunAsync(
                    stdout, folder, AlternatingBench.Parse(setups), counts, runs, parse.GetValue(maxContext),
                    (m, p) => OursAsync(m, p, tokens, cancellationToken), (g, p) => GenAiAsync(g, p, tokens), PromptsFor);
                return ExitCodes.Success;
            }

            var engineOptions = new EngineOptions
            {
                MaxSequences = counts.Max(),
                IntraOpThreads = parse.GetValue(threads),
                MaxContext = parse.GetValue(maxContext),
                Spinning = parse.GetValue(spin) ?? (parse.GetValue(spinning) ? SpinningMode.Always : new EngineOptions().Spinning),
            };
            bool withBreakdown = parse.GetValue(breakdown);
            using LanguageModel ours = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu, engineOptions);
            using GenAi.Model? theirs = withGenAi ? new GenAi.Model(folder) : null;
            stdout.WriteLine($"model {ours.Id}: {ours.Config.Layers} layers, hidden {ours.Config.Dim}, vocab {ours.Config.VocabSize}; {tokens} tokens per stream, best of {runs}; {Environment.ProcessorCount} cores; ONNX Runtime: {ours.Decoder.IntraOpThreads} threads, spinning {ours.Decoder.Spinning}");
            stdout.WriteLine("streams | LlmAspire tok/s | ORT GenAI tok/s | ratio");
            stdout.WriteLine("------: | --------------: | --------------: | ----:");
            foreach (int count in counts)
            {
                int[][] prompts = PromptsFor(ours, count);
                await OursAsync(ours, prompts, tokens, cancellationToken); // warm-up
                double best = 0;
                var steps = new StepBreakdown();
                for (int r = 0; r < runs; r++)
                {
                    ours.Decoder.Timings.Reset();
                    best = Math.Max(best, await OursAsync(ours, prompts, tokens, cancellationToken));
                    steps.Add(ours.Decoder.Timings);
                }

                double peer = 0;
                if (theirs is not null)
                {
                    await GenAiAsync(theirs, prompts, tokens);
                    for (int r = 0; r < runs; r++)
                    {
                        peer = Math.Max(peer, await GenAiAsync(theirs, prompts, tokens));
                    }
                }

                string ratio = peer > 0 ? (best / peer).ToString("F2", CultureInfo.InvariantCulture) + "x" : "-";
                stdout.WriteLine($"{count,7} | {best,15:F0} | {(peer > 0 ? peer.ToString("F0", CultureInfo.InvariantCulture) : "-"),15} | {ratio,5}");
                if (withBreakdown)
                {
                    steps.Write(stdout, count);
                    await StepBreakdown.WriteProfileAsync(stdout, folder, engineOptions, profiled => OursAsync(profiled, prompts, tokens, cancellationToken));
                }
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Parses "1,4,16"; throws <see cref="FormatException"/> naming an entry that is not a positive whole number.</summary>
    internal static int[] ParseStreams(string text)
    {
        string[] parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            throw new FormatException("give at least one stream count, e.g. 1,4,16");
        }

        return [.. parts.Select(part => int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int count) && count > 0
            ? count
            : throw new FormatException($"'{part}' is not a positive whole number; pass a comma-separated list such as 1,4,16"))];
    }

    /// <summary><paramref name="count"/> prompts, the built-in ones in turn.</summary>
    private static int[][] PromptsFor(LanguageModel model, int count) =>
        [.. Enumerable.Range(0, count).Select(i => model.Tokenizer.Encode(Prompts[i % Prompts.Length], addBos: true))];

    /// <summary>All prompts at once through the engine; generated tokens per second of wall time.</summary>
    private static async Task<double> OursAsync(LanguageModel model, int[][] prompts, int tokens, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        int[] generated = await Task.WhenAll(prompts.Select(async prompt =>
        {
            int count = 0;
            await foreach (GenerationUpdate update in model.GenerateAsync(new GenerationRequest(prompt, tokens, Temperature: 0), cancellationToken))
            {
                count = update.CompletionTokens;
            }

            return count;
        }));
        return generated.Sum() / stopwatch.Elapsed.TotalSeconds;
    }

    /// <summary>One GenAI generator per prompt, each on its own thread; generated tokens per second of wall time.</summary>
    private static async Task<double> GenAiAsync(GenAi.Model model, int[][] prompts, int tokens)
    {
        var stopwatch = Stopwatch.StartNew();
        int[] generated = await Task.WhenAll(prompts.Select(prompt => Task.Factory.StartNew(
            () =>
            {
                using var parameters = new GenAi.GeneratorParams(model);
                parameters.SetSearchOption("max_length", prompt.Length + tokens);
                parameters.SetSearchOption("do_sample", false);
                using var generator = new GenAi.Generator(model, parameters);
                generator.AppendTokens(prompt);
                int count = 0;
                while (!generator.IsDone())
                {
                    generator.GenerateNextToken();
                    count++;
                }

                return count;
            },
            TaskCreationOptions.LongRunning)));
        return generated.Sum() / stopwatch.Elapsed.TotalSeconds;
    }
}
