namespace LlmAspire.Bench.Peers;

/// <summary>One row of the table: a model in a precision, a number of streams (or a prefill), at a thread count.</summary>
/// <param name="Id">The name <c>--only</c> takes.</param>
/// <param name="Title">The row's label.</param>
/// <param name="Model"><see cref="Workload.Model100M"/> or <see cref="Workload.Stories260K"/>.</param>
/// <param name="Int8">Our int8 MatMulNBits folder and llama.cpp's Q8_0 (GenAI runs our int8 folder); float32 otherwise.</param>
/// <param name="Streams">Concurrent streams (one batch for llama.cpp and GenAI's static batch; one generator each for GenAI per-stream); ignored for a prefill.</param>
/// <param name="Prefill">Time a <see cref="Workload.PrefillTokens"/>-token prompt instead of decoding.</param>
/// <param name="ThreadSweep">Run at every <c>--threads</c> value, not only the first.</param>
internal sealed record Workload(string Id, string Title, string Model, bool Int8, int Streams, bool Prefill = false, bool ThreadSweep = false)
{
    /// <summary>The random 100M-parameter llama2.c checkpoint.</summary>
    public const string Model100M = "100m";

    /// <summary>llama2.c's pretrained stories260K.</summary>
    public const string Stories260K = "260k";

    /// <summary>llama-bench's pp256.</summary>
    public const int PrefillTokens = 256;

    /// <summary>The stream counts of the throughput sweep (<c>--sweep</c>) and its plots.</summary>
    public static IReadOnlyList<int> SweepStreams { get; } = [1, 4, 16, 64];

    /// <summary>Every workload, in the table's order.</summary>
    public static IReadOnlyList<Workload> All { get; } =
    [
        new("100m-fp32-1", "100M fp32, 1 stream", Model100M, Int8: false, Streams: 1, ThreadSweep: true),
        new("100m-int8-1", "100M int8 (ours: MatMulNBits; llama.cpp: Q8_0), 1 stream", Model100M, Int8: true, Streams: 1, ThreadSweep: true),
        new("100m-fp32-4", "100M fp32, 4 streams", Model100M, Int8: false, Streams: 4),
        new("100m-int8-4", "100M int8, 4 streams", Model100M, Int8: true, Streams: 4),
        new("100m-fp32-16", "100M fp32, 16 streams", Model100M, Int8: false, Streams: 16),
        new("100m-int8-16", "100M int8, 16 streams", Model100M, Int8: true, Streams: 16),
        new("100m-fp32-64", "100M fp32, 64 streams", Model100M, Int8: false, Streams: 64),
        new("100m-int8-64", "100M int8, 64 streams", Model100M, Int8: true, Streams: 64),
        new("260k-1", "stories260K, 1 stream", Stories260K, Int8: false, Streams: 1, ThreadSweep: true),
        new("260k-4", "stories260K, 4 streams", Stories260K, Int8: false, Streams: 4),
        new("260k-16", "stories260K, 16 streams", Stories260K, Int8: false, Streams: 16),
        new("260k-64", "stories260K, 64 streams", Stories260K, Int8: false, Streams: 64),
        new("100m-fp32-pp256", "100M fp32, prefill of 256 tokens (pp256)", Model100M, Int8: false, Streams: 1, Prefill: true),
        new("100m-int8-pp256", "100M int8, prefill of 256 tokens (pp256)", Model100M, Int8: true, Streams: 1, Prefill: true),
    ];

    /// <summary>The model and precision a sweep plot is drawn for (<c>100m-fp32</c>, <c>100m-int8</c>, <c>260k</c>).</summary>
    public string SweepKey => Model == Stories260K ? Model : Model + (Int8 ? "-int8" : "-fp32");

    /// <summary>Whether the row is a point of the throughput-against-streams sweep.</summary>
    public bool InSweep => !Prefill && SweepStreams.Contains(Streams);

    /// <summary>Whether the weights are read once per decoded token from memory (the rows with a bandwidth share).</summary>
    public bool BandwidthBound => Model == Model100M && !Int8 && Streams == 1 && !Prefill;
}
