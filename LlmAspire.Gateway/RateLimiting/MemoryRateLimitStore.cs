namespace LlmAspire.Gateway.RateLimiting;

/// <summary>
/// The windows' counts in this process only: used when no Redis is configured, so each gateway instance
/// enforces the limits on its own.
/// </summary>
public sealed class MemoryRateLimitStore : IRateLimitStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Identity, char Kind, long Window), long> _counts = [];
    private long _newestWindow;

    /// <inheritdoc />
    public Task<RateLimitCounts?> TryAcquireAsync(RateLimitRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        lock (_gate)
        {
            Prune(request.WindowIndex);
            var previousRequests = Get(request.Identity, 'r', request.WindowIndex - 1);
            var currentRequests = Get(request.Identity, 'r', request.WindowIndex);
            var previousTokens = Get(request.Identity, 't', request.WindowIndex - 1);
            var currentTokens = Get(request.Identity, 't', request.WindowIndex);

            var allowed = SlidingWindow.Allows(request.RequestLimit, previousRequests, currentRequests, request.PreviousWeight, 1)
                && SlidingWindow.Allows(request.TokenLimit, previousTokens, currentTokens, request.PreviousWeight, request.TokenCost);
            if (allowed)
            {
                if (request.RequestLimit > 0)
                {
                    currentRequests = _counts[(request.Identity, 'r', request.WindowIndex)] = currentRequests + 1;
                }

                if (request.TokenLimit > 0 && request.TokenCost > 0)
                {
                    currentTokens = _counts[(request.Identity, 't', request.WindowIndex)] = currentTokens + request.TokenCost;
                }
            }

            return Task.FromResult<RateLimitCounts?>(new RateLimitCounts(allowed, previousRequests, currentRequests, previousTokens, currentTokens));
        }
    }

    /// <inheritdoc />
    public Task AdjustTokensAsync(string identity, long windowIndex, long delta, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var key = (identity, 't', windowIndex);
            if (_counts.TryGetValue(key, out var count))
            {
                _counts[key] = Math.Max(0, count + delta);
            }
        }

        return Task.CompletedTask;
    }

    private long Get(string identity, char kind, long window) =>
        _counts.TryGetValue((identity, kind, window), out var count) ? count : 0;

    private void Prune(long window)
    {
        if (window <= _newestWindow)
        {
            return;
        }

        _newestWindow = window;
        foreach (var key in _counts.Keys.Where(key => key.Window < window - 1).ToList())
        {
            _counts.Remove(key);
        }
    }
}
