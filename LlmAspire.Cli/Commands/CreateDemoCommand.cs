using System.CommandLine;
using System.Diagnostics;
using LlmAspire.Cli.Errors;
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
        var arch = new Option<string>("--arch")
        {
            Description = "Architecture, with its distinguishing features on (biases, q/k norms, partial rotary, softcaps, sliding windows): "
                + string.Join(", ", DemoPresets.Architectures),
            DefaultValueFactory = _ => DemoPresets.DefaultArchitecture,
        };
        arch.AcceptOnlyFromAmong([.. DemoPresets.Architectures]);
        var output = new Option<DirectoryInfo>("--out") { Description = "Model folder to write", Required = true };
        var force = new Option<bool>("--force") { Description = "Replace --out if it exists" };
        // For A/B measurements of the fused projections only, so it stays out of --help.
        var separate = new Option<bool>("--separate-projections")
        {
            Description = "Write separate q, k, v, gate and up MatMuls instead of the fused qkv and gate/up ones",
            Hidden = true,
        };
        var command = new Command("create-demo", "Write a deterministic random-weight model folder (same preset and architecture, same bytes).") { preset, arch, output, force, separate };
        command.SetGuardedAction(parse =>
        {
            TextWriter stdout = parse.InvocationConfiguration.Output;
            DemoPreset chosen = DemoPresets.Get(parse.GetRequiredValue(preset), parse.GetRequiredValue(arch));
            DirectoryInfo outDir = parse.GetRequiredValue(output);
            if (outDir.Exists && outDir.EnumerateFileSystemInfos().Any())
            {
                if (!parse.GetValue(force))
                {
                    throw UserErrorException.Usage($"output folder {outDir.FullName} exists and is not empty; pass --force to replace it, or another --out");
                }

                outDir.Delete(recursive: true);
            }

            string path = CommandPaths.WritableFolder(outDir, "--out");
            var stopwatch = Stopwatch.StartNew();
            DemoPresets.Write(chosen, path, fuseProjections: !parse.GetValue(separate));
            LlamaConfig c = chosen.Config;
            stdout.WriteLine(
                $"wrote {path} in {stopwatch.ElapsedMilliseconds} ms: preset {chosen.Name}, arch {chosen.Architecture} ({c.ModelType}), {chosen.ParameterCount:N0} parameters, " +
                $"dim={c.Dim} hidden={c.HiddenDim} layers={c.Layers} heads={c.Heads} kv_heads={c.KvHeads} head_size={c.HeadSize} vocab={c.VocabSize} context={c.ContextLength}");
            foreach (FileInfo file in new DirectoryInfo(path).EnumerateFiles().OrderBy(f => f.Name, StringComparer.Ordinal))
            {
                stdout.WriteLine($"  {file.Name,-20} {file.Length,14:N0} bytes");
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
