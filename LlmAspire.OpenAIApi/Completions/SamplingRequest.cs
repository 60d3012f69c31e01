using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmAspire.OpenAIApi.Completions;

/// <summary>
/// The model, budget, sampling and stopping fields that <c>/v1/completions</c> and <c>/v1/chat/completions</c> share,
/// checked once by <c>SamplingValidator</c>. The wire names are those of the two request bodies.
/// </summary>
public abstract record SamplingRequest
{
    [JsonPropertyName("model")]
    public string? Model { get; init; }

    /// <summary>The completion budget; chat prefers <c>max_completion_tokens</c> (OpenAI deprecated this there), but still honours it.</summary>
    [JsonPropertyName("max_tokens")]
    public int? MaxTokens { get; init; }

    [JsonPropertyName("temperature")]
    public double? Temperature { get; init; }

    [JsonPropertyName("top_p")]
    public double? TopP { get; init; }

    /// <summary>vLLM's <c>top_k</c>: 0 or -1 keeps every token.</summary>
    [JsonPropertyName("top_k")]
    public int? TopK { get; init; }

    /// <summary>vLLM's <c>min_p</c>.</summary>
    [JsonPropertyName("min_p")]
    public double? MinP { get; init; }

    [JsonPropertyName("n")]
    public int? N { get; init; }

    [JsonPropertyName("seed")]
    public long? Seed { get; init; }

    [JsonPropertyName("presence_penalty")]
    public double? PresencePenalty { get; init; }

    [JsonPropertyName("frequency_penalty")]
    public double? FrequencyPenalty { get; init; }

    /// <summary>vLLM's <c>repetition_penalty</c> (1 = off).</summary>
    [JsonPropertyName("repetition_penalty")]
    public double? RepetitionPenalty { get; init; }

    /// <summary>An object from token ids (as strings) to a bias in [-100, 100].</summary>
    [JsonPropertyName("logit_bias")]
    public JsonElement? LogitBias { get; init; }

    /// <summary>A string, or an array of up to four strings.</summary>
    [JsonPropertyName("stop")]
    public JsonElement? Stop { get; init; }

    [JsonPropertyName("stream")]
    public bool? Stream { get; init; }

    [JsonPropertyName("stream_options")]
    public StreamOptions? StreamOptions { get; init; }

    // vLLM's structured-output extensions (both endpoints): one of them constrains the output.
    [JsonPropertyName("guided_json")]
    public JsonElement? GuidedJson { get; init; }

    [JsonPropertyName("guided_regex")]
    public JsonElement? GuidedRegex { get; init; }

    [JsonPropertyName("guided_choice")]
    public JsonElement? GuidedChoice { get; init; }

    [JsonPropertyName("guided_grammar")]
    public JsonElement? GuidedGrammar { get; init; }

    [JsonPropertyName("structured_outputs")]
    public JsonElement? StructuredOutputs { get; init; }
}
