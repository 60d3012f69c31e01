using System.Globalization;
using LlmAspire.Inference.Tokenization;

namespace LlmAspire.Inference.Models.Gguf;

/// <summary>
/// A llama2.c checkpoint as a float32 <c>llama</c> GGUF, for llama.cpp to run the same weights as our folders
/// (<c>bench peers</c>). It writes what the tests' GGUF checkpoint writer writes for stories260K (checked token for
/// token against llama.cpp, and byte for byte against this class by a test): the <c>llama.*</c> keys, tok512 as a
/// SentencePiece vocabulary, and the tensors as they are, since llama2.c already keeps the q/k rows in the
/// adjacent-pair order that llama.cpp's converter permutes Hugging Face's into.
/// </summary>
internal static class Llama2cGguf
{
    /// <summary>Reads <paramref name="checkpointPath"/> and <paramref name="tokenizerPath"/> and writes <paramref name="ggufPath"/>.</summary>
    public static void Write(string checkpointPath, string tokenizerPath, string ggufPath, string name)
    {
        (LlamaConfig config, LlamaWeights weights) = Llama2cCheckpoint.Read(checkpointPath);
        var vocabulary = SentencePieceBpeTokenizer.ReadLlama2c(tokenizerPath, config.VocabSize);
        Create(config, weights, vocabulary, name).Write(ggufPath);
    }

    /// <summary>The GGUF of a llama2.c model (<paramref name="weights"/> in llama2.c's layout), every tensor float32.</summary>
    public static GgufWriter Create(LlamaConfig config, LlamaWeights weights, SentencePieceBpeTokenizer vocabulary, string name)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(vocabulary);
        var writer = new GgufWriter();
        writer.Add("general.architecture", "llama")
            .Add("llama.context_length", (uint)config.ContextLength)
            .Add("llama.embedding_length", (uint)config.Dim)
            .Add("llama.block_count", (uint)config.Layers)
            .Add("llama.feed_forward_length", (uint)config.HiddenDim)
            .Add("llama.attention.head_count", (uint)config.Heads)
            .Add("llama.attention.head_count_kv", (uint)config.KvHeads)
            .Add("llama.attention.layer_norm_rms_epsilon", config.NormEpsilon)
            .Add("llama.rope.freq_base", config.RopeTheta)
            .Add("llama.rope.dimension_count", (uint)config.RotarySize)
            .Add("tokenizer.ggml.bos_token_id", 1u)
            .Add("tokenizer.ggml.eos_token_id", 2u);

        // SentencePiece as llama.cpp reads it: "▁" for spaces, <unk>/<s>/</s> as the unknown and control tokens,
        // the 256 <0xNN> pieces as byte tokens (type 6), the scores as they are.
        string[] tokens = [.. vocabulary.Pieces.Select((p, id) => id switch { 0 => "<unk>", 1 => "<s>", 2 => "</s>", _ => p.Replace(' ', '▁') })];
        int[] types = [.. tokens.Select((t, id) => id == 0 ? 2 : id <= 2 ? 3 : t.Length == 6 && t.StartsWith("<0x", StringComparison.Ordinal) ? 6 : 1)];
        writer.Add("tokenizer.ggml.model", "llama")
            .Add("tokenizer.ggml.tokens", GgufValueType.Array, new GgufArray(GgufValueType.String, tokens))
            .Add("tokenizer.ggml.scores", GgufValueType.Array, new GgufArray(GgufValueType.Float32, vocabulary.Scores.ToArray()))
            .Add("tokenizer.ggml.token_type", GgufValueType.Array, new GgufArray(GgufValueType.Int32, types))
            .Add("tokenizer.ggml.unknown_token_id", 0u)
            .Add("tokenizer.ggml.add_bos_token", true)
            .Add("general.name", name);

        void Tensor(string tensor, float[] values, long rows, long cols) =>
            writer.AddTensor(tensor, rows == 1 ? [cols] : [cols, rows], GgmlType.F32, Bytes(values));

        int dim = config.Dim;
        Tensor("token_embd.weight", weights.TokenEmbedding, config.VocabSize, dim);
        for (int l = 0; l < config.Layers; l++)
        {
            string p = string.Create(CultureInfo.InvariantCulture, $"blk.{l}.");
            Tensor(p + "attn_q.weight", weights.Wq[l], config.QueryDim, dim);
            Tensor(p + "attn_k.weight", weights.Wk[l], config.KvDim, dim);
            Tensor(p + "attn_v.weight", weights.Wv[l], config.KvDim, dim);
            Tensor(p + "ffn_gate.weight", weights.W1[l], config.HiddenDim, dim);
            Tensor(p + "ffn_up.weight", weights.W3[l], config.HiddenDim, dim);
            Tensor(p + "attn_norm.weight", weights.AttentionNorm[l], 1, dim);
            Tensor(p + "attn_output.weight", weights.Wo[l], dim, config.QueryDim);
            Tensor(p + "ffn_norm.weight", weights.FfnNorm[l], 1, dim);
            Tensor(p + "ffn_down.weight", weights.W2[l], dim, config.HiddenDim);
        }

        Tensor("output_norm.weight", weights.FinalNorm, 1, dim);
        if (!config.TiedEmbeddings)
        {
            Tensor("output.weight", weights.Classifier, config.VocabSize, dim);
        }

        return writer;
    }

    private static byte[] Bytes(float[] values)
    {
        byte[] bytes = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        return bytes;
    }
}
