namespace LlmAspire.Bench.Peers;

/// <summary>One row's measurements: every round's tokens/s for each peer that ran it.</summary>
/// <param name="Workload">The row.</param>
/// <param name="Threads">The thread count every peer was given.</param>
/// <param name="Samples">Tokens/s per round, by peer name, in the order the rounds ran.</param>
/// <param name="Agreement">How many leading greedy tokens each peer's first stream shares with ours (decode rows), by peer name.</param>
/// <param name="Failures">Why a peer has no cell in this row (it could not load, allocate or run it), by peer name.</param>
internal sealed record RowResult(
    Workload Workload,
    int Threads,
    IReadOnlyDictionary<string, List<double>> Samples,
    IReadOnlyDictionary<string, int> Agreement,
    IReadOnlyDictionary<string, string> Failures);
