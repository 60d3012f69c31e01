namespace LlmAspire.Cli.Benchmarking;

/// <summary>What <c>bench soak</c> drives and how hard.</summary>
/// <param name="Gateway">The endpoint every request goes to (the gateway, or one server).</param>
/// <param name="Servers">Model servers whose <c>/metrics</c> gauges must return to idle.</param>
/// <param name="Pids">Processes whose resident memory is compared between the checkpoint and the end.</param>
/// <param name="Requests">Requests in all.</param>
/// <param name="Concurrency">Requests in flight at once.</param>
/// <param name="Checkpoint">The gauges and memory are read after this many requests, and again after every this many more.</param>
/// <param name="Seed">Seed of the request mix.</param>
/// <param name="Model">The <c>model</c> field, when given.</param>
/// <param name="MaxTokens">The budget of plain and streamed requests (dropped streams get at least 48).</param>
/// <param name="Timeout">Longest one request may take, stream included.</param>
/// <param name="SettleTimeout">Longest wait for the gauges to return to idle after a phase.</param>
/// <param name="RssTolerance">Largest accepted growth of resident memory from the checkpoint to the end (0.1 = 10 %).</param>
public sealed record SoakSettings(
    Uri Gateway,
    IReadOnlyList<Uri> Servers,
    IReadOnlyList<int> Pids,
    int Requests,
    int Concurrency,
    int Checkpoint,
    int Seed = 0,
    string? Model = null,
    int MaxTokens = 16,
    TimeSpan? Timeout = null,
    TimeSpan? SettleTimeout = null,
    double RssTolerance = 0.10);
