namespace LlmAspire.Gateway.LoadPolling;

/// <summary>What a model server reports about its own load; null where it does not report a value.</summary>
/// <param name="Running">Requests the engine runs now (<c>vllm:num_requests_running</c>).</param>
/// <param name="Waiting">Requests queued for the engine (<c>vllm:num_requests_waiting</c>).</param>
/// <param name="KvCacheUsage">The KV cache's fill, 0 to 1 (<c>vllm:kv_cache_usage_perc</c>).</param>
public sealed record ModelServerLoad(double? Running, double? Waiting, double? KvCacheUsage)
{
    /// <summary>A server that reports none of the metrics.</summary>
    public static ModelServerLoad Unknown { get; } = new(null, null, null);

    /// <summary>Whether the server reported its request counts, so its load can be compared with others'.</summary>
    public bool IsKnown => Running is not null || Waiting is not null;
}
