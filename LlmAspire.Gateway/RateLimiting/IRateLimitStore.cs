namespace LlmAspire.Gateway.RateLimiting;

/// <summary>One check-and-spend against a key's request and token budgets, in the window <see cref="WindowIndex"/>.</summary>
/// <param name="Identity">The key's short hash or <c>anonymous</c>.</param>
/// <param name="WindowIndex">The current window.</param>
/// <param name="PreviousWeight">The previous window's weight (see <see cref="WindowPosition.PreviousWeight"/>).</param>
/// <param name="RequestLimit">Requests per window; 0 = no request limit.</param>
/// <param name="TokenLimit">Tokens per window; 0 = no token limit.</param>
/// <param name="TokenCost">Tokens to reserve.</param>
public sealed record RateLimitRequest(string Identity, long WindowIndex, double PreviousWeight, long RequestLimit, long TokenLimit, long TokenCost);

/// <summary>
/// The outcome: whether both budgets allowed the request (and so were spent, atomically), and the counts of the
/// previous and current windows after it (before it, when refused).
/// </summary>
public readonly record struct RateLimitCounts(bool Allowed, long PreviousRequests, long CurrentRequests, long PreviousTokens, long CurrentTokens);

/// <summary>Where the windows' counts live: Redis, shared by every gateway, or this process's memory.</summary>
public interface IRateLimitStore
{
    /// <summary>Checks both budgets and spends them only if both allow; null when the store cannot answer (the caller fails open).</summary>
    Task<RateLimitCounts?> TryAcquireAsync(RateLimitRequest request, CancellationToken cancellationToken);

    /// <summary>Corrects the tokens reserved in window <paramref name="windowIndex"/> by <paramref name="delta"/> (never below zero); best effort.</summary>
    Task AdjustTokensAsync(string identity, long windowIndex, long delta, CancellationToken cancellationToken);
}
