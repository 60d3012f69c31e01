using System.Globalization;
using System.Text.Json;
using LlmAspire.Inference;
using LlmAspire.OpenAIApi;
using LlmAspire.OpenAIApi.Chat;
using LlmAspire.OpenAIApi.Completions;
using LlmAspire.OpenAIApi.Errors;
using LlmAspire.OpenAIApi.Models;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LlmAspire.ModelServer.Apis;

/// <summary>
/// Checks the budget, sampling and stopping fields both endpoints share (<see cref="SamplingRequest"/>), the way OpenAI
/// does: one error at a time, <c>param</c> naming the field, <c>code</c> saying what is wrong. Defaults and ranges follow
/// OpenAI (max_tokens >= 1, temperature 1 in [0, 2], top_p 1 in (0, 1], penalties in [-2, 2], logit_bias in
/// [-100, 100], up to 4 stop strings) and vLLM for its extensions (top_k -1 or 0 = off, min_p in [0, 1],
/// repetition_penalty 1 in (0, 2]).
/// </summary>
internal static class SamplingValidator
{
    public const int MaxStopSequences = 4;
    public const double MaxTemperature = 2;
    public const double MaxPenalty = 2;
    public const double MaxRepetitionPenalty = 2;
    public const double MaxLogitBias = 100;

    /// <summary>The checks that need no model; <paramref name="maxSequences"/> bounds <c>n</c>.</summary>
    public static JsonHttpResult<OpenAIErrorResponse>? Validate(SamplingRequest request, int maxSequences, out SamplingSettings? settings)
    {
        settings = null;
        if (request.MaxTokens is < 1 and var maxTokens)
        {
            return OpenAIErrors.BelowMinimum("max_tokens", "integer", ">= 1", maxTokens);
        }

        if (request.Temperature is { } temperature && !(temperature >= 0))
        {
            return OpenAIErrors.BelowMinimum("temperature", "decimal", ">= 0", temperature);
        }

        if (request.Temperature is > MaxTemperature and var hot)
        {
            return OpenAIErrors.AboveMaximum("temperature", "decimal", $"<= {MaxTemperature}", hot);
        }

        // The sampler works in float: a positive double that rounds to 0f there (1e-320) is as invalid as 0.
        if (request.TopP is { } topP && !((float)topP > 0))
        {
            return OpenAIErrors.BelowMinimum("top_p", "decimal", "> 0", topP);
        }

        if (request.TopP is > 1 and var wide)
        {
            return OpenAIErrors.AboveMaximum("top_p", "decimal", "<= 1", wide);
        }

        if (request.TopK is < -1 and var topK)
        {
            return OpenAIErrors.BelowMinimum("top_k", "integer", ">= -1 (-1 or 0 disables top-k)", topK);
        }

        if (request.MinP is < 0 and var minP)
        {
            return OpenAIErrors.BelowMinimum("min_p", "decimal", ">= 0", minP);
        }

        if (request.MinP is > 1 and var highMinP)
        {
            return OpenAIErrors.AboveMaximum("min_p", "decimal", "<= 1", highMinP);
        }

        if (CheckPenalty("presence_penalty", request.PresencePenalty) is { } presence)
        {
            return presence;
        }

        if (CheckPenalty("frequency_penalty", request.FrequencyPenalty) is { } frequency)
        {
            return frequency;
        }

        if (request.RepetitionPenalty is { } repetition && !((float)repetition > 0))
        {
            return OpenAIErrors.BelowMinimum("repetition_penalty", "decimal", "> 0", repetition);
        }

        if (request.RepetitionPenalty is > MaxRepetitionPenalty and var strong)
        {
            return OpenAIErrors.AboveMaximum("repetition_penalty", "decimal", $"<= {MaxRepetitionPenalty}", strong);
        }

        if (request.N is < 1 and var few)
        {
            return OpenAIErrors.BelowMinimum("n", "integer", ">= 1", few);
        }

        if (request.N is { } many && many > maxSequences)
        {
            return OpenAIErrors.AboveMaximum("n", "integer", $"<= {maxSequences} (ModelServer:MaxSequences)", many);
        }

        if (request.StreamOptions is not null && request.Stream != true)
        {
            return OpenAIErrors.BadRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options", "invalid_value");
        }

        if (ReadLogitBias(request.LogitBias, out var logitBias) is { } biasError)
        {
            return biasError;
        }

        if (ReadStop(request.Stop, out var stop) is { } stopError)
        {
            return stopError;
        }

        if (StructuredOutputReader.ReadGuided(request, out var constraint) is { } guidedError)
        {
            return guidedError;
        }

        var stream = request.Stream ?? false;
        settings = new SamplingSettings(
            request.Model,
            (float)(request.Temperature ?? 1),
            (float)(request.TopP ?? 1),
            Math.Max(0, request.TopK ?? 0),
            (float)(request.MinP ?? 0),
            request.Seed,
            (float)(request.PresencePenalty ?? 0),
            (float)(request.FrequencyPenalty ?? 0),
            (float)(request.RepetitionPenalty ?? 1),
            logitBias,
            stop!,
            request.N ?? 1,
            stream,
            stream && request.StreamOptions?.IncludeUsage == true)
        {
            Constraint = constraint,
        };
        return null;
    }

    /// <summary>A count of alternative tokens per position (<c>logprobs</c>, <c>top_logprobs</c>): 0 to <paramref name="max"/>.</summary>
    public static JsonHttpResult<OpenAIErrorResponse>? ValidateLogprobCount(string param, int? count, int max) => count switch
    {
        < 0 => OpenAIErrors.BelowMinimum(param, "integer", ">= 0", count.Value),
        _ when count > max => OpenAIErrors.AboveMaximum(param, "integer", $"<= {max}", count.Value),
        _ => null,
    };

    /// <summary>The checks against the served model: its id, and logit_bias naming tokens it has.</summary>
    public static JsonHttpResult<OpenAIErrorResponse>? ValidateForModel(SamplingSettings settings, LanguageModel model)
    {
        if (settings.Model is { } name && !string.Equals(name, model.Id, StringComparison.Ordinal))
        {
            return OpenAIErrors.ModelNotFound(name);
        }

        var vocabulary = model.VocabularySize;
        if (settings.LogitBias?.Keys.FirstOrDefault(id => id >= vocabulary, -1) is >= 0 and var unknown)
        {
            return OpenAIErrors.BadRequest(
                $"Invalid key in 'logit_bias': {unknown}. The vocabulary of {model.Id} has token ids 0 to {vocabulary - 1}.",
                "logit_bias",
                "invalid_value");
        }

        return null;
    }

    /// <summary>The completion budget against the engine's context: <c>integer_above_max_value</c> beyond it.</summary>
    public static JsonHttpResult<OpenAIErrorResponse>? ValidateMaxTokens(string param, int? maxTokens, LanguageModel model)
    {
        var context = model.ContextLength;
        return maxTokens > context
            ? OpenAIErrors.AboveMaximum(param, "integer", $"<= {context} (the context length of {model.Id})", maxTokens.Value)
            : null;
    }

    /// <summary>A prompt that leaves no room for a completion (<paramref name="promptTokens"/> may be a truncated count: context + 1).</summary>
    public static JsonHttpResult<OpenAIErrorResponse>? ValidatePromptLength(int promptTokens, LanguageModel model)
    {
        var context = model.ContextLength;
        if (promptTokens < context)
        {
            return null;
        }

        var length = promptTokens > context ? $"more than {context}" : $"{promptTokens}";
        return OpenAIErrors.ContextLengthExceeded(
            $"This model's maximum context length is {context} tokens. However, your prompt is {length} tokens long, which leaves no room for a completion. Please reduce the length of the prompt.",
            "prompt");
    }

    private static JsonHttpResult<OpenAIErrorResponse>? CheckPenalty(string param, double? value) => value switch
    {
        < -MaxPenalty => OpenAIErrors.BelowMinimum(param, "decimal", $">= -{MaxPenalty}", value.Value),
        > MaxPenalty => OpenAIErrors.AboveMaximum(param, "decimal", $"<= {MaxPenalty}", value.Value),
        _ => null,
    };

    private static JsonHttpResult<OpenAIErrorResponse>? ReadLogitBias(JsonElement? value, out IReadOnlyDictionary<int, float>? bias)
    {
        bias = null;
        switch (value)
        {
            case null or { ValueKind: JsonValueKind.Null }:
                return null;
            case { ValueKind: JsonValueKind.Object } map:
                var result = new Dictionary<int, float>();
                foreach (var entry in map.EnumerateObject())
                {
                    if (!int.TryParse(entry.Name, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                    {
                        return OpenAIErrors.BadRequest(
                            $"Invalid key in 'logit_bias': {entry.Name}. You should only be submitting non-negative integers (token ids).",
                            "logit_bias",
                            "invalid_value");
                    }

                    if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetDouble(out var amount))
                    {
                        return OpenAIErrors.BadRequest(
                            $"Invalid value for 'logit_bias' key {entry.Name}: expected a number between -{MaxLogitBias} and {MaxLogitBias}.",
                            "logit_bias",
                            "invalid_type");
                    }

                    if (amount is < -MaxLogitBias or > MaxLogitBias)
                    {
                        return OpenAIErrors.BadRequest(
                            string.Create(CultureInfo.InvariantCulture, $"Invalid value for 'logit_bias' key {entry.Name}: {amount}. Expected a value between -{MaxLogitBias} and {MaxLogitBias}."),
                            "logit_bias",
                            "invalid_value");
                    }

                    result[id] = (float)amount;
                }

                bias = result.Count > 0 ? result : null;
                return null;
            default:
                return OpenAIErrors.BadRequest(
                    "Invalid 'logit_bias': expected an object mapping token ids (as strings) to biases between -100 and 100.",
                    "logit_bias",
                    "invalid_type");
        }
    }

    private static JsonHttpResult<OpenAIErrorResponse>? ReadStop(JsonElement? value, out IReadOnlyList<string>? stop)
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

    private static JsonHttpResult<OpenAIErrorResponse> InvalidStopType() =>
        OpenAIErrors.BadRequest(
            $"Invalid 'stop': expected a string or an array of up to {MaxStopSequences} strings.",
            "stop",
            "invalid_type");
}
