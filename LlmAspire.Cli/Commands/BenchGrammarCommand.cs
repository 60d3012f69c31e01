using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using LlmAspire.Cli.Benchmarking;
using LlmAspire.Cli.Errors;
using LlmAspire.Inference;
using LlmAspire.Inference.Constraints;
using LlmAspire.Inference.Engine;

namespace LlmAspire.Cli.Commands;

/// <summary>
/// <c>bench grammar</c>: what constrained decoding costs. (1) The token mask of one sequence-step on a vocabulary of
/// Llama 2's size (<see cref="SyntheticVocabulary"/>), per schema: compile time, the warm-up walks that build the
/// mask tables, and then the steady-state median, p90 and max of <see cref="GrammarMatcher.FillMask"/>, over random
/// walks that pick among the allowed tokens. (2) With <c>--model</c>, decode tokens/s of 16 concurrent sequences
/// constrained by a JSON Schema against the same 16 unconstrained, alternating, repeated.
/// </summary>
internal static class BenchGrammarCommand
{
    /// <summary>The schemas measured: a flat object, a nested one with arrays and enums, any JSON object, and a regex.</summary>
    internal static readonly (string Name, OutputConstraint Constraint)[] Constraints =
    [
        ("person (flat object, bounded)", OutputConstraint.JsonSchema("""
            {"type":"object","properties":{"name":{"type":"string","maxLength":40},"age":{"type":"integer","minimum":0,"maximum":150},
             "email":{"type":"string","format":"email"},"active":{"type":"boolean"}},"required":["name","age","active"],"additionalProperties":false}
            """)),
        ("order (nested, arrays, enums)", OutputConstraint.JsonSchema("""
            {"type":"object","properties":{"id":{"type":"string","format":"uuid"},"status":{"enum":["pending","paid","shipped","cancelled"]},
             "items":{"type":"array","minItems":1,"maxItems":5,"items":{"type":"object","properties":{"sku":{"type":"string","pattern":"^[A-Z]{3}-\\d{4}$"},
               "qty":{"type":"integer","minimum":1,"maximum":99},"note":{"type":["string","null"],"maxLength":60}},"required":["sku","qty"],"additionalProperties":false}},
             "customer":{"$ref":"#/$defs/customer"}},"required":["id","status","items","customer"],"additionalProperties":false,
             "$defs":{"customer":{"type":"object","properties":{"name":{"type":"string"},"vip":{"type":"boolean"}},"required":["name"],"additionalProperties":false}}}
            """)),
        ("json_object (any object)", OutputConstraint.JsonObject()),
        ("regex (phone-like)", OutputConstraint.Regex(@"\(\d{3}\) \d{3}-\d{4}")),
    ];

    /// <summary>The schema of the throughput run: an array of at least 50 small objects, longer than any budget.</summary>
    internal const string ThroughputSchema = """
        {"type":"array","minItems":50,"items":{"type":"object","properties":{"name":{"type":"string","maxLength":12},
         "age":{"type":"integer","minimum":0,"maximum":120},"mood":{"enum":["happy","sad","sleepy"]}},"required":["name","age","mood"],"additionalProperties":false}}
        """;

    public static Command Create()
    {
        var vocab = new Option<int>("--vocab") { Description = "Synthetic vocabulary size", DefaultValueFactory = _ => 32000 }.AtLeast(1024);
        var walks = new Option<int>("--walks") { Description = "Random walks per constraint after the warm-up walk", DefaultValueFactory = _ => 20 }.AtLeast(1);
        var steps = new Option<int>("--steps") { Description = "Most tokens per walk", DefaultValueFactory = _ => 200 }.AtLeast(1);
        var model = new Option<DirectoryInfo?>("--model") { Description = "Model folder for the throughput comparison (e.g. stories260K); omitted: masks only" };
        var streams = new Option<int>("--streams") { Description = "Concurrent sequences in the throughput comparison", DefaultValueFactory = _ => 16 }.AtLeast(1);
        var maxTokens = new Option<int>("--max-tokens") { Description = "Tokens per sequence in the throughput comparison", DefaultValueFactory = _ => 128 }.AtLeast(1);
        var rounds = new Option<int>("--rounds") { Description = "Alternating free/constrained rounds", DefaultValueFactory = _ => 5 }.AtLeast(1);
        var command = new Command("grammar", "Cost of constrained decoding: token-mask time per step on a 32k vocabulary, and constrained vs free tokens/s.")
        {
            vocab, walks, steps, model, streams, maxTokens, rounds,
        };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            TextWriter stdout = parse.InvocationConfiguration.Output;
            MaskCost(stdout, parse.GetValue(vocab), parse.GetValue(walks), parse.GetValue(steps));
            if (parse.GetValue(model) is { } folder)
            {
                await ThroughputAsync(stdout, CommandPaths.ModelFolder(folder, "--model"), parse.GetValue(streams), parse.GetValue(maxTokens), parse.GetValue(rounds), cancellationToken);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static void MaskCost(TextWriter stdout, int size, int walks, int steps)
    {
        var stopwatch = Stopwatch.StartNew();
        var tokenizer = new SyntheticVocabulary(size);
        TokenVocabulary vocabulary = TokenVocabulary.For(tokenizer);
        stdout.WriteLine($"vocabulary: {vocabulary.Size} tokens (synthetic, longest {vocabulary.MaxTokenBytes} bytes), built in {stopwatch.Elapsed.TotalMilliseconds:F0} ms; {Environment.ProcessorCount} cores");
        stdout.WriteLine("constraint | compile ms | warm-up walks | warm-up ms (builds tables) | node tables | steps | mask µs median | p90 | max");
        stdout.WriteLine("---------- | ---------: | ------------: | -------------------------: | ----------: | ----: | -------------: | --: | --:");
        ulong[] mask = new ulong[vocabulary.MaskWords];
        foreach ((string name, OutputConstraint constraint) in Constraints)
        {
            stopwatch.Restart();
            var grammar = new CompiledGrammar(constraint.ToGrammar(), vocabulary);
            double compileMs = stopwatch.Elapsed.TotalMilliseconds;
            var random = new Random(42);
            // Warm up until three walks in a row build no new table: a served schema is compiled once and reused.
            stopwatch.Restart();
            int warmups = 0, quiet = 0;
            while (quiet < 3 && warmups < 500)
            {
                int before = grammar.MaskTablesBuilt;
                Walk(grammar, mask, random, steps, null);
                quiet = grammar.MaskTablesBuilt == before ? quiet + 1 : 0;
                warmups++;
            }

            double warmMs = stopwatch.Elapsed.TotalMilliseconds;
            var times = new List<double>();
            for (int w = 0; w < walks; w++)
            {
                Walk(grammar, mask, random, steps, times);
            }

            times.Sort();
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name} | {compileMs:F1} | {warmups} | {warmMs:F0} | {grammar.MaskTablesBuilt} | {times.Count} | {Percentile(times, 0.5):F1} | {Percentile(times, 0.9):F1} | {times[^1]:F0}"));
        }
    }

    /// <summary>A random walk through the grammar; each FillMask's time in µs goes to <paramref name="times"/>.</summary>
    private static void Walk(CompiledGrammar grammar, ulong[] mask, Random random, int steps, List<double>? times)
    {
        GrammarMatcher matcher = grammar.CreateMatcher();
        var allowed = new List<int>();
        for (int step = 0; step < steps; step++)
        {
            long start = Stopwatch.GetTimestamp();
            matcher.FillMask(mask);
            times?.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
            allowed.Clear();
            for (int w = 0; w < mask.Length; w++)
            {
                ulong bits = mask[w];
                while (bits != 0)
                {
                    allowed.Add(w * 64 + System.Numerics.BitOperations.TrailingZeroCount(bits));
                    bits &= bits - 1;
                }
            }

            // End as soon as the grammar allows it half of the time, so walks cover both short and long outputs.
            int end = grammar.Vocabulary.EndIds[0];
            int pick = allowed.Contains(end) && (allowed.Count == 1 || random.Next(2) == 0) ? end : allowed.Where(a => a != end).ElementAt(random.Next(allowed.Count - (allowed.Contains(end) ? 1 : 0)));
            matcher.Accept(pick);
            if (matcher.IsTerminated)
            {
                return;
            }
        }
    }

    private static async Task ThroughputAsync(TextWriter stdout, string folder, int streams, int tokens, int rounds, CancellationToken cancellationToken)
    {
        using LanguageModel model = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu, new EngineOptions { MaxSequences = streams });
        CompiledGrammar grammar = model.Grammars.Get(OutputConstraint.JsonSchema(ThroughputSchema));
        var noEnd = model.EndTokenIds.ToDictionary(id => id, _ => -100f);
        int[] prompt = model.Tokenizer.Encode("Tom and his friends", addBos: true);
        GenerationRequest Request(int i, bool constrained) =>
            new(prompt, tokens, Temperature: 1f, Seed: i) { LogitBias = noEnd, Grammar = constrained ? grammar : null };

        async Task<double> RunAsync(bool constrained)
        {
            var stopwatch = Stopwatch.StartNew();
            int[] counts = await Task.WhenAll(Enumerable.Range(0, streams).Select(async i =>
            {
                int count = 0;
                await foreach (GenerationUpdate update in model.GenerateAsync(Request(i, constrained), cancellationToken))
                {
                    count = update.CompletionTokens;
                }

                return count;
            }));
            return counts.Sum() / stopwatch.Elapsed.TotalSeconds;
        }

        await RunAsync(false); // warm-up, and the grammar's tables
        await RunAsync(true);
        var free = new List<double>();
        var constrained = new List<double>();
        for (int r = 0; r < rounds; r++)
        {
            // Alternate which goes first.
            if (r % 2 == 0)
            {
                free.Add(await RunAsync(false));
                constrained.Add(await RunAsync(true));
            }
            else
            {
                constrained.Add(await RunAsync(true));
                free.Add(await RunAsync(false));
            }
        }

        free.Sort();
        constrained.Sort();
        double ratio = Percentile(constrained, 0.5) / Percentile(free, 0.5);
        stdout.WriteLine();
        stdout.WriteLine($"model {model.Id} (vocab {model.VocabularySize}): {streams} concurrent sequences × {tokens} tokens, temperature 1, {rounds} alternating rounds");
        stdout.WriteLine("setup | tok/s median | min | max");
        stdout.WriteLine("----- | -----------: | --: | --:");
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"free | {Percentile(free, 0.5):F0} | {free[0]:F0} | {free[^1]:F0}"));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"JSON Schema (array of ≥ 50 objects) | {Percentile(constrained, 0.5):F0} | {constrained[0]:F0} | {constrained[^1]:F0}"));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"constrained / free: {ratio:P0}"));
    }

    private static double Percentile(List<double> sorted, double q) => sorted[Math.Min(sorted.Count - 1, (int)(q * sorted.Count))];
}
