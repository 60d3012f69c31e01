using System.Text.Json;
using LlmAspire.Inference.Tokenization;

namespace LlmAspire.Inference.Models.Exports;

/// <summary>
/// Writes a Llama decoder as a folder whose KV cache is per sequence (<see cref="AttentionPath.PerSequence"/>): the two
/// layouts other tools publish, so the second attention path is exercised on real folders. Neither is what
/// <c>model convert</c> writes (that is <see cref="ModelFolder"/>, GroupQueryAttention).
/// </summary>
public static class DecoderExportWriter
{
    /// <summary>Reads a llama2.c checkpoint and tokenizer.bin and writes them as <paramref name="kind"/> into <paramref name="directory"/>.</summary>
    public static LlamaConfig ConvertLlama2c(string checkpointPath, string tokenizerPath, string directory, DecoderExportKind kind)
    {
        (LlamaConfig config, LlamaWeights weights) = Llama2cCheckpoint.Read(checkpointPath);
        var tokenizer = SentencePieceBpeTokenizer.ReadLlama2c(tokenizerPath, config.VocabSize);
        Write(directory, config, weights, tokenizer, kind);
        return config;
    }

    /// <summary>Writes the graph, its configuration and the tokenizer (tokenizer.json, tokenizer_config.json).</summary>
    public static void Write(string directory, LlamaConfig config, LlamaWeights weights, SentencePieceBpeTokenizer tokenizer, DecoderExportKind kind)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (tokenizer.VocabularySize != config.VocabSize)
        {
            throw new InvalidDataException($"The tokenizer has {tokenizer.VocabularySize} tokens, the model {config.VocabSize}.");
        }

        Directory.CreateDirectory(directory);
        if (kind == DecoderExportKind.GenAiMultiHeadAttention)
        {
            ModelFolder.WriteOnnx(MultiHeadAttentionDecoderBuilder.Build(config, weights), Path.Combine(directory, ModelFolder.ModelFile));
            WriteGenAiConfig(directory, config, tokenizer);
        }
        else
        {
            ModelFolder.WriteOnnx(StandardOpsDecoderBuilder.Build(config, weights), Path.Combine(directory, ModelFolder.ModelFile));
            WriteTransformersConfig(directory, config, tokenizer);
        }

        TokenizerJsonWriter.Write(tokenizer, directory, config.ContextLength);
    }

    /// <summary>
    /// GenAI's config for a MultiHeadAttention graph: the cache holds every query head (num_key_value_heads = heads), and
    /// past and present are separate tensors (past_present_share_buffer false), as GenAI needs for attention other than GQA.
    /// </summary>
    private static void WriteGenAiConfig(string directory, LlamaConfig config, SentencePieceBpeTokenizer tokenizer)
    {
        GenAiConfig genai = ModelFolder.CreateGenAiConfig(config, new TokenIds(tokenizer.BosId, [tokenizer.EosId], tokenizer.UnkId), config.HeadSize, config.Heads);
        genai.Search.PastPresentShareBuffer = false;
        File.WriteAllText(Path.Combine(directory, ModelFolder.ConfigFile), JsonSerializer.Serialize(genai, ModelJsonContext.Default.GenAiConfig));
    }

    /// <summary>transformers' config.json (LlamaForCausalLM) and generation_config.json, as an Optimum export carries them.</summary>
    private static void WriteTransformersConfig(string directory, LlamaConfig config, SentencePieceBpeTokenizer tokenizer)
    {
        WriteJson(Path.Combine(directory, OnnxExportFolder.ConfigFile), json =>
        {
            json.WriteStartArray("architectures");
            json.WriteStringValue("LlamaForCausalLM");
            json.WriteEndArray();
            json.WriteString("model_type", "llama");
            json.WriteNumber("hidden_size", config.Dim);
            json.WriteNumber("intermediate_size", config.HiddenDim);
            json.WriteNumber("num_hidden_layers", config.Layers);
            json.WriteNumber("num_attention_heads", config.Heads);
            json.WriteNumber("num_key_value_heads", config.KvHeads);
            json.WriteNumber("head_dim", config.HeadSize);
            json.WriteNumber("vocab_size", config.VocabSize);
            json.WriteNumber("max_position_embeddings", config.ContextLength);
            json.WriteNumber("rms_norm_eps", config.NormEpsilon);
            json.WriteNumber("rope_theta", config.RopeTheta);
            json.WriteBoolean("tie_word_embeddings", config.TiedEmbeddings);
            json.WriteString("hidden_act", "silu");
            json.WriteNumber("bos_token_id", tokenizer.BosId);
            json.WriteNumber("eos_token_id", tokenizer.EosId);
            json.WriteString("torch_dtype", "float32");
            json.WriteBoolean("use_cache", true);
        });
        WriteJson(Path.Combine(directory, "generation_config.json"), json =>
        {
            json.WriteNumber("bos_token_id", tokenizer.BosId);
            json.WriteNumber("eos_token_id", tokenizer.EosId);
        });
    }

    private static void WriteJson(string path, Action<Utf8JsonWriter> body)
    {
        using FileStream stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        body(json);
        json.WriteEndObject();
    }
}
