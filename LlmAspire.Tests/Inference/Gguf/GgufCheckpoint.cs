using System.Globalization;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.Gguf;
using LlmAspire.Tests.Inference.Tokenization;

namespace LlmAspire.Tests.Inference.Gguf;

/// <summary>
/// Writes a model as llama.cpp's convert_hf_to_gguf.py would: weights given in Hugging Face's layout (halves rotated),
/// the <c>{arch}.*</c> keys, tensors under GGUF's names with ne innermost first; for <c>llama</c> the q/k rows (and
/// biases) permuted by the converter's own reshape/swapaxes; for <c>gemma2</c> 1 added to every norm weight; for
/// <c>phi3</c> q/k/v and gate/up fused. Linear weights and the embedding are stored as the type asked for (norms and
/// biases stay F32, as llama.cpp keeps 1-D tensors); <see cref="Written"/> holds what the file's values stand for, in
/// Hugging Face's layout, for the reference forward pass.
/// </summary>
internal sealed class GgufCheckpoint
{
    private GgufCheckpoint(GgufWriter writer, LlamaWeights written)
    {
        Writer = writer;
        Written = written;
    }

    /// <summary>The writer, for tests that change a key or a tensor before writing.</summary>
    public GgufWriter Writer { get; }

    /// <summary>The weights as the file holds them (after quantization), Hugging Face layout, norms without Gemma's +1.</summary>
    public LlamaWeights Written { get; }

    public void Write(string path) => Writer.Write(path);

    /// <summary>
    /// Builds the file for <paramref name="config"/> (its ModelType is the GGUF architecture, "mistral" written as llama).
    /// The vocabulary is byte-level BPE (gpt2): the 256 byte characters then "x0", "x1", ...; <paramref name="eos"/> is its EOS.
    /// </summary>
    public static GgufCheckpoint Create(LlamaConfig config, LlamaWeights hf, GgmlType linearType = GgmlType.F32, int eos = 2, string pre = "qwen2")
    {
        string arch = config.ModelType == "mistral" ? "llama" : config.ModelType;
        var writer = new GgufWriter();
        writer.Add("general.architecture", arch)
            .Add("general.name", "test")
            .Add($"{arch}.context_length", (uint)config.ContextLength)
            .Add($"{arch}.embedding_length", (uint)config.Dim)
            .Add($"{arch}.block_count", (uint)config.Layers)
            .Add($"{arch}.feed_forward_length", (uint)config.HiddenDim)
            .Add($"{arch}.attention.head_count", (uint)config.Heads)
            .Add($"{arch}.attention.head_count_kv", (uint)config.KvHeads)
            .Add($"{arch}.attention.layer_norm_rms_epsilon", config.NormEpsilon)
            .Add($"{arch}.rope.freq_base", config.RopeTheta);
        if (config.HeadDim > 0 || arch is "qwen3" or "gemma2")
        {
            writer.Add($"{arch}.attention.key_length", (uint)config.HeadSize).Add($"{arch}.attention.value_length", (uint)config.HeadSize);
        }

        if (arch is "phi3" or "llama")
        {
            writer.Add($"{arch}.rope.dimension_count", (uint)config.RotarySize);
        }

        if (config.SlidingWindow > 0)
        {
            writer.Add($"{arch}.attention.sliding_window", (uint)config.SlidingWindow);
        }

        if (arch == "gemma2")
        {
            writer.Add("gemma2.attn_logit_softcapping", config.AttentionSoftcap).Add("gemma2.final_logit_softcapping", config.FinalLogitSoftcap);
            if (config.SlidingWindow == 0)
            {
                writer.Add("gemma2.attention.sliding_window", (uint)config.ContextLength);
            }
        }

        string[] tokens = [.. Enumerable.Range(0, 256).Select(b => TokenizerJsonBuilder.ByteChar(b).ToString())
            .Concat(Enumerable.Range(0, config.VocabSize - 256).Select(i => "x" + i.ToString(CultureInfo.InvariantCulture)))];
        writer.Add("tokenizer.ggml.model", "gpt2")
            .Add("tokenizer.ggml.pre", pre)
            .Add("tokenizer.ggml.tokens", GgufValueType.Array, new GgufArray(GgufValueType.String, tokens))
            .Add("tokenizer.ggml.token_type", GgufValueType.Array, new GgufArray(GgufValueType.Int32, Enumerable.Repeat(1, tokens.Length).ToArray()))
            .Add("tokenizer.ggml.merges", GgufValueType.Array, new GgufArray(GgufValueType.String, Array.Empty<string>()))
            .Add("tokenizer.ggml.bos_token_id", 1u)
            .Add("tokenizer.ggml.eos_token_id", (uint)eos);

        int dim = config.Dim, qDim = config.QueryDim, kvDim = config.KvDim;
        bool llama = arch == "llama", gemma = arch == "gemma2", phi3 = arch == "phi3";
        float[] Tensor(string name, float[] values, long rows, long cols, bool linear = true)
        {
            GgmlType type = linear && cols % (GgmlTypes.BlockOf(linearType)?.Values ?? 1) == 0 ? linearType : GgmlType.F32;
            (byte[] bytes, float[] stored) = GgmlEncoder.Encode(values, type);
            writer.AddTensor(name, rows == 1 ? [cols] : [cols, rows], type, bytes);
            return stored;
        }

        float[] Norm(string name, float[] w)
        {
            // Gemma: the converter adds 1 (RMSNorm multiplies by 1 + w); the reference adds it again itself.
            float[] stored = Tensor(name, gemma ? [.. w.Select(v => v + 1f)] : w, 1, w.Length, linear: false);
            return gemma ? [.. stored.Select(v => v - 1f)] : stored;
        }

        float[] PermuteQ(float[] w, int heads, int cols) => llama ? Permute(w, heads, cols) : w;
        float[] UnpermuteQ(float[] w, int heads, int cols) => llama ? Unpermute(w, heads, cols) : w;

        float[] embedding = Tensor("token_embd.weight", hf.TokenEmbedding, config.VocabSize, dim);
        var layers = Enumerable.Range(0, config.Layers).Select(l =>
        {
            string p = string.Create(CultureInfo.InvariantCulture, $"blk.{l}.");
            float[] wq, wk, wv, w1, w3;
            if (phi3)
            {
                float[] qkv = Tensor(p + "attn_qkv.weight", [.. hf.Wq[l], .. hf.Wk[l], .. hf.Wv[l]], qDim + 2 * kvDim, dim);
                (wq, wk, wv) = (qkv[..(qDim * dim)], qkv[(qDim * dim)..((qDim + kvDim) * dim)], qkv[((qDim + kvDim) * dim)..]);
                float[] gateUp = Tensor(p + "ffn_up.weight", [.. hf.W1[l], .. hf.W3[l]], 2 * config.HiddenDim, dim);
                (w1, w3) = (gateUp[..(config.HiddenDim * dim)], gateUp[(config.HiddenDim * dim)..]);
            }
            else
            {
                wq = UnpermuteQ(Tensor(p + "attn_q.weight", PermuteQ(hf.Wq[l], config.Heads, dim), qDim, dim), config.Heads, dim);
                wk = UnpermuteQ(Tensor(p + "attn_k.weight", PermuteQ(hf.Wk[l], config.KvHeads, dim), kvDim, dim), config.KvHeads, dim);
                wv = Tensor(p + "attn_v.weight", hf.Wv[l], kvDim, dim);
                w1 = Tensor(p + "ffn_gate.weight", hf.W1[l], config.HiddenDim, dim);
                w3 = Tensor(p + "ffn_up.weight", hf.W3[l], config.HiddenDim, dim);
            }

            return new
            {
                Norm = Norm(p + "attn_norm.weight", hf.AttentionNorm[l]),
                Wq = wq,
                Wk = wk,
                Wv = wv,
                Wo = Tensor(p + "attn_output.weight", hf.Wo[l], dim, qDim),
                Bq = hf.Bq is null ? null : UnpermuteQ(Tensor(p + "attn_q.bias", PermuteQ(hf.Bq[l], config.Heads, 1), 1, qDim, linear: false), config.Heads, 1),
                Bk = hf.Bk is null ? null : UnpermuteQ(Tensor(p + "attn_k.bias", PermuteQ(hf.Bk[l], config.KvHeads, 1), 1, kvDim, linear: false), config.KvHeads, 1),
                Bv = hf.Bv is null ? null : Tensor(p + "attn_v.bias", hf.Bv[l], 1, kvDim, linear: false),
                Bo = hf.Bo is null ? null : Tensor(p + "attn_output.bias", hf.Bo[l], 1, dim, linear: false),
                QNorm = hf.QNorm is null ? null : Tensor(p + "attn_q_norm.weight", hf.QNorm[l], 1, config.HeadSize, linear: false),
                KNorm = hf.KNorm is null ? null : Tensor(p + "attn_k_norm.weight", hf.KNorm[l], 1, config.HeadSize, linear: false),
                PostAttention = hf.PostAttentionNorm is null ? null : Norm(p + "post_attention_norm.weight", hf.PostAttentionNorm[l]),
                Ffn = Norm(p + "ffn_norm.weight", hf.FfnNorm[l]),
                PostFfn = hf.PostFfnNorm is null ? null : Norm(p + "post_ffw_norm.weight", hf.PostFfnNorm[l]),
                W1 = w1,
                W2 = Tensor(p + "ffn_down.weight", hf.W2[l], dim, config.HiddenDim),
                W3 = w3,
            };
        }).ToList();
        float[] finalNorm = Norm("output_norm.weight", hf.FinalNorm);
        float[] classifier = config.TiedEmbeddings ? embedding : Tensor("output.weight", hf.Classifier, config.VocabSize, dim);

        var written = new LlamaWeights
        {
            TokenEmbedding = embedding,
            AttentionNorm = [.. layers.Select(l => l.Norm)],
            Wq = [.. layers.Select(l => l.Wq)],
            Wk = [.. layers.Select(l => l.Wk)],
            Wv = [.. layers.Select(l => l.Wv)],
            Wo = [.. layers.Select(l => l.Wo)],
            Bq = layers[0].Bq is null ? null : [.. layers.Select(l => l.Bq!)],
            Bk = layers[0].Bk is null ? null : [.. layers.Select(l => l.Bk!)],
            Bv = layers[0].Bv is null ? null : [.. layers.Select(l => l.Bv!)],
            Bo = layers[0].Bo is null ? null : [.. layers.Select(l => l.Bo!)],
            QNorm = layers[0].QNorm is null ? null : [.. layers.Select(l => l.QNorm!)],
            KNorm = layers[0].KNorm is null ? null : [.. layers.Select(l => l.KNorm!)],
            FfnNorm = [.. layers.Select(l => l.Ffn)],
            PostAttentionNorm = layers[0].PostAttention is null ? null : [.. layers.Select(l => l.PostAttention!)],
            PostFfnNorm = layers[0].PostFfn is null ? null : [.. layers.Select(l => l.PostFfn!)],
            W1 = [.. layers.Select(l => l.W1)],
            W2 = [.. layers.Select(l => l.W2)],
            W3 = [.. layers.Select(l => l.W3)],
            FinalNorm = finalNorm,
            Classifier = classifier,
        };
        return new GgufCheckpoint(writer, written);
    }

    /// <summary>
    /// convert_hf_to_gguf.py's LlamaModel.permute: weights.reshape(n_head, 2, rows / n_head / 2, cols).swapaxes(1, 2),
    /// written out as index arithmetic: row (h, half, i) moves to (h, i, half).
    /// </summary>
    public static float[] Permute(float[] w, int heads, int cols)
    {
        int rows = w.Length / cols, half = rows / heads / 2;
        float[] result = new float[w.Length];
        for (int h = 0; h < heads; h++)
        {
            for (int s = 0; s < 2; s++)
            {
                for (int i = 0; i < half; i++)
                {
                    int from = (h * 2 + s) * half + i, to = (h * half + i) * 2 + s;
                    Array.Copy(w, from * cols, result, to * cols, cols);
                }
            }
        }

        return result;
    }

    /// <summary>The inverse of <see cref="Permute"/>.</summary>
    public static float[] Unpermute(float[] w, int heads, int cols)
    {
        int rows = w.Length / cols, half = rows / heads / 2;
        float[] result = new float[w.Length];
        for (int h = 0; h < heads; h++)
        {
            for (int s = 0; s < 2; s++)
            {
                for (int i = 0; i < half; i++)
                {
                    int from = (h * half + i) * 2 + s, to = (h * 2 + s) * half + i;
                    Array.Copy(w, from * cols, result, to * cols, cols);
                }
            }
        }

        return result;
    }
}
