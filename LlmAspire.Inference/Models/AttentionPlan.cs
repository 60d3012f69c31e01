using System.Globalization;

namespace LlmAspire.Inference.Models;

/// <summary>
/// The attention path a decoder is served on, chosen at load from what its graph declares, with the reason in words:
/// <see cref="AttentionPath.SharedBuffer"/> for GroupQueryAttention graphs without position ids (continuous batching in
/// one KV buffer), else <see cref="AttentionPath.PerSequence"/>, batched by padding when the graph takes both
/// <c>attention_mask</c> and <c>position_ids</c> (so padded positions are masked out and real ones keep their
/// numbers) and one sequence per run otherwise.
/// </summary>
/// <param name="Path">Where the KV cache lives.</param>
/// <param name="Padded">Per-sequence only: decode steps batch sequences of different lengths by right-padding their KV.</param>
/// <param name="AttentionOperators">The graph's attention in words, e.g. <c>com.microsoft.MultiHeadAttention + com.microsoft.RotaryEmbedding</c>.</param>
/// <param name="Reason">Why this path, in one sentence.</param>
public sealed record AttentionPlan(AttentionPath Path, bool Padded, string AttentionOperators, string Reason)
{
    /// <summary>ONNX Runtime's fused attention and rotary operators, as named in <see cref="DecoderGraphSummary.Operators"/>.</summary>
    private static readonly string[] s_attentionOperators =
    [
        "com.microsoft.GroupQueryAttention", "com.microsoft.MultiHeadAttention", "com.microsoft.Attention", "com.microsoft.SparseAttention",
        "com.microsoft.PagedAttention", "com.microsoft.DecoderMaskedMultiHeadAttention", "com.microsoft.RotaryEmbedding", "Attention", "RotaryEmbedding",
    ];

    /// <summary>The path in one line: what the server does with the KV cache, and whether prefixes are reused.</summary>
    public string Description => Path switch
    {
        AttentionPath.SharedBuffer => "shared KV buffer (GroupQueryAttention in place): continuous batching, prefix reuse on",
        _ when Padded => "per-sequence KV, decode steps batched by right-padding (attention_mask zeros, true position_ids): continuous batching, prefix reuse on (copied)",
        _ => "per-sequence KV, one sequence per run: continuous batching of requests, no padded batches, prefix reuse on (copied)",
    };

    /// <summary>
    /// Chooses the path for a graph: <paramref name="inputs"/> gives the IO names (<c>%d</c> for the layer), as
    /// genai_config.json declares them or as an Optimum export uses them.
    /// </summary>
    public static AttentionPlan Detect(DecoderGraphSummary graph, GenAiInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(inputs);
        string pastKey = inputs.PastKeyNames.Replace("%d", "0", StringComparison.Ordinal);
        if (!graph.Takes(pastKey))
        {
            throw new InvalidDataException(
                $"The decoder graph has no KV cache input '{pastKey}' (inputs: {string.Join(", ", graph.Inputs.Take(6))}); only decoders with past/present key-value inputs and outputs are served.");
        }

        string[] found = [.. s_attentionOperators.Where(graph.Uses)];
        string operators = found.Length > 0 ? string.Join(" + ", found)
            : graph.Uses("Softmax") ? "standard ONNX operators (MatMul, Softmax; no fused attention)"
            : "no attention operator recognized";
        bool gqa = graph.Uses("com.microsoft.GroupQueryAttention");
        bool positions = graph.Takes(inputs.PositionIds);
        bool mask = graph.Takes(inputs.AttentionMask);
        if (gqa && !positions)
        {
            return new AttentionPlan(
                AttentionPath.SharedBuffer, false, operators,
                "GroupQueryAttention without a position_ids input updates past and present as one buffer, so every sequence decodes in place in one preallocated KV cache.");
        }

        string perSequence = string.Create(
            CultureInfo.InvariantCulture,
            $"the graph takes {inputs.PastKeyNames.Replace("%d", "N", StringComparison.Ordinal)} and returns the present grown by the new tokens, so each sequence's KV is kept apart");
        if (gqa)
        {
            return new AttentionPlan(
                AttentionPath.PerSequence, false, operators,
                $"{perSequence}; GroupQueryAttention with position_ids reads each row's length from the mask, which padding would shift, so one sequence runs at a time.");
        }

        return mask && positions
            ? new AttentionPlan(
                AttentionPath.PerSequence, true, operators,
                $"{perSequence}; it takes {inputs.AttentionMask} and {inputs.PositionIds}, so right-padding is exact (padded keys masked out, positions given).")
            : new AttentionPlan(
                AttentionPath.PerSequence, false, operators,
                $"{perSequence}; without {(mask ? inputs.PositionIds : inputs.AttentionMask)} padding would not be exact, so one sequence runs at a time.");
    }
}
