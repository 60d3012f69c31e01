using System.Text.Json;
using LlmAspire.Inference.Models.Calibration;
using Onnx;

namespace LlmAspire.Inference.Models.Quantization;

/// <summary>
/// Quantizes a model folder into a new one: the decoder graph rewritten (MatMulNBits and/or float16), every
/// other file copied unchanged, and <see cref="QuantizationManifest.FileName"/> written beside them.
/// </summary>
public static class ModelQuantizer
{
    /// <summary>
    /// Writes the quantized copy of <paramref name="inputDirectory"/> to <paramref name="outputDirectory"/>, which must
    /// not exist or be empty unless <paramref name="overwrite"/> is set. The folder appears whole or not at all.
    /// </summary>
    public static QuantizationManifest QuantizeFolder(string inputDirectory, string outputDirectory, QuantizationOptions options, bool overwrite = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(inputDirectory);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputDirectory);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        string input = Path.GetFullPath(inputDirectory);
        string output = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outputDirectory));
        if (string.Equals(input.TrimEnd(Path.DirectorySeparatorChar), output, StringComparison.Ordinal))
        {
            throw new ArgumentException("The output folder must differ from the input folder.", nameof(outputDirectory));
        }

        if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any() && !overwrite)
        {
            throw new IOException($"'{output}' exists and is not empty.");
        }

        (_, GenAiConfig genai) = ModelFolder.ReadConfig(input);
        string modelFile = genai.Model.Decoder.Filename;
        string modelPath = Path.Combine(input, modelFile);
        if (File.Exists(Path.Combine(input, QuantizationManifest.FileName)))
        {
            throw new InvalidDataException($"'{input}' is already quantized ({QuantizationManifest.FileName}); quantize its float32 source instead.");
        }

        IReadOnlyList<string>? documents = options.Method == QuantizationMethod.Rtn ? null : CalibrationText.Load(options.CalibrationFile);
        (ModelProto model, IReadOnlyList<string> externalFiles) = OnnxModelFile.Load(modelPath);
        CalibratedQuantization? calibrated = documents is null ? null : CalibratedQuantization.Prepare(model, input, options, documents);
        MatMulNBitsResult? result;
        using (calibrated)
        {
            result = options.Bits is null ? null : calibrated is null ? MatMulNBitsRewriter.Apply(model, options) : calibrated.Apply(model);
        }

        if (options.Float16)
        {
            Float16Converter.Convert(model, [genai.Model.Decoder.Outputs.Logits]);
        }

        return StagedFolder.Write(output, staging =>
        {
            string written = Path.Combine(staging, modelFile);
            ModelFolder.WriteOnnx(model, written);
            var skip = new HashSet<string>(externalFiles.Append(modelFile), StringComparer.Ordinal);
            StagedFolder.CopyFiles(input, staging, skip);

            var manifest = new QuantizationManifest
            {
                Format = options.Bits is null ? "float16" : "MatMulNBits",
                Bits = options.Bits,
                BlockSize = options.Bits is null ? null : options.BlockSize,
                Symmetric = options.Bits is null ? null : options.Symmetric,
                AccuracyLevel = options.Bits is null ? null : options.AccuracyLevel,
                LmHead = options.Bits is not null && options.QuantizeLmHead,
                DType = options.Float16 ? "float16" : "float32",
                Method = options.Bits is null ? null : QuantizationOptions.MethodName(options.Method),
                Calibration = documents is null ? null : options.CalibrationFile is null ? "built-in" : Path.GetFileName(options.CalibrationFile),
                CalibrationSha256 = documents is null || options.CalibrationFile is null ? null : CalibrationText.Sha256(options.CalibrationFile),
                CalibrationTokens = calibrated?.Tokens,
                CalibrationNotes = calibrated is { Notes.Count: > 0 } ? calibrated.Notes : null,
                QuantizedMatMuls = result?.Quantized ?? 0,
                KeptMatMuls = result?.Kept ?? [],
                Source = input,
                SourceBytes = OnnxModelFile.SizeOnDisk(modelPath),
                Bytes = OnnxModelFile.SizeOnDisk(written),
            };
            File.WriteAllText(Path.Combine(staging, QuantizationManifest.FileName), JsonSerializer.Serialize(manifest, QuantizationJsonContext.Default.QuantizationManifest));
            return manifest;
        });
    }

    /// <summary>Reads a folder's <see cref="QuantizationManifest.FileName"/>, or null when it has none.</summary>
    public static QuantizationManifest? ReadManifest(string directory)
    {
        string path = Path.Combine(directory, QuantizationManifest.FileName);
        return File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllText(path), QuantizationJsonContext.Default.QuantizationManifest) : null;
    }
}
