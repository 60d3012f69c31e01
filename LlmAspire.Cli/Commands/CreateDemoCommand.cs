using System.CommandLine;
using System.Diagnostics;
using LlmAspire.Inference.Models;

namespace LlmAspire.Cli.Commands;

/// <summary><c>model create-demo</c>: write a deterministic random-weight model folder.</summary>
internal static class CreateDemoCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset")
        {
            Description = "Which model: " + string.Join("; ", DemoPresets.All.Select(p => $"{p.Name} = {p.Description}")),
            Required = true,
        };
        preset.AcceptOnlyFromAmong([.. DemoPresets.All.Select(p => p.Name)]);
        var output = new Option<DirectoryInfo>("--out") { Description = "Model folder to write", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace --out if it exists" };
        var command = new Command("create-demo", "Write a deterministic random-weight Llama model folder (same preset, same bytes).") { preset, output, force };
        command.SetAction(parse =>
        {
            DemoPreset chosen = DemoPresets.Get(parse.GetRequiredValue(preset));
            DirectoryInfo outDir = parse.GetRequiredValue(output);
            if (outDir.Exists && outDir.EnumerateFileSystemInfos().Any())
            {
                if (!parse.GetValue(force))
                {
                    Console.Error.WriteLine($"error: {outDir.FullName} exists and is not empty (--force replaces it).");
                    return 1;
                }

                outDir.Delete(recursive: true);
            }

            var stopwatch = Stopwatch.StartNew();
            DemoPresets.Write(chosen, outDir.FullName);
            LlamaConfig c = chosen.Config;
            Console.WriteLine(
                $"wrote {outDir.FullName} in {stopwatch.ElapsedMilliseconds} ms: preset {chosen.Name}, {chosen.ParameterCount:N0} parameters, " +
                $"dim={c.Dim} hidden={c.HiddenDim} layers={c.Layers} heads={c.Heads} kv_heads={c.KvHeads} vocab={c.VocabSize} context={c.ContextLength}");
            foreach (FileInfo file in new DirectoryInfo(outDir.FullName).EnumerateFiles().OrderBy(f => f.Name, StringComparer.Ordinal))
            {
                Console.WriteLine($"  {file.Name,-20} {file.Length,14:N0} bytes");
            }

            return 0;
        });
        return command;
    }
}
