using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using LlmAspire.Inference;
using LlmAspire.ModelServer.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LlmAspire.ModelServer.Apis;

/// <summary>
/// Checks a completion request the way OpenAI does: one error at a time, <c>param</c> naming the field,
/// <c>code</c> saying what is wrong with it. Defaults follow OpenAI (max_tokens 16, temperature 1, top_p 1).
/// </summary>
internal static class CompletionRequestValidator
{
    public const int DefaultMaxTokens = 16;
    public const int MaxStopSequences = 4;
    public const double MaxTemperature = 2;

    /// <summary>The checks that need no model.</summary>
    public static bool TryValidate(
        CompletionRequest request,
        [NotNullWhen(true)] out CompletionSettings? settings,
        [NotNullWhen(false)] out JsonHttpResult<ErrorResponse>? error)
    {
        settings = null;
        error = Validate(request, out var prompt, out var stop);
        if (error is not null)
        {
            return false;
        }

        var stream = request.Stream ?? false;
        settings = new CompletionSettings(
            request.Model,
            prompt!,
            request.MaxTokens ?? DefaultMaxTokens,
            (float)(request.Temperature ?? 1),
            (float)(request.TopP ?? 1),
            request.Seed,
            stop!,
            stream,
            stream && request.StreamOptions?.IncludeUsage == true);
        return true;
    }

    /// <summary>The checks against the served model: its id, and the prompt and completion fitting its context.</summary>
    public static JsonHttpResult<ErrorResponse>? ValidateForModel(CompletionSettings settings, LanguageModel model, int promptTokens)
    {
        if (settings.Model is { } name && !string.Equals(name, model.Id, StringComparison.Ordinal))
        {
            return OpenAIErrors.ModelNotFound(name);
        }

        var context = model.Config.ContextLength;
        if (settings.MaxTokens > context)
        {
            return OpenAIErrors.BadRequest(
                $"Invalid 'max_tokens': integer above maximum value. Expected a value <= {context} (the context length of {model.Id}), but got {settings.MaxTokens} instead.",
                "max_tokens",
                "integer_above_max_value");
        }

        if (promptTokens >= context)
        {
            return OpenAIErrors.BadRequest(
                $"This model's maximum context length is {context} tokens. However, your prompt is {promptTokens} tokens long, which leaves no room for a completion. Please reduce the length of the prompt.",
                "prompt",
                "context_length_exceeded");
        }

        if (promptTokens + settings.MaxTokens > context)
        {
            return OpenAIErrors.BadRequest(
                $"This model's maximum context length is {context} tokens. However, you requested {promptTokens + settings.MaxTokens} tokens ({promptTokens} in the prompt, {settings.MaxTokens} in the completion). Please reduce the length of the prompt or max_tokens.",
                "max_tokens",
                "context_length_exceeded");
        }

        return null;
    }

    private static JsonHttpResult<ErrorResponse>? Validate(CompletionRequest request, out string? prompt, out IReadOnlyList<string>? stop)
    {
        stop = null;
        if (!TryReadPrompt(request.Prompt, out prompt, out var promptError))
        {
            return promptError;
        }

        if (request.MaxTokens is < 1 and var maxTokens)
        {
            return BelowMinimum("max_tokens", "integer", ">= 1", maxTokens);
        }

        if (request.Temperature is { } temperature && !(temperature >= 0))
        {
            return BelowMinimum("temperature", "decimal", ">= 0", temperature);
        }

        if (request.Temperature is > MaxTemperature and var hot)
        {
            return OutOfRange("temperature", "decimal above maximum value", "decimal_above_max_value", $"<= {MaxTemperature}", hot);
        }

        if (request.TopP is { } topP && !(topP > 0))
        {
            return BelowMinimum("top_p", "decimal", "> 0", topP);
        }

        if (request.TopP is > 1 and var wide)
        {
            return OutOfRange("top_p", "decimal above maximum value", "decimal_above_max_value", "<= 1", wide);
        }

        if (request.N is { } n and not 1)
        {
            return OpenAIErrors.BadRequest($"Invalid 'n': only 1 choice per request is supported, but got {n}.", "n", "unsupported_value");
        }

        if (request.StreamOptions is not null && request.Stream != true)
        {
            return OpenAIErrors.BadRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options", "invalid_value");
        }

        return TryReadStop(request.Stop, out stop);
    }

    private static bool TryReadPrompt(JsonElement? value, out string? prompt, out JsonHttpResult<ErrorResponse>? error)
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

    private static JsonHttpResult<ErrorResponse>? TryReadStop(JsonElement? value, out IReadOnlyList<string>? stop)
    {
        stop = null;
        string?[] sequences;
        switch (value)
        {
            case null or { ValueKind: JsonValueKind.Null }:
                stop = [];
                return null;
            case { ValueKind: JsonValueKind.String } text:
                sequences = [text.GetString()];
                break;
            case { ValueKind: JsonValueKind.Array } array when array.GetArrayLength() > MaxStopSequences:
                return OpenAIErrors.BadRequest(
                    $"Invalid 'stop': array too long. Expected an array with maximum length {MaxStopSequences}, but got an array with length {array.GetArrayLength()} instead.",
                    "stop",
                    "array_above_max_length");
            case { ValueKind: JsonValueKind.Array } array:
                sequences = [.. array.EnumerateArray().Select(item => item.ValueKind == JsonValueKind.String ? item.GetString() : null)];
                break;
            default:
                return InvalidStopType();
        }

        if (sequences.Any(sequence => sequence is null))
        {
            return InvalidStopType();
        }

        if (sequences.Any(sequence => sequence!.Length == 0))
        {
            return OpenAIErrors.BadRequest("Invalid 'stop': stop sequences must not be empty.", "stop", "invalid_value");
        }

        stop = sequences!;
        return null;
    }

    private static JsonHttpResult<ErrorResponse> InvalidStopType() =>
        OpenAIErrors.BadRequest(
            $"Invalid 'stop': expected a string or an array of up to {MaxStopSequences} strings.",
            "stop",
            "invalid_type");

    private static JsonHttpResult<ErrorResponse> BelowMinimum(string param, string kind, string expected, double value) =>
        OutOfRange(param, $"{kind} below minimum value", $"{kind}_below_min_value", expected, value);

    private static JsonHttpResult<ErrorResponse> OutOfRange(string param, string what, string code, string expected, double value) =>
        OpenAIErrors.BadRequest(
            string.Create(CultureInfo.InvariantCulture, $"Invalid '{param}': {what}. Expected a value {expected}, but got {value} instead."),
            param,
            code);
}
