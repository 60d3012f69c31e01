using System.CommandLine;
using System.Diagnostics;
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
            bool llama2c = result.GetValue(checkpoint) is not null, hf = result.GetValue(huggingFace) is not null;
            if (llama2c == hf)
            {
                result.AddError("Give either --llama2c with --tokenizer, or --hf.");
            }
            else if (llama2c && result.GetValue(tokenizer) is null)
            {
                result.AddError("--llama2c needs --tokenizer.");
            }
        });
        convert.SetAction(parse =>
        {
            DirectoryInfo outDir = parse.GetRequiredValue(output);
            var stopwatch = Stopwatch.StartNew();
            try
            {
                LlamaConfig config;
                if (parse.GetValue(huggingFace) is { } source)
                {
                    if (!source.Exists)
                    {
                        Console.Error.WriteLine($"error: {source.FullName} does not exist.");
                        return 2;
                    }

                    config = ModelConverter.ImportHuggingFace(source.FullName, outDir.FullName);
                }
                else
                {
                    FileInfo checkpointFile = parse.GetValue(checkpoint)!;
                    FileInfo tokenizerFile = parse.GetValue(tokenizer)!;
                    foreach (FileInfo file in new[] { checkpointFile, tokenizerFile })
                    {
                        if (!file.Exists)
                        {
                            Console.Error.WriteLine($"error: {file.FullName} does not exist.");
                            return 2;
                        }
                    }

                    config = ModelConverter.ConvertLlama2c(checkpointFile.FullName, tokenizerFile.FullName, outDir.FullName);
                }

                Console.WriteLine(
                    $"wrote {outDir.FullName} in {stopwatch.ElapsedMilliseconds} ms: dim={config.Dim} layers={config.Layers} heads={config.Heads} kv_heads={config.KvHeads} vocab={config.VocabSize} context={config.ContextLength}");
                foreach (FileInfo file in outDir.EnumerateFiles().OrderBy(f => f.Name, StringComparer.Ordinal))
                {
                    Console.WriteLine($"  {file.Name,-24} {file.Length,14:N0} bytes");
                }

                return 0;
            }
            catch (Exception ex) when (ex is InvalidDataException or NotSupportedException or FileNotFoundException)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return 1;
            }
        });

        return new Command("model", "Model folders: convert, inspect.") { convert, InspectCommand.Create(), QuantizeCommand.Create(), CreateDemoCommand.Create() };
    }
}
