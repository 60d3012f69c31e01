using System.CommandLine;
using System.Diagnostics;
using LlmAspire.Cli.Errors;
using LlmAspire.Inference.Models.Calibration;
using LlmAspire.Inference.Models.Quantization;

namespace LlmAspire.Cli.Commands;

/// <summary><c>model quantize</c>: block-wise weight-only quantization (MatMulNBits) and/or float16 conversion of a model folder.</summary>
internal static class QuantizeCommand
{
    public static Command Create()
    {
        var input = new Option<DirectoryInfo>("--in") { Description = "float32 model folder to read", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "Model folder to write", Required = true };
        var bits = new Option<int?>("--bits") { Description = "4 or 8: quantize every linear layer into MatMulNBits" };
        bits.AcceptOnlyFromAmong("4", "8");
        var blockSize = new Option<int>("--block-size")
        {
            Description = "Weights per scale along K: 16, 32, 64, 128 or 256",
            DefaultValueFactory = _ => QuantizationOptions.DefaultBlockSize,
        };
        blockSize.AcceptOnlyFromAmong("16", "32", "64", "128", "256");
        var symmetric = new Option<bool>("--symmetric") { Description = "No zero points (scale only)" };
        var lmHead = new Option<bool>("--quantize-lm-head") { Description = "Quantize the classifier too (kept in the source precision by default)" };
        var accuracy = new Option<int>("--accuracy-level")
        {
            Description = "MatMulNBits accuracy_level: 0 unset, 1 fp32, 2 fp16, 3 bf16, 4 int8 activations (the default: fastest on the CPU provider)",
            DefaultValueFactory = _ => QuantizationOptions.DefaultAccuracyLevel,
        };
        accuracy.AcceptOnlyFromAmong("0", "1", "2", "3", "4");
        var dtype = new Option<string>("--dtype")
        {
            Description = "fp32 keeps float32 compute; fp16 converts weights, activations and the KV cache to float16 for the GPU (logits stay float32)",
            DefaultValueFactory = _ => "fp32",
        };
        dtype.AcceptOnlyFromAmong("fp32", "fp16");
        var method = new Option<string>("--method")
        {
            Description = "How codes are chosen: rtn rounds to nearest (no calibration); awq scales activation-heavy channels; gptq compensates rounding errors; awq+gptq scales, then compensates (all calibrate on text)",
            DefaultValueFactory = _ => "rtn",
        };
        method.AcceptOnlyFromAmong("rtn", "awq", "gptq", "awq+gptq");
        var int8Percent = new Option<int>("--int8-percent")
        {
            Description = "With --bits 4 and gptq or awq+gptq: keep this percentage of the weights (the MatMuls with the largest 4-bit error) at 8 bits",
        };
        var calibration = new Option<FileInfo?>("--calibration")
        {
            Description = "UTF-8 text to calibrate awq/gptq on, paragraphs separated by blank lines (default: a built-in sample of short stories)",
        };
        var force = new Option<bool>("--force") { Description = "Replace --out if it exists" };
        var command = new Command("quantize", "Quantize a model folder: int4/int8 MatMulNBits weights (rounded to nearest, or calibrated with awq/gptq), and/or float16 for the GPU.")
        {
            input, output, bits, blockSize, symmetric, lmHead, accuracy, dtype, method, calibration, int8Percent, force,
        };
        command.Validators.Add(result =>
        {
            if (result.GetResult(bits) is null && result.GetValue(dtype) is null or "fp32")
            {
                result.AddError("nothing to do: give --bits 4|8, --dtype fp16, or both");
            }

            string? chosen = result.GetValue(method);
            if (chosen is "awq" or "gptq" or "awq+gptq" && result.GetResult(bits) is null)
            {
                result.AddError($"--method {chosen} quantizes weights: give --bits 4|8");
            }

            if (result.GetResult(calibration) is not null && chosen is null or "rtn")
            {
                result.AddError("--calibration is read by --method awq, gptq or awq+gptq; rtn uses no calibration text");
            }

            if (result.GetValue(int8Percent) is int share && share != 0
                && (share is < 0 or > 100 || result.GetValue(bits) != 4 || chosen is not ("gptq" or "awq+gptq")))
            {
                result.AddError("--int8-percent is a percentage (0 to 100) for --bits 4 with --method gptq or awq+gptq");
            }
        });
        command.SetGuardedAction(parse =>
        {
            TextWriter stdout = parse.InvocationConfiguration.Output;
            var options = new QuantizationOptions
            {
                Bits = parse.GetValue(bits),
                BlockSize = parse.GetValue(blockSize),
                Symmetric = parse.GetValue(symmetric),
                QuantizeLmHead = parse.GetValue(lmHead),
                AccuracyLevel = parse.GetValue(accuracy),
                Float16 = parse.GetValue(dtype) == "fp16",
                Method = QuantizationOptions.ParseMethod(parse.GetRequiredValue(method)),
                CalibrationFile = parse.GetValue(calibration)?.FullName,
                Int8Percent = parse.GetValue(int8Percent),
            };
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

            if (options.CalibrationFile is not null)
            {
                // Read now: a missing, empty or non-UTF-8 file is one line before anything is written.
                _ = CalibrationText.ReadFile(options.CalibrationFile);
            }

            string outPath = CommandPaths.WritableFolder(outDir, "--out");
            var stopwatch = Stopwatch.StartNew();
            QuantizationManifest manifest = ModelQuantizer.QuantizeFolder(inDir, outPath, options, parse.GetValue(force));
            stdout.WriteLine(
                $"wrote {outPath} ({options.Describe()}) in {stopwatch.ElapsedMilliseconds} ms: {manifest.QuantizedMatMuls} MatMuls quantized, " +
                $"model {manifest.SourceBytes:N0} -> {manifest.Bytes:N0} bytes ({100.0 * manifest.Bytes / manifest.SourceBytes:F1} %)");
            if (manifest.Calibration is not null)
            {
                stdout.WriteLine($"  calibrated on {manifest.Calibration} ({manifest.CalibrationTokens} tokens)");
            }

            foreach (string kept in manifest.KeptMatMuls)
            {
                stdout.WriteLine($"  kept {kept}");
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
