using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using LlmAspire.Cli.Errors;
using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Engine.Speculation;
using GenAi = Microsoft.ML.OnnxRuntimeGenAI;

namespace LlmAspire.Cli.Commands;

/// <summary>
/// <c>bench engine</c>: our continuous-batching engine against ONNX Runtime GenAI (one generator per request) on the
/// same model folder, side by side in one run: aggregate decode tokens/s at each concurrency, and the ratio. With
/// <c>--speculative K</c>, also our engine with prompt-lookup speculation (a second engine on the same folder), its
/// tokens/s and acceptance rate, on the workload(s) chosen: story starters, or passages the model continues by copying.
/// </summary>
internal static class BenchEngineCommand
{
    private static readonly string[] Prompts =
    [
        "Once upon a time", "Lily and Ben went to the park", "The little dog was sad because", "One day, a big bird",
        "Tom had a red ball", "The sun was hot and the children", "Mom made a cake for", "There was a tall tree near",
    ];

    /// <summary>Passages given twice and begun a third time: a model continues by copying, as in edits, quotes and summaries.</summary>
    private static readonly string[] Passages =
    [
        "Lily went to the park with her mom. She saw a big dog and a little cat. The dog ran after the cat.",
        "Tom had a red ball. He threw the ball to his friend Sam. Sam kicked the ball over the tall fence.",
        "The sun was hot. The children played in the water and laughed. Then they ate ice cream under a tree.",
        "Mom made a cake for Ben. It was a big chocolate cake with red candles. Ben smiled and said thank you.",
    ];

    private static readonly string[] Workloads = ["stories", "repetitive", "both"];

    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Model folder", Required = true };
        var streams = new Option<string>("--streams") { Description = "Concurrent streams, comma-separated", DefaultValueFactory = _ => "1,16" }.MustParse(text => ParseStreams(text));
        var maxTokens = new Option<int>("--max-tokens") { Description = "Tokens per stream", DefaultValueFactory = _ => 128 }.AtLeast(1);
        var repeats = new Option<int>("--repeats") { Description = "Timed runs per setting (the best is reported)", DefaultValueFactory = _ => 3 }.AtLeast(1);
        var skipGenAi = new Option<bool>("--no-genai") { Description = "Measure our engine only" };
        // For A/B measurements of ONNX Runtime's thread pool only, so it stays out of --help.
        var spinning = new Option<bool>("--spinning") { Description = "Let idle intra-op workers spin (--spin always)", Hidden = true };
        var spin = new Option<SpinningMode?>("--spin") { Description = "When idle workers spin: Off, WithinRun, Always, or Brief (our kernels' own workers, 50 µs) (default: the engine's)" };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime threads per operator (0: the engine's choice)" }.AtLeast(0);
        var maxContext = new Option<int>("--max-context") { Description = "KV positions per sequence (0: the model's context length)" }.AtLeast(0);
        var breakdown = new Option<bool>("--breakdown") { Description = "Also print where a step's time goes (inside ONNX Runtime's Run or not) and its top operators" };
        var profileOut = new Option<DirectoryInfo?>("--profile-out") { Description = "With --breakdown, keep ONNX Runtime's profile of each stream count here (ours-<streams>.json; read it with bench profile)" };
        var alternate = new Option<string>("--alternate") { Description = "Setups timed in turns instead: spinning modes, optionally /threads and @ort (ONNX Runtime's attention kernel instead of ours) or @mlas (the graph as written: MLAS's MatMuls, no fused SwiGLU), or GenAI (e.g. Off,WithinRun,Always or Off/1,Off/2 or Off,Off@ort or Brief,Brief@mlas); --repeats rounds; with --speculative every setup of ours speculates; --workload stories or repetitive" }
            .MustParse(text => AlternatingBench.Parse(text));
        var speculative = new Option<int>("--speculative") { Description = "Also measure prompt-lookup speculative decoding proposing this many tokens (0 = not)" }.AtLeast(0);
        var ngramMax = new Option<int>("--ngram-max") { Description = "Longest suffix looked up for proposals", DefaultValueFactory = _ => SpeculativeOptions.DefaultMaxNgram }.AtLeast(1);
        var ngramMin = new Option<int>("--ngram-min") { Description = "Shortest suffix looked up for proposals", DefaultValueFactory = _ => SpeculativeOptions.DefaultMinNgram }.AtLeast(1);
        var specBatch = new Option<int>("--speculative-max-batch") { Description = "Speculate only while at most this many streams decode", DefaultValueFactory = _ => SpeculativeOptions.DefaultMaxBatch }.AtLeast(1);
        var attention = new Option<AttentionKernelChoice>("--attention") { Description = "The attention kernel on the CPU: LlmAspire (ours, the default) or OnnxRuntime (with --alternate, a setup ending in @ort instead)" };
        var workload = new Option<string>("--workload") { Description = "stories (story starters), repetitive (passages the model copies) or both", DefaultValueFactory = _ => "stories" };
        workload.AcceptOnlyFromAmong(Workloads);
        var finalOnly = new Option<bool>("--final-only") { Description = "Each request reads only its final update, as a non-streamed request does (by default every token is handed to the reader, as a streamed one)" };
        var command = new Command("engine", "Decode throughput of our engine vs ONNX Runtime GenAI, side by side.")
        {
            model, streams, maxTokens, repeats, skipGenAi, spinning, spin, threads, maxContext, breakdown, profileOut, alternate, speculative, ngramMax, ngramMin, specBatch, workload,
            attention, finalOnly,
        };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            TextWriter stdout = parse.InvocationConfiguration.Output;
            int[] counts = ParseStreams(parse.GetRequiredValue(streams));
            string folder = CommandPaths.ModelFolder(parse.GetRequiredValue(model), "--model");
            int tokens = parse.GetValue(maxTokens);
            int runs = parse.GetValue(repeats);
            bool final = parse.GetValue(finalOnly);
            bool withGenAi = !parse.GetValue(skipGenAi);
            var speculation = new SpeculativeOptions
            {
                Tokens = parse.GetValue(speculative), MaxNgram = parse.GetValue(ngramMax), MinNgram = parse.GetValue(ngramMin), MaxBatch = parse.GetValue(specBatch),
            };
            if (speculation.Validate("--") is { } invalid)
            {
                // In the words of this command's options.
                throw new UserErrorException(invalid.Replace("--Tokens", "--speculative", StringComparison.Ordinal).Replace("--MaxNgram", "--ngram-max", StringComparison.Ordinal)
                    .Replace("--MinNgram", "--ngram-min", StringComparison.Ordinal).Replace("--MaxBatch", "--speculative-max-batch", StringComparison.Ordinal), ExitCodes.Usage);
            }

            if (parse.GetValue(profileOut) is not null && (!parse.GetValue(breakdown) || parse.GetValue(alternate) is not null))
            {
                throw new UserErrorException("--profile-out keeps the profiles --breakdown takes; give it with --breakdown and without --alternate.", ExitCodes.Usage);
            }

            if (parse.GetValue(alternate) is { } setups)
            {
                // One workload (story starters unless --workload repetitive); --speculative applies to every setup of ours.
                string alternateWorkload = parse.GetRequiredValue(workload) == "repetitive" ? "repetitive" : "stories";
                await AlternatingBench.RunAsync(
                    stdout, folder, AlternatingBench.Parse(setups), counts, runs, parse.GetValue(maxContext),
                    (m, p) => OursAsync(m, p, tokens, final, cancellationToken), (g, p) => GenAiAsync(g, p, tokens),
                    (m, count) => PromptsFor(m, alternateWorkload, count),
                    speculation.Enabled ? speculation : null);
                return ExitCodes.Success;
            }

            var engineOptions = new EngineOptions
            {
                MaxSequences = counts.Max(),
                IntraOpThreads = parse.GetValue(threads),
                MaxContext = parse.GetValue(maxContext),
                Spinning = parse.GetValue(spin) ?? (parse.GetValue(spinning) ? SpinningMode.Always : new EngineOptions().Spinning),
                Attention = parse.GetValue(attention),
            };
            bool withBreakdown = parse.GetValue(breakdown);
            using LanguageModel ours = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu, engineOptions);
            var acceptance = new AcceptanceCounter();
            using LanguageModel? speculating = speculation.Enabled
                ? LanguageModel.Load(folder, ExecutionProviderPreference.Cpu, engineOptions with { Speculative = speculation }, acceptance)
                : null;
            using GenAi.Model? theirs = withGenAi ? new GenAi.Model(folder) : null;
            string chosen = parse.GetRequiredValue(workload);
            string[] workloads = chosen == "both" ? ["stories", "repetitive"] : [chosen];
            stdout.WriteLine($"model {ours.Id}: {ours.Config.Layers} layers, hidden {ours.Config.Dim}, vocab {ours.Config.VocabSize}; {tokens} tokens per stream, best of {runs}; {Environment.ProcessorCount} cores; ONNX Runtime: {ours.Decoder.IntraOpThreads} threads, spinning {ours.Decoder.Spinning}, attention kernel {ours.Decoder.Attention}");
            if (speculating is not null)
            {
                stdout.WriteLine($"speculative: {speculation.Tokens} tokens, n-grams {speculation.MinNgram}..{speculation.MaxNgram}, up to {speculation.MaxBatch} streams; greedy");
            }

            stdout.WriteLine("workload   | streams | LlmAspire tok/s | speculative tok/s | accepted | ORT GenAI tok/s | ratio");
            stdout.WriteLine(":--------- | ------: | --------------: | ----------------: | -------: | --------------: | ----:");
            foreach (string kind in workloads)
            {
                foreach (int count in counts)
                {
                    int[][] prompts = [.. Enumerable.Range(0, count).Select(i => ours.Tokenizer.Encode(Prompt(kind, i), addBos: true))];
                    await OursAsync(ours, prompts, tokens, final, cancellationToken); // warm-up
                    double best = 0;
                    var steps = new StepBreakdown();
                    for (int r = 0; r < runs; r++)
                    {
                        ours.Decoder.Timings.Reset();
                        best = Math.Max(best, await OursAsync(ours, prompts, tokens, final, cancellationToken));
                        steps.Add(ours.Decoder.Timings);
                    }

                    string withSpeculation = "-", accepted = "-";
                    if (speculating is not null)
                    {
                        await OursAsync(speculating, prompts, tokens, final, cancellationToken); // warm-up
                        acceptance.Reset();
                        double fastest = 0;
                        for (int r = 0; r < runs; r++)
                        {
                            fastest = Math.Max(fastest, await OursAsync(speculating, prompts, tokens, final, cancellationToken));
                        }

                        withSpeculation = fastest.ToString("F0", CultureInfo.InvariantCulture);
                        accepted = acceptance.Proposed > 0 ? (100.0 * acceptance.Accepted / acceptance.Proposed).ToString("F0", CultureInfo.InvariantCulture) + " %" : "none";
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
                    stdout.WriteLine($"{kind,-10} | {count,7} | {best,15:F0} | {withSpeculation,17} | {accepted,8} | {(peer > 0 ? peer.ToString("F0", CultureInfo.InvariantCulture) : "-"),15} | {ratio,5}");
                    if (withBreakdown)
                    {
                        steps.Write(stdout, count);
                        string? keep = parse.GetValue(profileOut) is { } profiles
                            ? Path.Combine(profiles.FullName, string.Create(CultureInfo.InvariantCulture, $"ours-{count}.json"))
                            : null;
                        await StepBreakdown.WriteProfileAsync(stdout, folder, engineOptions, profiled => OursAsync(profiled, prompts, tokens, final, cancellationToken), keep);
                    }
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

    /// <summary>Prompt <paramref name="index"/> of a workload: a story starter, or a passage given twice and begun again.</summary>
    internal static string Prompt(string workload, int index)
    {
        if (workload != "repetitive")
        {
            return Prompts[index % Prompts.Length];
        }

        string passage = Passages[index % Passages.Length];
        return $"{passage} {passage} {passage[..passage.IndexOf(' ', 12)]}";
    }

    /// <summary><paramref name="count"/> prompts of <paramref name="workload"/>, the built-in ones in turn.</summary>
    private static int[][] PromptsFor(LanguageModel model, string workload, int count) =>
        [.. Enumerable.Range(0, count).Select(i => model.Tokenizer.Encode(Prompt(workload, i), addBos: true))];

    /// <summary>All prompts at once through the engine (<paramref name="finalOnly"/>: each reading only its final update); generated tokens per second of wall time.</summary>
    private static async Task<double> OursAsync(LanguageModel model, int[][] prompts, int tokens, bool finalOnly, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        int[] generated = await Task.WhenAll(prompts.Select(async prompt =>
        {
            int count = 0;
            await foreach (GenerationUpdate update in model.GenerateAsync(new GenerationRequest(prompt, tokens, Temperature: 0) { FinalOnly = finalOnly }, cancellationToken))
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

    /// <summary>Adds up proposed and accepted tokens (engine thread writes, the command reads between runs).</summary>
    private sealed class AcceptanceCounter : IEngineListener
    {
        private long _proposed;
        private long _accepted;

        public long Proposed => Interlocked.Read(ref _proposed);

        public long Accepted => Interlocked.Read(ref _accepted);

        public void ProposalsVerified(int proposed, int accepted)
        {
            Interlocked.Add(ref _proposed, proposed);
            Interlocked.Add(ref _accepted, accepted);
        }

        public void Reset()
        {
            Interlocked.Exchange(ref _proposed, 0);
            Interlocked.Exchange(ref _accepted, 0);
        }
    }
}
