using LlmAspire.OpenAIApi.Completions;
using LlmAspire.OpenAIApi.Responses;
using System.Security.Cryptography;

namespace LlmAspire.ModelServer.Apis;

/// <summary>The statuses and ids of responses and their items, and the usage in the Responses API's names.</summary>
internal static class ResponseStatus
{
    public const string InProgress = "in_progress";
    public const string Completed = "completed";
    public const string Incomplete = "incomplete";

    /// <summary>A response (or item) is incomplete when its choice ran out of budget (or context).</summary>
    public static string Of(string finishReason) => finishReason == "length" ? Incomplete : Completed;

    /// <summary>A new item id, e.g. <c>msg_…</c> or <c>fc_…</c>.</summary>
    public static string NewId(string prefix) => prefix + RandomNumberGenerator.GetHexString(24, lowercase: true);

    /// <summary>Chat's usage as the Responses API counts it (no reasoning tokens apart).</summary>
    public static ResponseUsage Usage(CompletionUsage usage) =>
        new(usage.PromptTokens, new ResponseInputTokensDetails(usage.PromptTokensDetails.CachedTokens), usage.CompletionTokens, new ResponseOutputTokensDetails(0));
}
