using System.Text.Json;

namespace LlmAspire.Inference.Engine;

/// <summary>
/// A summary of one ONNX Runtime profile (the JSON array of trace events <c>SessionOptions.EnableProfiling</c> writes):
/// the time of the runs, and of each operator type's kernels within them.
/// </summary>
/// <param name="Runs">Runs recorded (<c>model_run</c> events).</param>
/// <param name="RunMicroseconds">Their summed duration.</param>
/// <param name="Operators">Kernel time per operator type, largest first.</param>
internal sealed record OrtProfile(int Runs, long RunMicroseconds, IReadOnlyList<OrtProfile.Operator> Operators)
{
    /// <summary>Summed kernel time of all operators.</summary>
    public long KernelMicroseconds => Operators.Sum(o => o.Microseconds);

    /// <summary>Reads a profile file.</summary>
    public static OrtProfile Read(string path)
    {
        using FileStream stream = File.OpenRead(path);
        using JsonDocument document = JsonDocument.Parse(stream);
        int runs = 0;
        long runTime = 0;
        var byType = new Dictionary<string, (long Time, int Calls)>(StringComparer.Ordinal);
        foreach (JsonElement item in document.RootElement.EnumerateArray())
        {
            string? category = item.TryGetProperty("cat", out JsonElement cat) ? cat.GetString() : null;
            string name = item.TryGetProperty("name", out JsonElement n) ? n.GetString() ?? "" : "";
            long duration = item.TryGetProperty("dur", out JsonElement dur) ? dur.GetInt64() : 0;
            if (category == "Session" && name == "model_run")
            {
                runs++;
                runTime += duration;
            }
            else if (category == "Node" && name.EndsWith("_kernel_time", StringComparison.Ordinal)
                && item.TryGetProperty("args", out JsonElement args) && args.TryGetProperty("op_name", out JsonElement op))
            {
                string type = op.GetString() ?? "?";
                (long time, int calls) = byType.GetValueOrDefault(type);
                byType[type] = (time + duration, calls + 1);
            }
        }

        return new OrtProfile(runs, runTime, [.. byType.Select(p => new Operator(p.Key, p.Value.Time, p.Value.Calls)).OrderByDescending(o => o.Microseconds)]);
    }

    /// <summary>One operator type's kernels.</summary>
    /// <param name="Type">The ONNX op type (MatMulNBits, GroupQueryAttention, ...).</param>
    /// <param name="Microseconds">Summed kernel time.</param>
    /// <param name="Calls">Kernel launches.</param>
    internal sealed record Operator(string Type, long Microseconds, int Calls);
}
