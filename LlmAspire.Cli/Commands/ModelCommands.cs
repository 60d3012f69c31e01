using System.CommandLine;
using System.Diagnostics;
using LlmAspire.Cli.Errors;
using LlmAspire.Inference.Models;

namespace LlmAspire.Cli.Commands;

/// <summary><c>model convert</c>.</summary>
internal static class ModelCommands
{
    public static Command Create()
    {
        var checkpoint = new Option<FileInfo?>("--llama2c") { Description = "llama2.c checkpoint (.bin); needs --tokenizer" };
        var tokenizer = new Option<FileInfo?>("--tokenizer") { Description = "llama2.c tokenizer.bin" };
        var huggingFace = new Option<DirectoryInfo?>("--hf") { Description = "Hugging Face Llama-family folder (config.json + safetensors + tokenizer files)" };
        var output = new Option<DirectoryInfo>("--out") { Description = "Model folder to write", Required = true };
        var convert = new Command("convert", "Convert a checkpoint into a model folder (model.onnx + genai_config.json + tokenizer).")
        {
            checkpoint, tokenizer, huggingFace, output,
        };
        convert.Validators.Add(result =>
        {
            bool llama2c = result.GetResult(checkpoint) is not null, hf = result.GetResult(huggingFace) is not null;
            if (llama2c == hf)
            {
                result.AddError("give either --llama2c with --tokenizer, or --hf");
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
            if (parse.GetValue(huggingFace) is { } source)
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

        return new Command("model", "Model folders: convert, inspect, quantize, create-demo.") { convert, InspectCommand.Create(), QuantizeCommand.Create(), CreateDemoCommand.Create() };
    }
}
