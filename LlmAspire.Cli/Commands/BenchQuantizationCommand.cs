using System.CommandLine;
using LlmAspire.Cli.Benchmarking;
using LlmAspire.Cli.Errors;
using LlmAspire.Inference.Models.Calibration;
using LlmAspire.Inference.Models.Quantization;

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
/// The measuring is <see cref="CompressionBench"/>'s, which <c>bench compression</c> shares (with pruned variants,
/// batched decode and prefill added); this command keeps its own options and its narrower table.
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
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            string? calibrationFile = parse.GetValue(calibration)?.FullName;
            if (calibrationFile is not null)
            {
                _ = CalibrationText.ReadFile(calibrationFile);
            }

            CompressionVariant[] chosen = [.. ParseVariants(parse.GetRequiredValue(variants)).Select(o => new CompressionVariant(o.Describe(), null, o))];
            string source = CommandPaths.ModelFolder(parse.GetRequiredValue(model), "--model");
            var settings = new CompressionSettings(parse.GetValue(tokens), parse.GetValue(rounds), parse.GetValue(agreementTokens), Streams: 0, PrefillTokens: 0, calibrationFile);
            await BenchCompressionCommand.RunInWorkFolderAsync(
                source, chosen, settings, parse.GetValue(work), parse.GetValue(markdown), plot: null, parse.InvocationConfiguration, cancellationToken);
            return ExitCodes.Success;
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
}
