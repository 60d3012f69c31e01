namespace LlmAspire.Gateway.RateLimiting;

/// <summary>
/// Per-key limits, section <c>Gateway:RateLimits</c>: each API key (or, in open mode, all callers together as
/// <c>anonymous</c>) gets its own budget, shared by every gateway instance through Redis. 0 turns a limit off.
/// </summary>
public sealed class RateLimitOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Gateway:RateLimits";

    /// <summary>Requests per minute per key (every <c>/v1/*</c> request counts, cache hits included); 0 = unlimited.</summary>
    public int RequestsPerMinute { get; set; }

    /// <summary>
    /// Prompt + completion tokens per minute per key; 0 = unlimited. Each completion request reserves
    /// <c>max_tokens × n</c> plus the estimated prompt tokens up front, and the reservation is corrected with the
    /// <c>usage</c> of the response when it carries one.
    /// </summary>
    public int TokensPerMinute { get; set; }

    /// <summary>The <c>max_tokens</c> assumed when a request does not say (the model servers' default).</summary>
    public int DefaultMaxTokens { get; set; } = 16;

    /// <summary>Characters of prompt text per estimated token.</summary>
    public double CharactersPerToken { get; set; } = 4;

    internal bool IsEnabled => RequestsPerMinute > 0 || TokensPerMinute > 0;

    internal static bool IsValid(RateLimitOptions options) =>
        options.RequestsPerMinute >= 0 && options.TokensPerMinute >= 0 && options.DefaultMaxTokens > 0 && options.CharactersPerToken > 0;

    internal const string ValidationMessage =
        "Gateway:RateLimits:RequestsPerMinute and TokensPerMinute must be 0 (off) or positive; DefaultMaxTokens and CharactersPerToken must be positive.";
}
