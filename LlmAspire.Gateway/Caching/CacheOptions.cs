namespace LlmAspire.Gateway.Caching;

/// <summary>
/// The response cache, section <c>Gateway:Cache</c>: exact-match answers to deterministic completion requests
/// (temperature 0, or a seed), in this process's memory (L1) and in Redis (L2, shared by every gateway).
/// </summary>
public sealed class CacheOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Gateway:Cache";

    /// <summary>Whether responses are cached at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How long an entry lives (in Redis, and at most in memory).</summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long an entry stays in this process's memory (capped by <see cref="Ttl"/>).</summary>
    public TimeSpan LocalTtl { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The largest response body cached; larger ones pass through uncached.</summary>
    public int MaxEntryBytes { get; set; } = 1024 * 1024;

    /// <summary>The memory the L1 may hold, in bytes of serialized entries.</summary>
    public long LocalSizeLimitBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// Part of every key: change it (for example to the model's revision or file hash) when the weights behind a
    /// model id change, so old answers are not served. The model id itself is in the request.
    /// </summary>
    public string Revision { get; set; } = string.Empty;

    internal TimeSpan EffectiveLocalTtl => LocalTtl < Ttl ? LocalTtl : Ttl;

    internal static bool IsValid(CacheOptions options) =>
        options.Ttl > TimeSpan.Zero && options.LocalTtl > TimeSpan.Zero && options.MaxEntryBytes > 0 && options.LocalSizeLimitBytes > 0;

    internal const string ValidationMessage =
        "Gateway:Cache:Ttl and LocalTtl must be positive, and MaxEntryBytes and LocalSizeLimitBytes above zero.";
}
