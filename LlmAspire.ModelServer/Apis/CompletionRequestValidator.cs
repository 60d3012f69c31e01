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

    private static bool TryReadPrompt(JsonElement? value, out string? prompt, [NotNullWhen(false)] out JsonHttpResult<OpenAIErrorResponse>? error)
    {
        prompt = null;
        error = null;
        switch (value)
        {
            case null or { ValueKind: JsonValueKind.Null }:
                error = OpenAIErrors.BadRequest("You must provide a prompt.", "prompt", "missing_required_parameter");
                return false;
            case { ValueKind: JsonValueKind.String } text:
                prompt = text.GetString()!;
                return true;
            case { ValueKind: JsonValueKind.Array } array when array.GetArrayLength() == 1 && array[0].ValueKind == JsonValueKind.String:
                prompt = array[0].GetString()!;
                return true;
            default:
                error = OpenAIErrors.BadRequest(
                    "Invalid 'prompt': expected a string or an array holding one string. Batches of prompts and token-id prompts are not supported.",
                    "prompt",
                    "invalid_type");
                return false;
        }
    }
}
