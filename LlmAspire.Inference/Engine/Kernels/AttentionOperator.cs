namespace LlmAspire.Inference.Engine.Kernels;

/// <summary>
/// <see cref="AttentionKernel"/> as ONNX Runtime's CPU kernel for <c>com.microsoft.GroupQueryAttention</c>, float32.
/// </summary>
internal static class AttentionOperator
{
    /// <summary>
    /// query, key, value, past_key, past_value, seqlens_k, total_sequence_length, cos_cache, sin_cache: key and value
    /// are absent when the query is packed; past and the rotary caches may be absent in general.
    /// </summary>
    private static readonly CustomOperatorSlot[] Inputs =
    [
        new(OrtApiTable.ElementFloat),
        new(OrtApiTable.ElementFloat, Optional: true),
        new(OrtApiTable.ElementFloat, Optional: true),
        new(OrtApiTable.ElementFloat, Optional: true),
        new(OrtApiTable.ElementFloat, Optional: true),
        new(OrtApiTable.ElementInt32),
        new(OrtApiTable.ElementInt32),
        new(OrtApiTable.ElementFloat, Optional: true),
        new(OrtApiTable.ElementFloat, Optional: true),
    ];

    /// <summary>output, present_key, present_value.</summary>
    private static readonly CustomOperatorSlot[] Outputs =
    [
        new(OrtApiTable.ElementFloat),
        new(OrtApiTable.ElementFloat, Optional: true),
        new(OrtApiTable.ElementFloat, Optional: true),
    ];

    /// <summary>The operator, for <see cref="LlmAspireKernels"/>.</summary>
    public static CustomOperator Create() => new("GroupQueryAttention", Inputs, Outputs, CreateKernel);

    private static AttentionKernel CreateKernel(IntPtr info)
    {
        var attributes = new AttentionAttributes(
            Heads: (int)OrtApiTable.AttributeInt64(info, "num_heads", 0),
            KvHeads: (int)OrtApiTable.AttributeInt64(info, "kv_num_heads", 0),
            Scale: OrtApiTable.AttributeFloat(info, "scale", 0f),
            Softcap: OrtApiTable.AttributeFloat(info, "softcap", 0f),
            Rotary: OrtApiTable.AttributeInt64(info, "do_rotary", 0) == 1,
            RotaryInterleaved: OrtApiTable.AttributeInt64(info, "rotary_interleaved", 0) == 1,
            LocalWindow: (int)OrtApiTable.AttributeInt64(info, "local_window_size", -1));
        if (OrtApiTable.AttributeInt64(info, "smooth_softmax", 0) != 0)
        {
            throw new NotSupportedException("LlmAspire's GroupQueryAttention kernel does not do smooth_softmax.");
        }

        if (attributes.Heads <= 0 || attributes.KvHeads <= 0 || attributes.Heads % attributes.KvHeads != 0)
        {
            throw new InvalidOperationException($"GroupQueryAttention: num_heads {attributes.Heads} is not a multiple of kv_num_heads {attributes.KvHeads}.");
        }

        return new AttentionKernel(attributes);
    }
}
