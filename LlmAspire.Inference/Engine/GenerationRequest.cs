using LlmAspire.Inference.Constraints;

namespace LlmAspire.Inference.Engine;

/// <summary>One generation: the tokenized prompt (BOS included) and how to sample the continuation.</summary>
/// <param name="PromptTokens">Prompt token ids, starting with BOS.</param>
/// <param name="MaxTokens">Upper bound on generated tokens.</param>
/// <param name="Temperature">0 is greedy.</param>
/// <param name="TopP">Nucleus sampling mass in (0, 1].</param>
/// <param name="Seed">Seed for sampling; null draws one.</param>
/// <param name="Stop">Strings that end the generation; they are not part of the output.</param>
public sealed record GenerationRequest(
    IReadOnlyList<int> PromptTokens,
    int MaxTokens,
    float Temperature = 1f,
    float TopP = 1f,
    long? Seed = null,
    IReadOnlyList<string>? Stop = null)
{
    /// <summary>Keep only the k most likely tokens; 0 keeps all.</summary>
    public int TopK { get; init; }

    /// <summary>Drop tokens less likely than min_p times the most likely one; 0 keeps all.</summary>
    public float MinP { get; init; }

    /// <summary>OpenAI presence penalty: subtracted once from every token already generated.</summary>
    public float PresencePenalty { get; init; }

    /// <summary>OpenAI frequency penalty: subtracted once per earlier occurrence in the output.</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>Hugging Face repetition penalty over prompt and output (1 = off).</summary>
    public float RepetitionPenalty { get; init; } = 1f;

    /// <summary>Added to the logits of the given token ids before sampling.</summary>
    public IReadOnlyDictionary<int, float>? LogitBias { get; init; }

    /// <summary>Return each chosen token's log-probability.</summary>
    public bool Logprobs { get; init; }

    /// <summary>How many alternatives to return with each token's log-probability (0-20).</summary>
    public int TopLogprobs { get; init; }

    /// <summary>Token ids that end this generation besides the model's end-of-sequence ids (e.g. a chat template's end-of-turn).</summary>
    public IReadOnlySet<int>? StopTokenIds { get; init; }

    /// <summary>Independent completions of the same prompt, sharing one prefill.</summary>
    public int N { get; init; } = 1;

    /// <summary>
    /// The grammar every choice's output must match (JSON Schema, regex, choice, GBNF, tool calls): tokens it does
    /// not allow are masked before sampling, and the end tokens only when the output is complete; null for free text.
    /// </summary>
    public CompiledGrammar? Grammar { get; init; }

    /// <summary>
    /// One update per choice, when it finishes, with all its text (and log-probabilities) — for a reader that only
    /// wants the result (a non-streamed request), as vLLM's <c>RequestOutputKind.FINAL_ONLY</c>: the engine thread then
    /// does not hand every token to the reader's thread (a wake-up per token and row). The update's
    /// <see cref="GenerationUpdate.TimeToFirstToken"/> still says when the first token came.
    /// </summary>
    public bool FinalOnly { get; init; }
}
