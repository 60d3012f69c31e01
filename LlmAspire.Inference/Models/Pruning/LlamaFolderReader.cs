using System.Runtime.InteropServices;
using System.Text.Json;
using LlmAspire.Inference.Models.Quantization;
using Onnx;

namespace LlmAspire.Inference.Models.Pruning;

/// <summary>
/// Reads a float32 model folder written by <see cref="LlamaOnnxBuilder"/> back into <see cref="LlamaConfig"/> and
/// <see cref="LlamaWeights"/>: the inverse of <see cref="ModelFolder.WriteModel"/>. It knows the builder's initializer
/// names and layouts (weights stored transposed, heads padded to <see cref="LlamaConfig.AttentionHeadSize"/>, q|k|v and
/// gate|up stacked when the projections are fused, Qwen3's q/k norms rescaled for the padding) and undoes each, so a
/// folder read and written again has the same graph. Folders it did not write (ONNX exports, quantized folders) are
/// refused with one line saying why, since their tensors are not laid out as it expects.
/// </summary>
public static class LlamaFolderReader
{
    /// <summary>
    /// Throws <see cref="InvalidDataException"/> with a one-line reason unless <paramref name="directory"/> is a float32
    /// folder of our builder's (by its files alone: cheap, nothing large is read).
    /// </summary>
    public static void CheckWrittenByBuilder(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"Model folder '{directory}' does not exist.");
        }

        if (File.Exists(Path.Combine(directory, QuantizationManifest.FileName)))
        {
            throw new InvalidDataException(
                $"'{directory}' is quantized ({QuantizationManifest.FileName}); prune its float32 source, then quantize the pruned folder with 'llmaspire model quantize'.");
        }

        if (!File.Exists(Path.Combine(directory, ModelFolder.ArchitectureFile)))
        {
            throw new InvalidDataException(
                $"'{directory}' was not written by LlmAspire's builder (no {ModelFolder.ArchitectureFile}); only folders from 'llmaspire model convert' or 'model create-demo' can be read back into weights.");
        }
    }

    /// <summary>Reads the folder's shape, weights, and whether its projections are fused.</summary>
    public static BuilderFolder Read(string directory)
    {
        CheckWrittenByBuilder(directory);
        (LlamaConfig config, GenAiConfig genai) = ModelFolder.ReadConfig(directory);
        (ModelProto model, _) = OnnxModelFile.Load(Path.Combine(directory, genai.Model.Decoder.Filename));
        if (model.ProducerName != "LlmAspire")
        {
            throw new InvalidDataException($"'{directory}' has a graph made by '{model.ProducerName}', not LlmAspire's builder; its weights cannot be read back.");
        }

        if (model.Graph.Node.Any(n => n.OpType == "MatMulNBits"))
        {
            throw new InvalidDataException($"'{directory}' has MatMulNBits weights (quantized); prune its float32 source instead.");
        }

        var tensors = model.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        bool fused = tensors.ContainsKey("model.layers.0.attn.qkv_proj.weight_t");
        if (fused != tensors.ContainsKey("model.layers.0.mlp.gate_up_proj.weight_t"))
        {
            throw new InvalidDataException($"'{directory}' fuses one of q|k|v and gate|up but not the other, which LlmAspire's builder never writes.");
        }

        var reader = new Reader(directory, tensors, config);
        LlamaWeights weights = reader.Weights(fused);
        weights.Validate(config);
        string? source = JsonSerializer.Deserialize(File.ReadAllText(Path.Combine(directory, ModelFolder.ArchitectureFile)), ModelJsonContext.Default.ModelArchitecture)?.Source;
        return new BuilderFolder(config, weights, fused, genai, source);
    }

    /// <summary>[heads * padded, cols] to [heads * headSize, cols]: the inverse of the builder's row padding.</summary>
    internal static float[] UnpadHeadRows(float[] matrix, int heads, int headSize, int padded, int cols)
    {
        if (padded == headSize)
        {
            return matrix;
        }

        float[] result = new float[heads * headSize * cols];
        for (int h = 0; h < heads; h++)
        {
            Array.Copy(matrix, h * padded * cols, result, h * headSize * cols, headSize * cols);
        }

        return result;
    }

    /// <summary>[rows, heads * padded] to [rows, heads * headSize]: the inverse of the builder's column padding.</summary>
    internal static float[] UnpadHeadColumns(float[] matrix, int rows, int heads, int headSize, int padded)
    {
        if (padded == headSize)
        {
            return matrix;
        }

        float[] result = new float[rows * heads * headSize];
        for (int r = 0; r < rows; r++)
        {
            for (int h = 0; h < heads; h++)
            {
                Array.Copy(matrix, r * heads * padded + h * padded, result, r * heads * headSize + h * headSize, headSize);
            }
        }

        return result;
    }

    /// <summary>
    /// The q/k norm weight the builder scaled by sqrt(headSize / padded): divided back, then nudged by an ulp or two
    /// where the division does not land on the float whose product the builder wrote, so writing it again is exact.
    /// </summary>
    internal static float[] UnscaleHeadNorm(float[] stored, int headSize, int padded)
    {
        if (padded == headSize)
        {
            return stored;
        }

        float factor = MathF.Sqrt(headSize / (float)padded);
        float[] result = new float[headSize];
        for (int i = 0; i < headSize; i++)
        {
            float w = stored[i] / factor;
            for (int step = 0; step < 4 && w * factor != stored[i]; step++)
            {
                w = w * factor < stored[i] ? MathF.BitIncrement(w) : MathF.BitDecrement(w);
            }

            result[i] = w;
        }

        return result;
    }

    private sealed class Reader(string directory, Dictionary<string, TensorProto> tensors, LlamaConfig config)
    {
        private readonly int _dim = config.Dim;
        private readonly int _heads = config.Heads;
        private readonly int _kvHeads = config.KvHeads;
        private readonly int _headSize = config.HeadSize;
        private readonly int _padded = config.AttentionHeadSize;

        public LlamaWeights Weights(bool fused)
        {
            int layers = config.Layers, hidden = config.HiddenDim, dim = _dim;
            int qP = _heads * _padded, kvP = _kvHeads * _padded;
            var wq = new float[layers][];
            var wk = new float[layers][];
            var wv = new float[layers][];
            var wo = new float[layers][];
            var w1 = new float[layers][];
            var w2 = new float[layers][];
            var w3 = new float[layers][];
            var attentionNorm = new float[layers][];
            var ffnNorm = new float[layers][];
            float[][]? bq = config.QkvBias ? new float[layers][] : null, bk = config.QkvBias ? new float[layers][] : null, bv = config.QkvBias ? new float[layers][] : null;
            float[][]? bo = config.OutputBias ? new float[layers][] : null;
            float[][]? qNorm = config.QkNorm ? new float[layers][] : null, kNorm = config.QkNorm ? new float[layers][] : null;
            float[][]? postAttention = config.SandwichNorms ? new float[layers][] : null, postFfn = config.SandwichNorms ? new float[layers][] : null;
            for (int l = 0; l < layers; l++)
            {
                string p = $"model.layers.{l}";
                attentionNorm[l] = Get($"{p}.input_layernorm.weight", dim);
                if (fused)
                {
                    float[] qkv = Matrix($"{p}.attn.qkv_proj.weight_t", qP + 2 * kvP, dim);
                    wq[l] = UnpadHeadRows(qkv[..(qP * dim)], _heads, _headSize, _padded, dim);
                    wk[l] = UnpadHeadRows(qkv[(qP * dim)..((qP + kvP) * dim)], _kvHeads, _headSize, _padded, dim);
                    wv[l] = UnpadHeadRows(qkv[((qP + kvP) * dim)..], _kvHeads, _headSize, _padded, dim);
                    if (config.QkvBias)
                    {
                        float[] bias = Get($"{p}.attn.qkv_proj.bias", qP + 2 * kvP);
                        bq![l] = UnpadHeadRows(bias[..qP], _heads, _headSize, _padded, 1);
                        bk![l] = UnpadHeadRows(bias[qP..(qP + kvP)], _kvHeads, _headSize, _padded, 1);
                        bv![l] = UnpadHeadRows(bias[(qP + kvP)..], _kvHeads, _headSize, _padded, 1);
                    }
                }
                else
                {
                    wq[l] = UnpadHeadRows(Matrix($"{p}.attn.q_proj.weight_t", qP, dim), _heads, _headSize, _padded, dim);
                    wk[l] = UnpadHeadRows(Matrix($"{p}.attn.k_proj.weight_t", kvP, dim), _kvHeads, _headSize, _padded, dim);
                    wv[l] = UnpadHeadRows(Matrix($"{p}.attn.v_proj.weight_t", kvP, dim), _kvHeads, _headSize, _padded, dim);
                    if (config.QkvBias)
                    {
                        bq![l] = UnpadHeadRows(Get($"{p}.attn.q_proj.bias", qP), _heads, _headSize, _padded, 1);
                        bk![l] = UnpadHeadRows(Get($"{p}.attn.k_proj.bias", kvP), _kvHeads, _headSize, _padded, 1);
                        bv![l] = UnpadHeadRows(Get($"{p}.attn.v_proj.bias", kvP), _kvHeads, _headSize, _padded, 1);
                    }
                }

                if (config.QkNorm)
                {
                    qNorm![l] = UnscaleHeadNorm(Get($"{p}.attn.q_norm.weight", _padded), _headSize, _padded);
                    kNorm![l] = UnscaleHeadNorm(Get($"{p}.attn.k_norm.weight", _padded), _headSize, _padded);
                }

                wo[l] = UnpadHeadColumns(Matrix($"{p}.attn.o_proj.weight_t", dim, qP), dim, _heads, _headSize, _padded);
                if (config.OutputBias)
                {
                    bo![l] = Get($"{p}.attn.o_proj.bias", dim);
                }

                if (config.SandwichNorms)
                {
                    postAttention![l] = Get($"{p}.post_attention_layernorm.weight", dim);
                    ffnNorm[l] = Get($"{p}.pre_feedforward_layernorm.weight", dim);
                    postFfn![l] = Get($"{p}.post_feedforward_layernorm.weight", dim);
                }
                else
                {
                    ffnNorm[l] = Get($"{p}.post_attention_layernorm.weight", dim);
                }

                if (fused)
                {
                    float[] gateUp = Matrix($"{p}.mlp.gate_up_proj.weight_t", 2 * hidden, dim);
                    w1[l] = gateUp[..(hidden * dim)];
                    w3[l] = gateUp[(hidden * dim)..];
                }
                else
                {
                    w1[l] = Matrix($"{p}.mlp.gate_proj.weight_t", hidden, dim);
                    w3[l] = Matrix($"{p}.mlp.up_proj.weight_t", hidden, dim);
                }

                w2[l] = Matrix($"{p}.mlp.down_proj.weight_t", dim, hidden);
            }

            return new LlamaWeights
            {
                TokenEmbedding = Get("model.embed_tokens.weight", config.VocabSize * dim),
                AttentionNorm = attentionNorm,
                Wq = wq,
                Wk = wk,
                Wv = wv,
                Wo = wo,
                Bq = bq,
                Bk = bk,
                Bv = bv,
                Bo = bo,
                QNorm = qNorm,
                KNorm = kNorm,
                FfnNorm = ffnNorm,
                PostAttentionNorm = postAttention,
                PostFfnNorm = postFfn,
                W1 = w1,
                W2 = w2,
                W3 = w3,
                FinalNorm = Get("model.norm.weight", dim),
                Classifier = Matrix("lm_head.weight_t", config.VocabSize, dim),
            };
        }

        /// <summary>The [rows, cols] matrix the builder stored transposed as [cols, rows] under <paramref name="name"/>.</summary>
        private float[] Matrix(string name, int rows, int cols) => LlamaOnnxBuilder.Transpose(Get(name, rows * cols), cols, rows);

        private float[] Get(string name, int length)
        {
            if (!tensors.TryGetValue(name, out TensorProto? tensor))
            {
                throw new InvalidDataException($"'{directory}' has no initializer {name}; it was not written by LlmAspire's builder for this configuration.");
            }

            if (tensor.DataType != (int)TensorProto.Types.DataType.Float)
            {
                throw new InvalidDataException($"'{directory}': {name} is {(TensorProto.Types.DataType)tensor.DataType}, not float32; prune a float32 folder.");
            }

            float[] values = tensor.RawData.Length > 0
                ? MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray()
                : [.. tensor.FloatData];
            if (values.Length != length)
            {
                throw new InvalidDataException($"'{directory}': {name} has {values.Length} values, the configuration needs {length}.");
            }

            return values;
        }
    }
}
