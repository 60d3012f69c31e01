namespace LlmAspire.Inference.Models.Quantization;

/// <summary>What <see cref="ModelQuantizer"/> does to a model folder.</summary>
public sealed record QuantizationOptions
{
    /// <summary>The default block size: 32 values per scale, ORT GenAI's default for int4 and the best quality of the sizes measured.</summary>
    public const int DefaultBlockSize = 32;

    /// <summary>
    /// The default accuracy_level, 4: on the CPU provider MatMulNBits then quantizes activations to int8 and uses
    /// integer dot products, 2x+ faster than float32 at int8 where level 0 dequantizes the whole weight on every call
    /// (10x slower than float32, see docs/BENCHMARKS.md). GPU providers pick their own compute type.
    /// </summary>
    public const int DefaultAccuracyLevel = 4;

    /// <summary>4 or 8: replace linear layers with <c>MatMulNBits</c>; null leaves the MatMuls alone (a float16 conversion only).</summary>
    public int? Bits { get; init; }

    /// <summary>Values per block along K (a power of two, at least 16).</summary>
    public int BlockSize { get; init; } = DefaultBlockSize;

    /// <summary>Symmetric quantization: no zero points (MatMulNBits uses 2^(bits-1)).</summary>
    public bool Symmetric { get; init; }

    /// <summary>Quantize the classifier (lm_head) as well; by default it stays in the source precision.</summary>
    public bool QuantizeLmHead { get; init; }

    /// <summary>
    /// MatMulNBits's <c>accuracy_level</c>: the lowest precision the kernel may compute in. 0 unset, 1 fp32, 2 fp16,
    /// 3 bf16, 4 int8 (the CPU provider then quantizes the activations to int8 per block and uses integer dot products).
    /// </summary>
    public int AccuracyLevel { get; init; } = DefaultAccuracyLevel;

    /// <summary>Convert the graph to float16: weights, activations and the KV cache (logits stay float32).</summary>
    public bool Float16 { get; init; }

    /// <summary>How the codes are chosen: round to nearest (the default), or a calibrated method.</summary>
    public QuantizationMethod Method { get; init; } = QuantizationMethod.Rtn;

    /// <summary>
    /// The calibration text for <see cref="QuantizationMethod.Awq"/> and <see cref="QuantizationMethod.Gptq"/>
    /// (paragraphs separated by blank lines); null uses <see cref="Calibration.CalibrationText.BuiltIn"/>.
    /// </summary>
    public string? CalibrationFile { get; init; }

    /// <summary>
    /// Mixed precision for a 4-bit GPTQ quantization: this percentage of the quantized weights (by count) stays at
    /// 8 bits, given to the MatMuls whose 4-bit output error, relative to their output, is largest. 0 (the default)
    /// quantizes every MatMul to <see cref="Bits"/>.
    /// </summary>
    public int Int8Percent { get; init; }

    /// <summary>Throws when the options are not a combination the quantizer writes.</summary>
    public void Validate()
    {
        if (Bits is int bits && !BlockQuantizer.SupportedBits.Contains(bits))
        {
            throw new ArgumentOutOfRangeException(nameof(Bits), bits, "bits must be 4 or 8.");
        }

        if (!BlockQuantizer.IsValidBlockSize(BlockSize))
        {
            throw new ArgumentOutOfRangeException(nameof(BlockSize), BlockSize, "block_size must be a power of two, at least 16.");
        }

        if (AccuracyLevel is < 0 or > 4)
        {
            throw new ArgumentOutOfRangeException(nameof(AccuracyLevel), AccuracyLevel, "accuracy_level is 0 to 4.");
        }

        if (Bits is null && !Float16)
        {
            throw new ArgumentException("Nothing to do: give bits (4 or 8), float16, or both.");
        }

        if (Method != QuantizationMethod.Rtn && Bits is null)
        {
            throw new ArgumentException($"The {MethodName(Method)} method quantizes weights: give bits (4 or 8).");
        }

        if (Int8Percent is < 0 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(Int8Percent), Int8Percent, "The 8-bit share is a percentage, 0 to 100.");
        }

        if (Int8Percent > 0 && (Bits != 4 || Method is not (QuantizationMethod.Gptq or QuantizationMethod.AwqGptq)))
        {
            throw new ArgumentException("An 8-bit share (mix<percent>) needs bits 4 and the gptq or awq+gptq method, which measure each MatMul's error.");
        }

        if (CalibrationFile is not null && Method == QuantizationMethod.Rtn)
        {
            throw new ArgumentException("A calibration file is read by the awq and gptq methods only; rtn uses none.");
        }
    }

    /// <summary>A short name such as <c>int4-b32-asym-acc4</c>, <c>int8-b128-sym-acc0-head</c>, <c>int4-b32-asym-acc4-gptq-mix25</c> or <c>fp16</c>.</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (Bits is int bits)
        {
            parts.Add($"int{bits}");
            parts.Add($"b{BlockSize}");
            parts.Add(Symmetric ? "sym" : "asym");
            parts.Add($"acc{AccuracyLevel}");

            if (QuantizeLmHead)
            {
                parts.Add("head");
            }

            if (Method != QuantizationMethod.Rtn)
            {
                parts.Add(MethodName(Method));
            }

            if (Int8Percent > 0)
            {
                parts.Add($"mix{Int8Percent}");
            }
        }

        if (Float16)
        {
            parts.Add("fp16");
        }

        return string.Join('-', parts);
    }

    /// <summary>The method's name as the command line and <see cref="QuantizationManifest"/> spell it: rtn, awq, gptq or awq+gptq.</summary>
    public static string MethodName(QuantizationMethod method) => method switch
    {
        QuantizationMethod.Awq => "awq",
        QuantizationMethod.Gptq => "gptq",
        QuantizationMethod.AwqGptq => "awq+gptq",
        _ => "rtn",
    };

    /// <summary>Parses rtn, awq, gptq or awq+gptq (any case).</summary>
    public static QuantizationMethod ParseMethod(string name) => name.Trim().ToLowerInvariant() switch
    {
        "rtn" => QuantizationMethod.Rtn,
        "awq" => QuantizationMethod.Awq,
        "gptq" => QuantizationMethod.Gptq,
        "awq+gptq" => QuantizationMethod.AwqGptq,
        _ => throw new FormatException($"'{name}' is not a quantization method: rtn, awq, gptq or awq+gptq."),
    };

    /// <summary>Parses a name written by <see cref="Describe"/> (e.g. <c>int4-b32-sym-acc4</c>, <c>int8-b64-asym-head</c>, <c>int4-b32-asym-acc4-gptq</c>, <c>int4-b32-asym-acc4-gptq-mix25</c>, <c>fp16</c>); absent parts take the defaults.</summary>
    public static QuantizationOptions Parse(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        int? bits = null;
        int blockSize = DefaultBlockSize, accuracy = DefaultAccuracyLevel, int8Percent = 0;
        bool symmetric = false, head = false, half = false;
        QuantizationMethod method = QuantizationMethod.Rtn;
        foreach (string part in name.Trim().ToLowerInvariant().Split('-'))
        {
            switch (part)
            {
                case "int4" or "int8":
                    bits = part[3] - '0';
                    break;
                case "sym":
                    symmetric = true;
                    break;
                case "asym":
                    symmetric = false;
                    break;
                case "head":
                    head = true;
                    break;
                case "fp16":
                    half = true;
                    break;
                case "rtn" or "awq" or "gptq" or "awq+gptq":
                    method = ParseMethod(part);
                    break;
                default:
                    if (part.Length > 1 && part[0] == 'b' && int.TryParse(part.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture, out int b))
                    {
                        blockSize = b;
                    }
                    else if (part.StartsWith("mix", StringComparison.Ordinal) && int.TryParse(part.AsSpan(3), System.Globalization.CultureInfo.InvariantCulture, out int mix))
                    {
                        int8Percent = mix;
                    }
                    else if (part.StartsWith("acc", StringComparison.Ordinal) && int.TryParse(part.AsSpan(3), System.Globalization.CultureInfo.InvariantCulture, out int a))
                    {
                        accuracy = a;
                    }
                    else
                    {
                        throw new FormatException($"'{part}' in '{name}' is not int4, int8, b<block size>, sym, asym, acc<level>, head, rtn, awq, gptq, awq+gptq, mix<percent> or fp16.");
                    }

                    break;
            }
        }

        var options = new QuantizationOptions
        {
            Bits = bits,
            BlockSize = blockSize,
            Symmetric = symmetric,
            QuantizeLmHead = head,
            AccuracyLevel = accuracy,
            Float16 = half,
            Method = method,
            Int8Percent = int8Percent,
        };
        options.Validate();
        return options;
    }
}
