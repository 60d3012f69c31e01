namespace LlmAspire.Inference.Models;

/// <summary>How the engine keeps a decoder's KV cache while it batches sequences.</summary>
public enum AttentionPath
{
    /// <summary>
    /// One preallocated buffer of [slots, kv heads, context, head size] per layer, past and present alike:
    /// <c>GroupQueryAttention</c> writes the new positions in place (what <c>model convert</c> writes).
    /// </summary>
    SharedBuffer,

    /// <summary>
    /// Each sequence's keys and values kept apart and fed back as <c>past_key_values.N.*</c>; the graph returns
    /// <c>present.N.*</c> grown by the new tokens (ONNX Runtime GenAI folders with MultiHeadAttention, Optimum exports).
    /// </summary>
    PerSequence,
}
