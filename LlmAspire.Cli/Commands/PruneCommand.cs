using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using LlmAspire.Cli.Errors;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.Calibration;
using LlmAspire.Inference.Models.Pruning;

namespace LlmAspire.Cli.Commands;

/// <summary>
/// <c>model prune</c>: structured pruning of a float32 folder. Whole layers go by Block Influence, feed-forward channels
/// and key/value head groups by their activation-weighted importance over calibration text; the result is a smaller
/// ordinary folder (quantize it afterwards if wanted). Every check of the options against the model runs before
/// anything is written.
/// </summary>
internal static class PruneCommand
{
    public static Command Create()
    {
        var input = new Option<DirectoryInfo>("--in") { Description = "float32 model folder to read (written by 'model convert' or 'model create-demo')", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "Model folder to write", Required = true };
        var dropLayers = new Option<int>("--drop-layers") { Description = "Decoder layers to remove: those whose output turns the residual stream least (ShortGPT's Block Influence)" }.AtLeast(0);
        var ffnKeep = new Option<double>("--ffn-keep")
        {
            Description = "Share of feed-forward channels each layer keeps, in (0, 1], rounded to a multiple of 8: those with the largest ‖activation‖ × ‖down_proj column‖",
            DefaultValueFactory = _ => 1,
        }.Within(0, 1);
        var headsKeep = new Option<double>("--heads-keep")
        {
            Description = "Share of attention heads each layer keeps, in (0, 1], in whole key/value groups: those adding the most through o_proj",
            DefaultValueFactory = _ => 1,
        }.Within(0, 1);
        var calibration = new Option<FileInfo?>("--calibration") { Description = "UTF-8 text to calibrate on, documents separated by blank lines (default: a built-in sample of short stories)" };
        var force = new Option<bool>("--force") { Description = "Replace --out if it exists" };
        var command = new Command("prune", "Prune a model folder: drop whole layers, feed-forward channels or key/value head groups chosen over calibration text.")
        {
            input, output, dropLayers, ffnKeep, headsKeep, calibration, force,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(dropLayers) == 0 && result.GetValue(ffnKeep) == 1 && result.GetValue(headsKeep) == 1)
            {
                result.AddError("nothing to do: give --drop-layers N, --ffn-keep R or --heads-keep R");
            }
        });
        command.SetGuardedAction(parse =>
        {
            TextWriter stdout = parse.InvocationConfiguration.Output;
            var options = new PruningOptions { DropLayers = parse.GetValue(dropLayers), FfnKeep = parse.GetValue(ffnKeep), HeadsKeep = parse.GetValue(headsKeep) };
            string inDir = CommandPaths.ModelFolder(parse.GetRequiredValue(input), "--in");
            DirectoryInfo outDir = parse.GetRequiredValue(output);
            if (string.Equals(Path.TrimEndingDirectorySeparator(inDir), Path.TrimEndingDirectorySeparator(outDir.FullName), StringComparison.Ordinal))
            {
                throw UserErrorException.Usage($"--out {outDir.FullName} is the --in folder; pass --out a new folder");
            }

            if (outDir.Exists && outDir.EnumerateFileSystemInfos().Any() && !parse.GetValue(force))
            {
                throw UserErrorException.Usage($"output folder {outDir.FullName} exists and is not empty; pass --force to replace it, or another --out");
            }

            LlamaFolderReader.CheckWrittenByBuilder(inDir);
            (LlamaConfig config, _) = ModelFolder.ReadConfig(inDir);
            if (options.Problem(config) is { } problem)
            {
                throw UserErrorException.Usage(problem);
            }

            string? calibrationFile = parse.GetValue(calibration) is { } file
                ? CommandPaths.ExistingFile(file, "calibration file", "pass --calibration a UTF-8 text file")
                : null;
            if (calibrationFile is not null)
            {
                CalibrationText.ReadFile(calibrationFile);
            }

            string outPath = CommandPaths.WritableFolder(outDir, "--out");
            var stopwatch = Stopwatch.StartNew();
            PruningManifest manifest = ModelPruner.PruneFolder(inDir, outPath, options, calibrationFile, parse.GetValue(force));
            var c = CultureInfo.InvariantCulture;
            stdout.WriteLine(string.Create(
                c,
                $"wrote {outPath} in {stopwatch.ElapsedMilliseconds} ms: layers {manifest.Layers.Before} -> {manifest.Layers.After}, ffn {manifest.Ffn.Before} -> {manifest.Ffn.After}, " +
                $"heads {manifest.Heads.Before} -> {manifest.Heads.After} (kv {manifest.KvHeads.Before} -> {manifest.KvHeads.After}), " +
                $"model {manifest.SourceBytes:N0} -> {manifest.Bytes:N0} bytes ({100.0 * manifest.Bytes / manifest.SourceBytes:F1} %)"));
            stdout.WriteLine(string.Create(
                c,
                $"  calibration: {manifest.Calibration}, {manifest.CalibrationTokens} tokens; block influence per layer: {string.Join(", ", manifest.BlockInfluence.Select(b => b.ToString("F4", c)))}"));
            if (manifest.DroppedLayers.Count > 0)
            {
                stdout.WriteLine($"  dropped layers: {string.Join(", ", manifest.DroppedLayers)}");
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
