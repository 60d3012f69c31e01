using System.CommandLine;
using System.Diagnostics;
using LlmAspire.Cli.Errors;
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
        var force = new Option<bool>("--force") { Description = "Replace --out if it exists" };
        var command = new Command("quantize", "Quantize a model folder: int4/int8 MatMulNBits weights, and/or float16 for the GPU.")
        {
            input, output, bits, blockSize, symmetric, lmHead, accuracy, dtype, force,
        };
        command.Validators.Add(result =>
        {
            if (result.GetResult(bits) is null && result.GetValue(dtype) is null or "fp32")
            {
                result.AddError("nothing to do: give --bits 4|8, --dtype fp16, or both");
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

            string outPath = CommandPaths.WritableFolder(outDir, "--out");
            var stopwatch = Stopwatch.StartNew();
            QuantizationManifest manifest = ModelQuantizer.QuantizeFolder(inDir, outPath, options, parse.GetValue(force));
            stdout.WriteLine(
                $"wrote {outPath} ({options.Describe()}) in {stopwatch.ElapsedMilliseconds} ms: {manifest.QuantizedMatMuls} MatMuls quantized, " +
                $"model {manifest.SourceBytes:N0} -> {manifest.Bytes:N0} bytes ({100.0 * manifest.Bytes / manifest.SourceBytes:F1} %)");
            foreach (string kept in manifest.KeptMatMuls)
            {
                stdout.WriteLine($"  kept {kept}");
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
