using LlmAspire.Inference.Engine;

namespace LlmAspire.Tests.Inference.Engine;

/// <summary>
/// <see cref="OrtProfile"/> over a profile in ONNX Runtime's trace format, written here: runs, kernel time per operator
/// type and per node, and the calling thread's wait for workers from the thread-pool statistics of parallel kernels.
/// </summary>
public sealed class OrtProfileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("llmaspire-ortprofile-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Read_SumsPerTypeAndPerNode_AndTakesTheMedians()
    {
        string path = Write(
            Run(1000), Run(1200), Run(900),
            Kernel("MatMul_qkv", "MatMul", 100, wait: 30), Kernel("MatMul_qkv", "MatMul", 300, wait: 50), Kernel("MatMul_qkv", "MatMul", 200, wait: 0),
            Kernel("MatMul_down", "MatMul", 400, wait: 10), Kernel("MatMul_down", "MatMul", 500, wait: 20), Kernel("MatMul_down", "MatMul", 450, wait: 15),
            Kernel("GroupQueryAttention_0", "GroupQueryAttention", 40, wait: null), Kernel("GroupQueryAttention_0", "GroupQueryAttention", 60, wait: null),
            """{"cat":"Node","name":"MatMul_qkv_fence_before","dur":0,"args":{"op_name":"MatMul"}}""");

        OrtProfile profile = OrtProfile.Read(path);

        Assert.Equal(3, profile.Runs);
        Assert.Equal(3100, profile.RunMicroseconds);
        Assert.Equal(["MatMul", "GroupQueryAttention"], profile.Operators.Select(o => o.Type));
        OrtProfile.Operator matmul = profile.Operators[0];
        Assert.Equal((1950L, 6, 125L), (matmul.Microseconds, matmul.Calls, matmul.WaitMicroseconds));
        Assert.Equal((100L, 2, 0L), (profile.Operators[1].Microseconds, profile.Operators[1].Calls, profile.Operators[1].WaitMicroseconds));
        Assert.Equal(2050, profile.KernelMicroseconds);

        Assert.Equal(["MatMul_qkv", "MatMul_down", "GroupQueryAttention_0"], profile.Nodes.Select(n => n.Name));
        OrtProfile.Node qkv = profile.Nodes[0];
        Assert.Equal(("MatMul", 3, 600L, 200L, 80L, 30L), (qkv.Type, qkv.Calls, qkv.Microseconds, qkv.MedianMicroseconds, qkv.WaitMicroseconds, qkv.MedianWaitMicroseconds));
        Assert.Equal(450, profile.Nodes[1].MedianMicroseconds);
        Assert.Equal(60, profile.Nodes[2].MedianMicroseconds); // two launches: the upper one
    }

    [Fact]
    public void Read_NotAnArrayOfEvents_Throws()
    {
        string path = Path.Combine(_directory, "numbers.json");
        File.WriteAllText(path, "[1, 2, 3]");

        Assert.Throws<InvalidOperationException>(() => OrtProfile.Read(path));
    }

    /// <summary>A profile file of <paramref name="events"/>; also used by the <c>bench profile</c> tests.</summary>
    internal string Write(params string[] events)
    {
        string path = Path.Combine(_directory, $"profile-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, "[\n" + string.Join(",\n", events) + "\n]");
        return path;
    }

    internal static string Run(long microseconds) =>
        $$$"""{"cat":"Session","pid":1,"tid":1,"dur":{{{microseconds}}},"ts":0,"ph":"X","name":"model_run","args":{}}""";

    /// <summary>A kernel event; with <paramref name="wait"/>, the thread-pool statistics ONNX Runtime adds to parallel kernels.</summary>
    internal static string Kernel(string node, string type, long microseconds, long? wait)
    {
        string stats = wait is null ? "" : $$$""","thread_scheduling_stats":{"main_thread":{"thread_pool_name":"session-1-intra-op","block_size":[1],"Distribution":1,"DistributionEnqueue":0,"Run":{{{microseconds - wait}}},"Wait":{{{wait}}},"WaitRevoke":0},"sub_threads":{"7":{"num_run":3,"core":0""" + "}}}";
        return $$$"""{"cat":"Node","pid":1,"tid":1,"dur":{{{microseconds}}},"ts":0,"ph":"X","name":"{{{node}}}_kernel_time","args":{"op_name":"{{{type}}}","provider":"CPUExecutionProvider"{{{stats}}}}}""";
    }
}
