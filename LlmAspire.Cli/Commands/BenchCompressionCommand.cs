using System.CommandLine;
using System.Globalization;
using LlmAspire.Cli.Benchmarking;
using LlmAspire.Cli.Errors;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.Calibration;
using LlmAspire.Inference.Models.Pruning;

namespace LlmAspire.Cli.Commands;

/// <summary>
/// <c>bench compression</c>: one run, one table for every way of making a float32 folder smaller — quantization
/// (int8, int4 round-to-nearest, AWQ, GPTQ), structured pruning (layers, FFN channels, key/value groups) and pruning
/// followed by quantization — with size, decode speed at 1 and N streams, prefill speed and quality against float32
/// (<see cref="CompressionBench"/>), and optionally the size-against-KL plot that shows where compression stops paying.
/// </summary>
internal static class BenchCompressionCommand
{
    /// <summary>
    /// Variants measured when --variants is not given: the rows (int8, int4 RTN, AWQ and GPTQ; each pruning
    /// alone; pruned then int8/int4) and two cuts deep enough to show over-compression.
    /// </summary>
    public const string DefaultVariants =
        "int8-b32-asym-acc4,int4-b32-asym-acc4,int4-b32-asym-acc4-awq,int4-b32-asym-acc4-gptq," +
        "prune-d1,prune-f75,prune-h50,prune-d1-f75,prune-d2-f50," +
        "prune-d1+int8-b32-asym-acc4,prune-d1-f75+int8-b32-asym-acc4,prune-d1-f75+int4-b32-asym-acc4-gptq,prune-d2-f50+int4-b32-asym-acc4";

    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "float32 model folder (written by 'model convert' or 'model create-demo')", Required = true };
        var variants = new Option<string>("--variants")
        {
            Description = "Comma-separated variants besides fp32: quantizations as in 'bench quantization' (int4-b32-asym-acc4[-awq|-gptq]), " +
                "prunings prune-[d<layers dropped>][-f<ffn % kept>][-h<heads % kept>] (prune-d1-f75), and prune-...+<quantization> (prune first, then quantize)",
            DefaultValueFactory = _ => DefaultVariants,
        }.MustParse(text => CompressionVariant.ParseList(text));
        var tokens = new Option<int>("--tokens") { Description = "Decode steps timed per variant and round, 1 stream; also the tokens of each of --streams", DefaultValueFactory = _ => 64 }.AtLeast(1);
        var rounds = new Option<int>("--rounds") { Description = "Timed rounds, the variants taking turns", DefaultValueFactory = _ => 5 }.AtLeast(1);
        var streams = new Option<int>("--streams") { Description = "Concurrent greedy streams through the engine for the batched decode column (0: leave it out)", DefaultValueFactory = _ => 16 }.AtLeast(0);
        var prefillTokens = new Option<int>("--prefill-tokens") { Description = "Prompt tokens of the prefill column, one forward pass (0: leave it out; at most the context less one)", DefaultValueFactory = _ => 256 }.AtLeast(0);
        var agreementTokens = new Option<int>("--agreement-tokens") { Description = "Greedy tokens per prompt for agreement", DefaultValueFactory = _ => 32 }.AtLeast(1);
        var calibration = new Option<FileInfo?>("--calibration") { Description = "Calibration text of the prunings and the -awq/-gptq variants (default: the built-in sample; never the text measured on)" };
        var work = new Option<DirectoryInfo?>("--work") { Description = "Where the variants' folders go (default: a temp folder, removed afterwards)" };
        var markdown = new Option<FileInfo?>("--markdown") { Description = "Also write the table to this file" };
        var plot = new Option<FileInfo?>("--plot") { Description = "Also write an SVG scatter of size (% of fp32) against mean KL (log), one point per variant" };
        var command = new Command("compression", "Compare fp32 with quantized, pruned and pruned-then-quantized variants in one table: size, decode and prefill tokens/s, agreement, KL.")
        {
            model, variants, tokens, rounds, streams, prefillTokens, agreementTokens, calibration, work, markdown, plot,
        };
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            IReadOnlyList<CompressionVariant> chosen = CompressionVariant.ParseList(parse.GetRequiredValue(variants));
            string source = CommandPaths.ModelFolder(parse.GetRequiredValue(model), "--model");
            string? calibrationFile = parse.GetValue(calibration) is { } file
                ? CommandPaths.ExistingFile(file, "calibration file", "pass --calibration a UTF-8 text file")
                : null;
            if (calibrationFile is not null)
            {
                _ = CalibrationText.ReadFile(calibrationFile);
            }

            CheckPrunings(source, chosen);
            var settings = new CompressionSettings(
                parse.GetValue(tokens), parse.GetValue(rounds), parse.GetValue(agreementTokens), parse.GetValue(streams), parse.GetValue(prefillTokens), calibrationFile);
            await RunInWorkFolderAsync(source, chosen, settings, parse.GetValue(work), parse.GetValue(markdown), parse.GetValue(plot), parse.InvocationConfiguration, cancellationToken);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>
    /// Runs <see cref="CompressionBench"/> with the folders under <paramref name="work"/> (or a temp folder removed
    /// afterwards) and writes the table (and the plot) where asked; every output path is checked before anything runs.
    /// </summary>
    internal static async Task RunInWorkFolderAsync(
        string source, IReadOnlyList<CompressionVariant> variants, CompressionSettings settings, DirectoryInfo? work, FileInfo? markdown, FileInfo? plot,
        InvocationConfiguration console, CancellationToken cancellationToken)
    {
        string root = work is null
            ? Path.Combine(Path.GetTempPath(), "llmaspire-bench-" + Guid.NewGuid().ToString("N"))
            : CommandPaths.WritableFolder(work, "--work");
        string? markdownFile = markdown is null ? null : CommandPaths.WritableFile(markdown, "--markdown");
        string? plotFile = plot is null ? null : CommandPaths.WritableFile(plot, "--plot");
        try
        {
            (string table, IReadOnlyList<CompressionRow> rows) = await CompressionBench.RunAsync(source, variants, root, settings, console.Output, console.Error, cancellationToken);
            if (markdownFile is not null)
            {
                File.WriteAllText(markdownFile, table);
            }

            if (plotFile is not null)
            {
                string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(source));
                SizeKlPlot.Write(plotFile, $"{name}: size against KL from fp32", [.. rows.Select(r => (r.Name, 100.0 * r.Bytes / rows[0].Bytes, r.MeanKl))]);
            }
        }
        finally
        {
            if (work is null && Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    /// <summary>Refuses, before anything is written, a pruning the model cannot take (naming the variant), or pruning a folder our builder did not write.</summary>
    private static void CheckPrunings(string source, IReadOnlyList<CompressionVariant> variants)
    {
        CompressionVariant[] prunings = [.. variants.Where(v => v.Prune is not null)];
        if (prunings.Length == 0)
        {
            return;
        }

        LlamaFolderReader.CheckWrittenByBuilder(source);
        (LlamaConfig config, _) = ModelFolder.ReadConfig(source);
        foreach (CompressionVariant variant in prunings)
        {
            if (variant.Prune!.Problem(config) is { } problem)
            {
                throw UserErrorException.Usage(string.Create(CultureInfo.InvariantCulture, $"--variants {variant.Name}: {problem}"));
            }
        }
    }
}
