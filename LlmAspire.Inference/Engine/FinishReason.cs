namespace LlmAspire.Inference.Engine;

/// <summary>Why a generation ended, in the OpenAI vocabulary.</summary>
public enum FinishReason
{
    /// <summary>End of sequence token or a stop string: OpenAI's <c>"stop"</c>.</summary>
    Stop,

    /// <summary><c>max_tokens</c> or the context was reached: OpenAI's <c>"length"</c>.</summary>
    Length,
}
