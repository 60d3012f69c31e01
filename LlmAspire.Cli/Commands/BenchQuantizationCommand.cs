using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using LlmAspire.Cli.Errors;
using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.Calibration;
using LlmAspire.Inference.Models.Quantization;
using Microsoft.ML.OnnxRuntime;

namespace LlmAspire.Cli.Commands;

/// <summary>
/// <c>bench quantization</c>: quantizes one float32 folder into several variants and measures, in one process,
/// size, decode speed and quality against float32.
/// <list type="bullet">
/// <item>decode tokens/s: one stream, greedy, the first prompt prefilled, then <c>--tokens</c> single-token steps
/// timed one by one (prefill excluded); every variant is warmed up once, then the variants take turns for
/// <c>--rounds</c> rounds. Reported: 1 / the median step time over all rounds, which a busy shared machine's bursts
/// move less than a mean, and 1 / the 10th percentile (the steps least disturbed); the speed-up is the ratio of
/// median step times.</item>
/// <item>greedy prefix agreement: for each fixed prompt both models generate <c>--agreement-tokens</c> tokens
/// greedily (EOS not special); the share of tokens equal before the first divergence, averaged over prompts.</item>
/// <item>teacher-forced top-1: the quantized model reads the prompt and float32's greedy continuation in one pass;
/// the share of continuation positions where its argmax is float32's token.</item>
/// <item>mean KL(fp32 || quantized) in nats per token over a fixed text read with teacher forcing, and each model's
/// perplexity on that text.</item>
/// </list>
/// </summary>
internal static class BenchQuantizationCommand
{
    /// <summary>Variants measured when --variants is not given.</summary>
    public const string DefaultVariants =
        "int8-b32-asym-acc0,int8-b32-asym-acc4,int8-b32-sym-acc4,int8-b128-sym-acc4,int8-b32-asym-acc4-head," +
        "int4-b32-asym-acc0,int4-b32-asym-acc4,int4-b32-sym-acc4,int4-b128-sym-acc4,int4-b32-asym-acc4-head,fp16";

    /// <summary>Round-to-nearest against the calibrated methods at int4 and int8 (<c>--variants calibrated</c>).</summary>
    public const string CalibratedVariants =
        "int4-b32-asym-acc4,int4-b32-asym-acc4-awq,int4-b32-asym-acc4-gptq,int8-b32-asym-acc4,int8-b32-asym-acc4-awq,int8-b32-asym-acc4-gptq";

    private static readonly string[] Prompts =
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

    private const string FixedText =
        "Once upon a time, there was a little boy named Tim. Tim had a red ball that he loved very much. " +
        "Every day he went to the park with his mom to play. One day, the ball rolled under a big tree. " +
        "Tim was sad because he could not reach it. A kind dog came and pushed the ball back to Tim. " +
        "Tim smiled and said, \"Thank you, dog!\" They played together until the sun went down, and then Tim went home happy.";

    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "float32 model folder", Required = true };
        var variants = new Option<string>("--variants")
        {
            Description = "Comma-separated quantizations to compare with fp32, named int{4|8}-b{block}-{sym|asym}[-acc{level}][-head][-awq|-gptq][-fp16]; 'calibrated' compares rtn, awq and gptq at int4 and int8",
            DefaultValueFactory = _ => DefaultVariants,
        }.MustParse(text => ParseVariants(text));
        var tokens = new Option<int>("--tokens") { Description = "Decode steps timed per variant and round", DefaultValueFactory = _ => 64 }.AtLeast(1);
        var rounds = new Option<int>("--rounds") { Description = "Timed rounds, the variants taking turns", DefaultValueFactory = _ => 7 }.AtLeast(1);
        var agreementTokens = new Option<int>("--agreement-tokens") { Description = "Greedy tokens per prompt for agreement", DefaultValueFactory = _ => 32 }.AtLeast(1);
        var work = new Option<DirectoryInfo?>("--work") { Description = "Where the quantized folders go (default: a temp folder, removed afterwards)" };
        var markdown = new Option<FileInfo?>("--markdown") { Description = "Also write the table to this file" };
        var calibration = new Option<FileInfo?>("--calibration") { Description = "Calibration text of the -awq and -gptq variants (default: the built-in sample; never the text measured on)" };
        var command = new Command("quantization", "Compare fp32 with int8/int4 variants: size, decode tokens/s, greedy agreement, KL divergence.")
        {
            model, variants, tokens, rounds, agreementTokens, work, markdown, calibration,
        };
        command.SetGuardedAction(parse =>
        {
            string? calibrationFile = parse.GetValue(calibration)?.FullName;
            if (calibrationFile is not null)
            {
                _ = CalibrationText.ReadFile(calibrationFile);
            }

            QuantizationOptions[] chosen = [.. ParseVariants(parse.GetRequiredValue(variants))
                .Select(o => o.Method == QuantizationMethod.Rtn ? o : o with { CalibrationFile = calibrationFile })];
            string source = CommandPaths.ModelFolder(parse.GetRequiredValue(model), "--model");
            DirectoryInfo? workDir = parse.GetValue(work);
            string root = workDir is null
                ? Path.Combine(Path.GetTempPath(), "llmaspire-bench-" + Guid.NewGuid().ToString("N"))
                : CommandPaths.WritableFolder(workDir, "--work");
            string? markdownFile = parse.GetValue(markdown) is { } file ? CommandPaths.WritableFile(file, "--markdown") : null;
            try
            {
                string table = Run(
                    source, chosen, root, parse.GetValue(tokens), parse.GetValue(rounds), parse.GetValue(agreementTokens),
                    parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
                if (markdownFile is not null)
                {
                    File.WriteAllText(markdownFile, table);
                }

                return ExitCodes.Success;
            }
            finally
            {
                if (workDir is null && Directory.Exists(root))
                {
                    Directory.Delete(root, recursive: true);
                }
            }
        });
        return command;
    }

    /// <summary>Parses a comma-separated --variants list; throws <see cref="FormatException"/> or <see cref="ArgumentException"/> naming the bad one.</summary>
    private static QuantizationOptions[] ParseVariants(string text)
    {
        if (text.Trim() == "calibrated")
        {
            text = CalibratedVariants;
        }

        QuantizationOptions[] variants = [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(QuantizationOptions.Parse)];
        return variants.Length > 0 ? variants : throw new FormatException("name at least one variant, e.g. int8-b32-asym-acc4,int4-b32-sym-acc4");
    }

    private static string Run(string source, QuantizationOptions[] variants, string root, int decodeTokens, int rounds, int agreementTokens, TextWriter output, TextWriter log)
    {
        log.WriteLine($"machine: {MachineDescription()}");
        var entries = new List<Entry> { new("fp32", source, null) };
        foreach (QuantizationOptions options in variants)
        {
            string folder = Path.Combine(root, options.Describe());
            var stopwatch = Stopwatch.StartNew();
            ModelQuantizer.QuantizeFolder(source, folder, options, overwrite: true);
            log.WriteLine($"quantized {options.Describe()} in {stopwatch.ElapsedMilliseconds} ms");
            entries.Add(new Entry(options.Describe(), folder, options));
        }

        foreach (Entry entry in entries)
        {
            entry.Model = LanguageModel.Load(entry.Folder, ExecutionProviderPreference.Cpu);
            entry.Bytes = OnnxModelFile.SizeOnDisk(Path.Combine(entry.Folder, ModelFolder.ModelFile));
        }

        try
        {
            LanguageModel reference = entries[0].Model!;
            int[] speedPrompt = reference.Tokenizer.Encode(Prompts[0], addBos: true);
            foreach (Entry entry in entries)
            {
                DecodeStepSeconds(entry.Model!.Decoder, speedPrompt, Math.Min(decodeTokens, 8));
            }

            for (int r = 0; r < rounds; r++)
            {
                foreach (Entry entry in entries)
                {
                    double[] steps = DecodeStepSeconds(entry.Model!.Decoder, speedPrompt, decodeTokens);
                    entry.StepSeconds.AddRange(steps);
                    entry.Speeds.Add(steps.Length / steps.Sum());
                }

                log.WriteLine($"round {r + 1}/{rounds}: " + string.Join(", ", entries.Select(e => $"{e.Name} {e.Speeds[^1]:F1}")));
            }

            // Quality: greedy continuations of the prompts, and the fixed text with teacher forcing.
            int[][] prompts = [.. Prompts.Select(p => reference.Tokenizer.Encode(p, addBos: true))];
            int[][] referenceContinuations = [.. prompts.Select(p => Greedy(reference.Decoder, p, agreementTokens))];
            int[] text = reference.Tokenizer.Encode(FixedText, addBos: true);
            text = text[..Math.Min(text.Length, Math.Min(reference.Config.ContextLength, 512))];
            float[] referenceTextLogits = TeacherForced(reference.Decoder, text);
            int vocab = reference.Config.VocabSize;
            foreach (Entry entry in entries)
            {
                DecoderSession decoder = entry.Model!.Decoder;
                double prefix = 0, forced = 0;
                int whole = 0;
                for (int p = 0; p < prompts.Length; p++)
                {
                    int[] continuation = entry.Options is null ? referenceContinuations[p] : Greedy(decoder, prompts[p], agreementTokens);
                    int common = QuantizationMetrics.CommonPrefix(continuation, referenceContinuations[p]);
                    prefix += (double)common / agreementTokens;
                    whole += common == agreementTokens ? 1 : 0;
                    float[] logits = TeacherForced(decoder, [.. prompts[p], .. referenceContinuations[p]]);
                    int matches = 0;
                    for (int i = 0; i < agreementTokens; i++)
                    {
                        int position = prompts[p].Length - 1 + i;
                        matches += Sampler.ArgMax(logits.AsSpan(position * vocab, vocab)) == referenceContinuations[p][i] ? 1 : 0;
                    }

                    forced += (double)matches / agreementTokens;
                }

                entry.PrefixAgreement = prefix / prompts.Length;
                entry.WholePrompts = whole;
                entry.TeacherForcedAgreement = forced / prompts.Length;
                float[] textLogits = entry.Options is null ? referenceTextLogits : TeacherForced(decoder, text);
                double kl = 0, nll = 0;
                for (int t = 0; t < text.Length - 1; t++)
                {
                    kl += QuantizationMetrics.KlDivergence(referenceTextLogits.AsSpan(t * vocab, vocab), textLogits.AsSpan(t * vocab, vocab));
                    nll -= QuantizationMetrics.LogProbability(textLogits.AsSpan(t * vocab, vocab), text[t + 1]);
                }

                entry.MeanKl = kl / (text.Length - 1);
                entry.Perplexity = Math.Exp(nll / (text.Length - 1));
                log.WriteLine($"measured {entry.Name}");
            }

            string table = Table(entries, Path.GetFileName(Path.TrimEndingDirectorySeparator(source)), text.Length - 1, decodeTokens, rounds, agreementTokens);
            output.WriteLine(table);
            return table;
        }
        finally
        {
            foreach (Entry entry in entries)
            {
                entry.Model?.Dispose();
            }
        }
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

    private static int[] Greedy(DecoderSession decoder, int[] prompt, int count)
    {
        using DecoderState state = decoder.CreateState();
        int[] result = new int[count];
        int token = Sampler.ArgMax(decoder.Forward(state, prompt));
        for (int i = 0; i < count; i++)
        {
            result[i] = token;
            if (i + 1 < count)
            {
                token = Sampler.ArgMax(decoder.Forward(state, [token]));
            }
        }

        return result;
    }

    private static float[] TeacherForced(DecoderSession decoder, int[] tokens)
    {
        using DecoderState state = decoder.CreateState();
        return decoder.Forward(state, tokens, allPositions: true);
    }

    private static string Table(List<Entry> entries, string modelName, int textTokens, int decodeTokens, int rounds, int agreementTokens)
    {
        Entry baseline = entries[0];
        var sb = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        sb.AppendLine(c, $"{modelName}: {Prompts.Length} prompts x {agreementTokens} greedy tokens, KL over {textTokens} text tokens, decode {decodeTokens} tokens x {rounds} rounds");
        sb.AppendLine();
        sb.AppendLine("| variant | model bytes | % of fp32 | decode tok/s, median step (p10) | × fp32 | greedy prefix agreement | prompts kept whole | teacher-forced top-1 | mean KL (nats/token) | perplexity |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (Entry e in entries)
        {
            sb.AppendLine(c, $"| {e.Name} | {e.Bytes:N0} | {100.0 * e.Bytes / baseline.Bytes:F1} % | {1 / Median(e.StepSeconds):F1} ({1 / Percentile(e.StepSeconds, 0.1):F1}) | {Median(baseline.StepSeconds) / Median(e.StepSeconds):F2} | {e.PrefixAgreement:P1} | {e.WholePrompts}/{Prompts.Length} | {e.TeacherForcedAgreement:P1} | {e.MeanKl:G3} | {e.Perplexity:F3} |");
        }

        return sb.ToString();
    }

    private static double Median(List<double> values) => Percentile(values, 0.5);

    /// <summary>The <paramref name="fraction"/> quantile, interpolating linearly between ranks.</summary>
    private static double Percentile(List<double> values, double fraction)
    {
        double[] sorted = [.. values.Order()];
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        double rank = fraction * (sorted.Length - 1);
        int low = (int)Math.Floor(rank), high = (int)Math.Ceiling(rank);
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
    }

    private static string MachineDescription()
    {
        string cpu = "unknown CPU";
        if (File.Exists("/proc/cpuinfo"))
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        }

        return $"{cpu}, {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, ONNX Runtime {OrtEnv.Instance().GetVersionString()} (CPU provider)";
    }

    private sealed class Entry(string name, string folder, QuantizationOptions? options)
    {
        public string Name { get; } = name;

        public string Folder { get; } = folder;

        public QuantizationOptions? Options { get; } = options;

        public LanguageModel? Model { get; set; }

        public long Bytes { get; set; }

        public List<double> Speeds { get; } = [];

        public List<double> StepSeconds { get; } = [];

        public double PrefixAgreement { get; set; }

        public int WholePrompts { get; set; }

        public double TeacherForcedAgreement { get; set; }

        public double MeanKl { get; set; }

        public double Perplexity { get; set; }
    }
}
