namespace LlmAspire.Gateway.Caching;

/// <summary>
/// Ends a cache factory whose upstream answer is not stored (not a 200, too large, or failed), carrying the answer
/// when there is one so identical requests waiting on it can be given the same.
/// </summary>
internal sealed class UncacheableResponseException(CachedResponse? response, Exception? innerException = null)
    : Exception("The upstream answer was not stored.", innerException)
{
    /// <summary>The answer, when it was captured whole.</summary>
    public CachedResponse? Response { get; } = response;
}
