using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using LlmAspire.OpenAIApi;
using LlmAspire.OpenAIApi.Chat;
using LlmAspire.OpenAIApi.Completions;
using LlmAspire.OpenAIApi.Errors;
using LlmAspire.OpenAIApi.Models;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LlmAspire.ModelServer.Apis;

/// <summary>
/// Checks a completion request the way OpenAI does (see <see cref="SamplingValidator"/> for the shared fields):
/// a prompt string, <c>max_tokens</c> (default 16) and the legacy integer <c>logprobs</c> (0-5).
/// </summary>
internal static class CompletionRequestValidator
{
    public const int DefaultMaxTokens = 16;
    public const int MaxLogprobs = 5;

    /// <summary>The checks that need no model.</summary>
    public static bool TryValidate(
        CompletionRequest request,
        int maxSequences,
        [NotNullWhen(true)] out CompletionSettings? settings,
        [NotNullWhen(false)] out JsonHttpResult<OpenAIErrorResponse>? error)
    {
        settings = null;
        if (!TryReadPrompt(request.Prompt, out var prompt, out error))
        {
            return false;
        }

        error = SamplingValidator.Validate(request, maxSequences, out var sampling)
            ?? SamplingValidator.ValidateLogprobCount("logprobs", request.Logprobs, MaxLogprobs);
        if (error is not null)
        {
            return false;
        }

        if (request.Echo == true)
        {
            error = OpenAIErrors.BadRequest("Invalid 'echo': echoing the prompt back is not supported by this server.", "echo", "unsupported_value");
            return false;
        }

        settings = new CompletionSettings(sampling!, prompt!, request.MaxTokens ?? DefaultMaxTokens, request.Logprobs);
        return true;
    }

    private static bool TryReadPrompt(JsonElement? value, out CompletionPrompt? prompt, [NotNullWhen(false)] out JsonHttpResult<OpenAIErrorResponse>? error)
    {
        prompt = null;
        error = null;
        switch (value)
        {
            case null or { ValueKind: JsonValueKind.Null }:
                error = OpenAIErrors.BadRequest("You must provide a prompt.", "prompt", "missing_required_parameter");
                return false;
            case { ValueKind: JsonValueKind.String } text:
                prompt = new CompletionPrompt(text.GetString()!, null);
                return true;
            case { ValueKind: JsonValueKind.Array } array when array.GetArrayLength() == 1 && array[0].ValueKind == JsonValueKind.String:
                prompt = new CompletionPrompt(array[0].GetString()!, null);
                return true;
            case { ValueKind: JsonValueKind.Array } array when array.GetArrayLength() == 1 && array[0].ValueKind == JsonValueKind.Array:
                return TryReadTokenIds(array[0], out prompt, out error);
            case { ValueKind: JsonValueKind.Array } array when array.GetArrayLength() > 0 && array[0].ValueKind == JsonValueKind.Number:
                return TryReadTokenIds(array, out prompt, out error);
            default:
                error = OpenAIErrors.BadRequest(
                    "Invalid 'prompt': expected a string, an array of token ids, or an array holding one of either. Batches of prompts are not supported.",
                    "prompt",
                    "invalid_type");
                return false;
        }
    }

    /// <summary>A token-id prompt (OpenAI's <c>prompt: [1, 5, 9]</c>): non-negative integers, used as given (no BOS added).</summary>
    private static bool TryReadTokenIds(JsonElement array, out CompletionPrompt? prompt, [NotNullWhen(false)] out JsonHttpResult<OpenAIErrorResponse>? error)
    {
        prompt = null;
        error = null;
        var ids = new int[array.GetArrayLength()];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out ids[i]) || ids[i] < 0)
            {
                error = OpenAIErrors.BadRequest(
                    $"Invalid 'prompt': element {i} of the token-id prompt is {(item.ValueKind == JsonValueKind.Number ? item.GetRawText() : item.ValueKind.ToString().ToLowerInvariant())}; token ids are non-negative integers.",
                    "prompt",
                    "invalid_value");
                return false;
            }

            i++;
        }

        if (ids.Length == 0)
        {
            error = OpenAIErrors.BadRequest("Invalid 'prompt': the token-id prompt is empty.", "prompt", "invalid_value");
            return false;
        }

        prompt = new CompletionPrompt(null, ids);
        return true;
    }
}
