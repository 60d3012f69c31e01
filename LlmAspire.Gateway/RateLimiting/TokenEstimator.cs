using LlmAspire.Gateway.Requests;

namespace LlmAspire.Gateway.RateLimiting;

/// <summary>What a completion request may spend, reserved before it runs.</summary>
public static class TokenEstimator
{
    /// <summary>Estimated prompt tokens + <c>max_tokens × n</c> (<see cref="RateLimitOptions.DefaultMaxTokens"/> when not given).</summary>
    public static long Reserve(CompletionRequestInfo request, RateLimitOptions options)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(options);
        var promptTokens = (long)Math.Ceiling(request.PromptText.Length / options.CharactersPerToken);
        var maxTokens = request.MaxTokens is > 0 ? request.MaxTokens.Value : options.DefaultMaxTokens;
        return promptTokens + ((long)maxTokens * Math.Max(1, request.N));
    }
}
