using System.CommandLine;
using System.Diagnostics;
using LlmAspire.Cli.Errors;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.Gguf;
using LlmAspire.Inference.Models.Quantization;

namespace LlmAspire.Cli.Commands;

/// <summary><c>model convert</c>.</summary>
internal static class ModelCommands
{
    public static Command Create()
    {
        var checkpoint = new Option<FileInfo?>("--llama2c") { Description = "llama2.c checkpoint (.bin); needs --tokenizer" };
        var tokenizer = new Option<FileInfo?>("--tokenizer") { Description = "llama2.c tokenizer.bin" };
        var huggingFace = new Option<DirectoryInfo?>("--hf") { Description = "Hugging Face Llama-family folder (config.json + safetensors + tokenizer files)" };
        var gguf = new Option<FileInfo?>("--gguf") { Description = "GGUF file (llama.cpp's format: llama, qwen2, qwen3, phi3, gemma2)" };
        var quantize = new Option<string>("--quantize")
        {
            Description = "With --gguf: requantize the linear layers to MatMulNBits; auto picks the width nearest the file's (Q4_0/Q4_K/Q5_K: int4, Q6_K/Q8_0: int8, F32/F16/BF16: none)",
            DefaultValueFactory = _ => "auto",
        };
        quantize.AcceptOnlyFromAmong("auto", "none", "int4", "int8");
        var output = new Option<DirectoryInfo>("--out") { Description = "Model folder to write", Required = true };
        var convert = new Command("convert", "Convert a checkpoint into a model folder (model.onnx + genai_config.json + tokenizer).")
        {
            checkpoint, tokenizer, huggingFace, gguf, quantize, output,
        };
        convert.Validators.Add(result =>
        {
            bool llama2c = result.GetResult(checkpoint) is not null, hf = result.GetResult(huggingFace) is not null, isGguf = result.GetResult(gguf) is not null;
            if ((llama2c ? 1 : 0) + (hf ? 1 : 0) + (isGguf ? 1 : 0) != 1)
            {
                result.AddError("give one of --llama2c with --tokenizer, --hf or --gguf");
            }
            else if (!isGguf && result.GetResult(quantize) is { Implicit: false })
            {
                result.AddError("--quantize goes with --gguf; quantize other folders with 'llmaspire model quantize'");
            }
            else if (llama2c && result.GetResult(tokenizer) is null)
            {
                result.AddError("--llama2c needs --tokenizer (the llama2.c tokenizer.bin of the checkpoint)");
            }
        });
        convert.SetGuardedAction(parse =>
        {
            TextWriter stdout = parse.InvocationConfiguration.Output;
            LlamaConfig config;
            string outDir;
            var stopwatch = Stopwatch.StartNew();
            if (parse.GetValue(gguf) is { } ggufFile)
            {
                string file = CommandPaths.ExistingFile(ggufFile, "GGUF file", "pass --gguf a .gguf file");
                outDir = CommandPaths.WritableFolder(parse.GetRequiredValue(output), "--out");
                config = ConvertGguf(file, outDir, parse.GetValue(quantize) ?? "auto", stdout);
            }
            else if (parse.GetValue(huggingFace) is { } source)
            {
                string folder = CommandPaths.ExistingFolder(source, "Hugging Face folder", "pass --hf a folder with config.json, *.safetensors and the tokenizer files");
                outDir = CommandPaths.WritableFolder(parse.GetRequiredValue(output), "--out");
                config = ModelConverter.ImportHuggingFace(folder, outDir);
            }
            else
            {
                string checkpointFile = CommandPaths.ExistingFile(parse.GetValue(checkpoint)!, "checkpoint", "pass --llama2c a llama2.c checkpoint (.bin)");
                string tokenizerFile = CommandPaths.ExistingFile(parse.GetValue(tokenizer)!, "tokenizer", "pass --tokenizer the llama2.c tokenizer.bin of the checkpoint");
                outDir = CommandPaths.WritableFolder(parse.GetRequiredValue(output), "--out");
                config = ModelConverter.ConvertLlama2c(checkpointFile, tokenizerFile, outDir);
            }

            stdout.WriteLine(
                $"wrote {outDir} in {stopwatch.ElapsedMilliseconds} ms: dim={config.Dim} layers={config.Layers} heads={config.Heads} kv_heads={config.KvHeads} vocab={config.VocabSize} context={config.ContextLength}");
            foreach (FileInfo file in new DirectoryInfo(outDir).EnumerateFiles().OrderBy(f => f.Name, StringComparer.Ordinal))
            {
                stdout.WriteLine($"  {file.Name,-24} {file.Length,14:N0} bytes");
            }

            return ExitCodes.Success;
        });

        return new Command("model", "Model folders: convert, inspect, quantize, prune, create-demo.") { convert, InspectCommand.Create(), QuantizeCommand.Create(), PruneCommand.Create(), CreateDemoCommand.Create() };
    }

    /// <summary>Imports <paramref name="file"/>, requantized to the width <paramref name="quantize"/> names (auto: the nearest to the file's).</summary>
    private static LlamaConfig ConvertGguf(string file, string outDir, string quantize, TextWriter stdout)
    {
        GgmlType? stored = null;
        int? bits = null;
        LlamaConfig config = ModelConverter.ImportGguf(file, outDir, type =>
        {
            stored = type;
            bits = quantize switch
            {
                "none" => null,
                "int4" => 4,
                "int8" => 8,
                _ => GgufImporter.NearestBits(type),
            };
            return bits;
        });
        string from = stored is { } t ? GgmlTypes.NameOf(t) : "no linear layers";
        stdout.WriteLine(ModelQuantizer.ReadManifest(outDir) is { } manifest
            ? $"linear layers stored as {from}, requantized to int{bits} (MatMulNBits, {manifest.QuantizedMatMuls} MatMuls)"
            : $"linear layers stored as {from}, written as float32");
        return config;
    }
}
