using System.Text.Json.Serialization;

namespace LlmAspire.Inference.Models.Pruning;

/// <summary>
/// <c>pruning.json</c>, written beside a pruned model by <see cref="ModelPruner"/>: what was removed from which folder,
/// chosen by which measure over which calibration text, so the folder can be rebuilt and its cost judged.
/// </summary>
public sealed class PruningManifest
{
    /// <summary>The file name.</summary>
    public const string FileName = "pruning.json";

    /// <summary>The folder pruned (full path at the time).</summary>
    [JsonPropertyName("source")]
    public required string Source { get; init; }

    /// <summary>"built-in" (the sample in CalibrationText), or the calibration file's path.</summary>
    [JsonPropertyName("calibration")]
    public required string Calibration { get; init; }

    /// <summary>SHA-256 of the calibration file, hex; null for the built-in sample.</summary>
    [JsonPropertyName("calibration_sha256")]
    public string? CalibrationSha256 { get; init; }

    /// <summary>Calibration documents, each its own sequence.</summary>
    [JsonPropertyName("calibration_documents")]
    public int CalibrationDocuments { get; init; }

    /// <summary>Calibration tokens the statistics are over.</summary>
    [JsonPropertyName("calibration_tokens")]
    public int CalibrationTokens { get; init; }

    /// <summary>The layer measure: ShortGPT's Block Influence, 1 − mean cos(residual in, residual out).</summary>
    [JsonPropertyName("layer_measure")]
    public string LayerMeasure { get; init; } = "block_influence";

    /// <summary>The channel measure: ‖activation‖₂ over the calibration tokens × ‖down_proj column‖₂.</summary>
    [JsonPropertyName("ffn_measure")]
    public string FfnMeasure { get; init; } = "activation_norm_x_down_column_norm";

    /// <summary>The head measure: ‖o_proj contribution of the key/value group‖₂ over the calibration tokens.</summary>
    [JsonPropertyName("heads_measure")]
    public string HeadsMeasure { get; init; } = "group_output_norm";

    /// <summary>Block Influence of every source layer.</summary>
    [JsonPropertyName("block_influence")]
    public required IReadOnlyList<double> BlockInfluence { get; init; }

    /// <summary>The source layers dropped, ascending.</summary>
    [JsonPropertyName("dropped_layers")]
    public required IReadOnlyList<int> DroppedLayers { get; init; }

    /// <summary>Layers before and after.</summary>
    [JsonPropertyName("layers")]
    public required ShapeChange Layers { get; init; }

    /// <summary>Feed-forward channels per layer before and after.</summary>
    [JsonPropertyName("ffn")]
    public required ShapeChange Ffn { get; init; }

    /// <summary>Query heads per layer before and after.</summary>
    [JsonPropertyName("heads")]
    public required ShapeChange Heads { get; init; }

    /// <summary>Key/value heads per layer before and after.</summary>
    [JsonPropertyName("kv_heads")]
    public required ShapeChange KvHeads { get; init; }

    /// <summary>Bytes of the source graph (model.onnx plus external data).</summary>
    [JsonPropertyName("source_bytes")]
    public long SourceBytes { get; init; }

    /// <summary>Bytes of the written graph.</summary>
    [JsonPropertyName("bytes")]
    public long Bytes { get; init; }
}

/// <summary>A count before and after pruning.</summary>
/// <param name="Before">In the source.</param>
/// <param name="After">In the pruned folder.</param>
public sealed record ShapeChange(
    [property: JsonPropertyName("before")] int Before,
    [property: JsonPropertyName("after")] int After);

/// <summary>Source-generated JSON for <see cref="PruningManifest"/>.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(PruningManifest))]
internal sealed partial class PruningJsonContext : JsonSerializerContext;
