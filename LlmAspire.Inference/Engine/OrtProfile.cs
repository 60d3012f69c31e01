using System.Text.Json;

namespace LlmAspire.Inference.Engine;

/// <summary>
/// A summary of one ONNX Runtime profile (the JSON array of trace events <c>SessionOptions.EnableProfiling</c> writes):
/// the time of the runs, and of each operator type's and each node's kernels within them. Where the profile has ONNX
/// Runtime's thread-pool statistics (a parallel operator's <c>thread_scheduling_stats</c>), it also keeps how long the
/// calling thread waited for the pool's workers to finish their share: with workers that sleep between operators
/// (spinning off), that wait is mostly the time a worker takes to wake.
/// </summary>
/// <param name="Runs">Runs recorded (<c>model_run</c> events).</param>
/// <param name="RunMicroseconds">Their summed duration.</param>
/// <param name="Operators">Kernel time per operator type, largest first.</param>
/// <param name="Nodes">Kernel time per node, in the order the nodes first ran.</param>
internal sealed record OrtProfile(int Runs, long RunMicroseconds, IReadOnlyList<OrtProfile.Operator> Operators, IReadOnlyList<OrtProfile.Node> Nodes)
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
        var byNode = new Dictionary<string, NodeTimes>(StringComparer.Ordinal);
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
            else if (category == "Node" && name.EndsWith(KernelSuffix, StringComparison.Ordinal)
                && item.TryGetProperty("args", out JsonElement args) && args.TryGetProperty("op_name", out JsonElement op))
            {
                string node = name[..^KernelSuffix.Length];
                if (!byNode.TryGetValue(node, out NodeTimes? times))
                {
                    times = new NodeTimes(op.GetString() ?? "?");
                    byNode.Add(node, times);
                }

                times.Durations.Add(duration);
                times.Waits.Add(MainThreadWait(args));
            }
        }

        Node[] nodes = [.. byNode.Select(p => new Node(
            p.Key,
            p.Value.Type,
            p.Value.Durations.Count,
            p.Value.Durations.Sum(),
            Median(p.Value.Durations),
            p.Value.Waits.Sum(),
            Median(p.Value.Waits)))];
        Operator[] operators = [.. nodes
            .GroupBy(node => node.Type, StringComparer.Ordinal)
            .Select(group => new Operator(group.Key, group.Sum(node => node.Microseconds), group.Sum(node => node.Calls), group.Sum(node => node.WaitMicroseconds)))
            .OrderByDescending(o => o.Microseconds)];
        return new OrtProfile(runs, runTime, operators, nodes);
    }

    private const string KernelSuffix = "_kernel_time";

    /// <summary>The calling thread's wait for the pool's workers in one parallel kernel, 0 for a kernel that ran on it alone.</summary>
    private static long MainThreadWait(JsonElement args) =>
        args.ValueKind == JsonValueKind.Object
        && args.TryGetProperty("thread_scheduling_stats", out JsonElement stats) && stats.ValueKind == JsonValueKind.Object
        && stats.TryGetProperty("main_thread", out JsonElement main) && main.ValueKind == JsonValueKind.Object
        && main.TryGetProperty("Wait", out JsonElement wait) && wait.ValueKind == JsonValueKind.Number
        && wait.TryGetInt64(out long value) ? value : 0;

    private static long Median(List<long> values)
    {
        long[] sorted = [.. values];
        Array.Sort(sorted);
        return sorted.Length == 0 ? 0 : sorted[sorted.Length / 2];
    }

    private sealed class NodeTimes(string type)
    {
        public string Type { get; } = type;

        public List<long> Durations { get; } = [];

        public List<long> Waits { get; } = [];
    }

    /// <summary>One operator type's kernels.</summary>
    /// <param name="Type">The ONNX op type (MatMulNBits, GroupQueryAttention, ...).</param>
    /// <param name="Microseconds">Summed kernel time.</param>
    /// <param name="Calls">Kernel launches.</param>
    /// <param name="WaitMicroseconds">Summed time the calling thread waited for the pool's workers inside these kernels.</param>
    internal sealed record Operator(string Type, long Microseconds, int Calls, long WaitMicroseconds);

    /// <summary>One node's kernels.</summary>
    /// <param name="Name">The node's name in the graph.</param>
    /// <param name="Type">Its op type.</param>
    /// <param name="Calls">Kernel launches.</param>
    /// <param name="Microseconds">Summed kernel time.</param>
    /// <param name="MedianMicroseconds">The median launch's time.</param>
    /// <param name="WaitMicroseconds">Summed wait of the calling thread for the pool's workers.</param>
    /// <param name="MedianWaitMicroseconds">The median launch's wait.</param>
    internal sealed record Node(string Name, string Type, int Calls, long Microseconds, long MedianMicroseconds, long WaitMicroseconds, long MedianWaitMicroseconds);
}
