using System.CommandLine;
using System.Diagnostics;
using LlmAspire.Inference.Models;

namespace LlmAspire.Cli.Commands;

/// <summary><c>model convert</c>.</summary>
internal static class ModelCommands
{
    public static Command Create()
    {
        var checkpoint = new Option<FileInfo>("--llama2c") { Description = "llama2.c checkpoint (.bin)", Required = true };
        var tokenizer = new Option<FileInfo>("--tokenizer") { Description = "llama2.c tokenizer.bin", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "Model folder to write", Required = true };
        var convert = new Command("convert", "Convert a checkpoint into a model folder (model.onnx + genai_config.json + tokenizer).")
        {
            checkpoint, tokenizer, output,
        };
        convert.SetAction(parse =>
        {
            FileInfo checkpointFile = parse.GetRequiredValue(checkpoint);
            FileInfo tokenizerFile = parse.GetRequiredValue(tokenizer);
            DirectoryInfo outDir = parse.GetRequiredValue(output);
            foreach (FileInfo file in new[] { checkpointFile, tokenizerFile })
            {
                if (!file.Exists)
                {
                    Console.Error.WriteLine($"error: {file.FullName} does not exist.");
                    return 2;
                }
            }

            var stopwatch = Stopwatch.StartNew();
            try
            {
                LlamaConfig config = ModelConverter.ConvertLlama2c(checkpointFile.FullName, tokenizerFile.FullName, outDir.FullName);
                Console.WriteLine(
                    $"wrote {outDir.FullName} in {stopwatch.ElapsedMilliseconds} ms: dim={config.Dim} layers={config.Layers} heads={config.Heads} kv_heads={config.KvHeads} vocab={config.VocabSize} context={config.ContextLength}");
                foreach (FileInfo file in outDir.EnumerateFiles().OrderBy(f => f.Name, StringComparer.Ordinal))
                {
                    Console.WriteLine($"  {file.Name,-20} {file.Length,12:N0} bytes");
                }

                return 0;
            }
            catch (InvalidDataException ex)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return 1;
            }
        });

        return new Command("model", "Model folders: convert.") { convert };
    }
}
