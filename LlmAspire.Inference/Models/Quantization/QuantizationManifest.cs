using System.Text.Json.Serialization;

namespace LlmAspire.Inference.Models.Quantization;

/// <summary>
/// <c>quantization.json</c>, written beside the model by <see cref="ModelQuantizer"/>: how the folder's graph was
/// derived from its source folder. Absent in unquantized folders.
/// </summary>
public sealed class QuantizationManifest
{
    /// <summary>The file name.</summary>
    public const string FileName = "quantization.json";

    /// <summary>"MatMulNBits" (block-wise weight-only), or "float16" for a float16 conversion alone.</summary>
    [JsonPropertyName("format")]
    public required string Format { get; init; }

    /// <summary>Bits per weight, 4 or 8; null when the MatMuls were not quantized.</summary>
    [JsonPropertyName("bits")]
    public int? Bits { get; init; }

    /// <summary>Values per block along K (a weight with fewer input features gets one block of the next power of two, at least 16).</summary>
    [JsonPropertyName("block_size")]
    public int? BlockSize { get; init; }

    /// <summary>No zero points.</summary>
    [JsonPropertyName("symmetric")]
    public bool? Symmetric { get; init; }

    /// <summary>MatMulNBits's accuracy_level.</summary>
    [JsonPropertyName("accuracy_level")]
    public int? AccuracyLevel { get; init; }

    /// <summary>How the codes were chosen: "rtn", "awq" or "gptq"; null for a float16 conversion alone.</summary>
    [JsonPropertyName("method")]
    public string? Method { get; init; }

    /// <summary>The calibration text of a calibrated method: "built-in", or the file's name; null for rtn.</summary>
    [JsonPropertyName("calibration")]
    public string? Calibration { get; init; }

    /// <summary>SHA-256 (lower-case hex) of the calibration file; null for the built-in text and for rtn.</summary>
    [JsonPropertyName("calibration_sha256")]
    public string? CalibrationSha256 { get; init; }

    /// <summary>Calibration tokens the activation statistics were collected over; null for rtn.</summary>
    [JsonPropertyName("calibration_tokens")]
    public int? CalibrationTokens { get; init; }

    /// <summary>What the calibrated method did to each group of MatMuls sharing an input (AWQ: α and where 1/s went).</summary>
    [JsonPropertyName("calibration_notes")]
    public IReadOnlyList<string>? CalibrationNotes { get; init; }

    /// <summary>Whether the classifier (lm_head) was quantized.</summary>
    [JsonPropertyName("lm_head")]
    public bool LmHead { get; init; }

    /// <summary>Compute and KV cache type: "float32" or "float16" (logits stay float32).</summary>
    [JsonPropertyName("dtype")]
    public required string DType { get; init; }

    /// <summary>MatMuls replaced by MatMulNBits.</summary>
    [JsonPropertyName("quantized_matmuls")]
    public int QuantizedMatMuls { get; init; }

    /// <summary>MatMuls left as they were, each with the reason.</summary>
    [JsonPropertyName("kept_matmuls")]
    public IReadOnlyList<string> KeptMatMuls { get; init; } = [];

    /// <summary>The folder quantized (full path at the time).</summary>
    [JsonPropertyName("source")]
    public required string Source { get; init; }

    /// <summary>Bytes of the source graph (model.onnx plus external data).</summary>
    [JsonPropertyName("source_bytes")]
    public long SourceBytes { get; init; }

    /// <summary>Bytes of the written graph (model.onnx plus external data).</summary>
    [JsonPropertyName("bytes")]
    public long Bytes { get; init; }
}

/// <summary>Source-generated JSON for <see cref="QuantizationManifest"/>.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(QuantizationManifest))]
internal sealed partial class QuantizationJsonContext : JsonSerializerContext;
