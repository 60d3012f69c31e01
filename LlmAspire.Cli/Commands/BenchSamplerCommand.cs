using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using LlmAspire.Cli.Errors;
using LlmAspire.Inference.Engine;

namespace LlmAspire.Cli.Commands;

/// <summary>
/// <c>bench sampler</c>: what drawing one token costs on the engine thread, per sampling setting, on vocabularies of real
/// models' sizes (Llama 2's 32k, Llama 3's 128k, Qwen's 152k). Logits are drawn once per vocabulary from a normal
/// distribution (<c>--spread</c> its standard deviation: 3 is peaked like a trained model's, 0.5 nearly flat), 64 rows
/// of them, cycled; each setting is timed for <c>--seconds</c> after 64 warm-up draws, and its median over
/// <c>--rounds</c> rounds (min–max) printed. A sequence draws once per decode step, so at 16 streams a step pays this 16
/// times.
/// </summary>
internal static class BenchSamplerCommand
{
    /// <summary>The settings timed: greedy, temperature only, and each truncation an OpenAI or vLLM client sends.</summary>
    internal static readonly (string Name, Func<GenerationRequest, GenerationRequest> Apply)[] Settings =
    [
        ("greedy", r => r with { Temperature = 0 }),
        ("temperature 0.8", r => r),
        ("temperature 0.8, top_p 0.9", r => r with { TopP = 0.9f }),
        ("temperature 0.8, top_p 0.95", r => r with { TopP = 0.95f }),
        ("temperature 0.8, top_k 40", r => r with { TopK = 40 }),
        ("temperature 0.8, min_p 0.05", r => r with { MinP = 0.05f }),
        ("temperature 0.8, top_k 50, top_p 0.95", r => r with { TopK = 50, TopP = 0.95f }),
    ];

    public static Command Create()
    {
        var vocab = new Option<string>("--vocab") { Description = "Vocabulary sizes, comma-separated", DefaultValueFactory = _ => "32000,128256" }.MustParse(text => BenchEngineCommand.ParseStreams(text));
        var spread = new Option<double>("--spread") { Description = "Standard deviation of the logits (3: peaked like a trained model's; 0.5: nearly flat)", DefaultValueFactory = _ => 3 }.GreaterThan(0);
        var seconds = new Option<double>("--seconds") { Description = "Time per setting and round", DefaultValueFactory = _ => 0.5 }.GreaterThan(0);
        var rounds = new Option<int>("--rounds") { Description = "Rounds over all settings; the median is reported", DefaultValueFactory = _ => 5 }.AtLeast(1);
        var command = new Command("sampler", "Cost of drawing one token per sampling setting (greedy, temperature, top_p, top_k, min_p) on 32k-152k vocabularies.")
        {
            vocab, spread, seconds, rounds,
        };
        command.SetGuardedAction((parse, _) =>
        {
            Run(parse.InvocationConfiguration.Output, BenchEngineCommand.ParseStreams(parse.GetRequiredValue(vocab)), parse.GetValue(spread), parse.GetValue(seconds), parse.GetValue(rounds));
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static void Run(TextWriter stdout, int[] vocabularies, double spread, double seconds, int rounds)
    {
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"logits ~ normal(0, {spread}); {rounds} rounds of {seconds} s per setting; {Environment.ProcessorCount} cores"));
        stdout.WriteLine("vocabulary | setting | µs per token, median (min–max)");
        stdout.WriteLine("---------: | ------- | -----------------------------:");
        foreach (int size in vocabularies)
        {
            float[][] logits = Logits(size, spread);
            var times = new List<double>[Settings.Length];
            for (int round = 0; round < rounds; round++)
            {
                for (int s = 0; s < Settings.Length; s++)
                {
                    (times[s] ??= []).Add(Time(Settings[s].Apply(new GenerationRequest([1], 1, Temperature: 0.8f, Seed: round)), logits, seconds));
                }
            }

            for (int s = 0; s < Settings.Length; s++)
            {
                times[s].Sort();
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{size} | {Settings[s].Name} | {times[s][times[s].Count / 2]:F1} ({times[s][0]:F1}–{times[s][^1]:F1})"));
            }
        }
    }

    /// <summary>Microseconds per <see cref="Sampler.Sample"/> with a fresh sampler for <paramref name="request"/>.</summary>
    private static double Time(GenerationRequest request, float[][] logits, double seconds)
    {
        var sampler = new Sampler(request);
        for (int i = 0; i < logits.Length; i++)
        {
            sampler.Sample(logits[i]);
        }

        long budget = (long)(seconds * Stopwatch.Frequency);
        long start = Stopwatch.GetTimestamp();
        int draws = 0;
        while (Stopwatch.GetTimestamp() - start < budget)
        {
            sampler.Sample(logits[draws % logits.Length]);
            draws++;
        }

        return Stopwatch.GetElapsedTime(start).TotalMicroseconds / draws;
    }

    private static float[][] Logits(int size, double spread)
    {
        var random = new Random(size);
        var rows = new float[64][];
        for (int r = 0; r < rows.Length; r++)
        {
            rows[r] = new float[size];
            for (int i = 0; i < size; i++)
            {
                rows[r][i] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()) * spread);
            }
        }

        return rows;
    }
}
