using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LlmAspire.Cli.Errors;
using LlmAspire.Inference.Engine;

namespace LlmAspire.Cli.Commands;

/// <summary>
/// <c>bench profile</c>: ONNX Runtime profiles side by side — ours from <c>bench engine --breakdown --profile-out</c>, ONNX
/// Runtime GenAI's from <c>bench/LlmAspire.Bench.Peers --genai-profile</c>, or any session's. Per operator type: kernel
/// time per run and how long the calling thread waited for the pool's workers; then node by node, the median launch
/// and the median wait in each file. That shows whether two runtimes differ in a kernel itself or in waking threads.
/// </summary>
internal static class BenchProfileCommand
{
    public static Command Create()
    {
        var files = new Argument<FileInfo[]>("profiles") { Description = "ONNX Runtime profile JSON files (the first is the reference of the node table)", Arity = ArgumentArity.OneOrMore };
        var top = new Option<int>("--top") { Description = "Nodes listed, the first file's largest by kernel time", DefaultValueFactory = _ => 16 }.AtLeast(0);
        var type = new Option<string?>("--op") { Description = "List only nodes of this op type (e.g. MatMul)" };
        var command = new Command("profile", "ONNX Runtime profiles side by side: time per operator and per node, and the calling thread's wait for workers.") { files, top, type };
        command.SetGuardedAction((parse, cancellationToken) =>
        {
            TextWriter stdout = parse.InvocationConfiguration.Output;
            var profiles = new List<(string Name, OrtProfile Profile)>();
            foreach (FileInfo file in parse.GetRequiredValue(files))
            {
                string path = CommandPaths.ExistingFile(file, "profile", "pass the JSON files ONNX Runtime's profiler wrote (bench engine --breakdown --profile-out DIR)");
                try
                {
                    profiles.Add((file.Name, OrtProfile.Read(path)));
                }
                catch (Exception ex) when (ex is JsonException or InvalidOperationException)
                {
                    throw new InvalidDataException($"{path} is not an ONNX Runtime profile (a JSON array of trace events): {ex.Message}", ex);
                }
            }

            Write(stdout, profiles, parse.GetValue(top), parse.GetValue(type));
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    internal static void Write(TextWriter output, IReadOnlyList<(string Name, OrtProfile Profile)> profiles, int top, string? type)
    {
        foreach ((string name, OrtProfile profile) in profiles)
        {
            int runs = Math.Max(1, profile.Runs);
            output.WriteLine(Invariant($"{name}: {profile.Runs} runs, {profile.RunMicroseconds / 1000.0 / runs:F3} ms per run, kernels {Share(profile.KernelMicroseconds, profile.RunMicroseconds)} of it"));
            output.WriteLine("  operator                          | share | us per run | calls per run | us per call | waiting for workers, us per run");
            foreach (OrtProfile.Operator op in profile.Operators)
            {
                output.WriteLine(Invariant(
                    $"  {op.Type,-33} | {Share(op.Microseconds, profile.KernelMicroseconds),5} | {op.Microseconds / (double)runs,10:F0} | {op.Calls / (double)runs,13:F1} | {op.Microseconds / (double)op.Calls,11:F1} | {op.WaitMicroseconds / (double)runs,8:F0}"));
            }
        }

        OrtProfile reference = profiles[0].Profile;
        OrtProfile.Node[] listed = [.. reference.Nodes
            .Where(node => type is null || string.Equals(node.Type, type, StringComparison.Ordinal))
            .OrderByDescending(node => node.Microseconds)
            .Take(top)];
        if (listed.Length == 0)
        {
            return;
        }

        output.WriteLine();
        output.WriteLine("median per launch, us: kernel / calling thread's wait for workers");
        output.WriteLine($"  {"node",-56} | {string.Join(" | ", profiles.Select(p => Invariant($"{Shorten(p.Name, 18),18}")))}");
        var lookups = profiles.Select(p => p.Profile.Nodes.ToDictionary(node => node.Name, StringComparer.Ordinal)).ToArray();
        foreach (OrtProfile.Node node in listed)
        {
            IEnumerable<string> cells = lookups.Select(lookup => lookup.TryGetValue(node.Name, out OrtProfile.Node? other)
                ? Invariant($"{other.MedianMicroseconds,9} / {other.MedianWaitMicroseconds,6}")
                : Invariant($"{"–",18}"));
            output.WriteLine($"  {Shorten(node.Name, 56),-56} | {string.Join(" | ", cells)}");
        }
    }

    private static string Shorten(string text, int width) => text.Length <= width ? text : "…" + text[^(width - 1)..];

    private static string Share(double part, double total) => total > 0 ? (part / total).ToString("P0", CultureInfo.InvariantCulture) : "-";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
