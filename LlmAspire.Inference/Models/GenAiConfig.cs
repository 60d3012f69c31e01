using System.Text.Json.Serialization;

namespace LlmAspire.Inference.Models;

/// <summary>
/// The <c>genai_config.json</c> of a model folder, in ONNX Runtime GenAI's format (the keys we use). Settable
/// properties, not init-only: the JSON source generator would otherwise reset an absent key's default to null.
/// </summary>
public sealed class GenAiConfig
{
    /// <summary>The model section.</summary>
    [JsonPropertyName("model")]
    public required GenAiModel Model { get; set; }

    /// <summary>Default search options.</summary>
    [JsonPropertyName("search")]
    public GenAiSearch Search { get; set; } = new();
}

/// <summary>The <c>model</c> section.</summary>
public sealed class GenAiModel
{
    /// <summary>Beginning-of-sequence id, when the config gives one.</summary>
    [JsonPropertyName("bos_token_id")]
    public int? BosTokenId { get; set; }

    /// <summary>End-of-sequence ids: GenAI writes one number or, for models with several (Llama 3), an array.</summary>
    [JsonPropertyName("eos_token_id")]
    [JsonConverter(typeof(IntOrArrayConverter))]
    public int[]? EosTokenId { get; set; }

    /// <summary>Padding id.</summary>
    [JsonPropertyName("pad_token_id")]
    public int? PadTokenId { get; set; }

    /// <summary>Maximum positions.</summary>
    [JsonPropertyName("context_length")]
    public int ContextLength { get; set; }

    /// <summary>Vocabulary size.</summary>
    [JsonPropertyName("vocab_size")]
    public int VocabSize { get; set; }

    /// <summary>Architecture, "llama".</summary>
    [JsonPropertyName("type")]
    public string Type { get; set; } = "llama";

    /// <summary>The decoder graph.</summary>
    [JsonPropertyName("decoder")]
    public required GenAiDecoder Decoder { get; set; }
}

/// <summary>The <c>model.decoder</c> section.</summary>
public sealed class GenAiDecoder
{
    /// <summary>ONNX file name inside the folder.</summary>
    [JsonPropertyName("filename")]
    public string Filename { get; set; } = "model.onnx";

    /// <summary>Size of one attention head.</summary>
    [JsonPropertyName("head_size")]
    public int HeadSize { get; set; }

    /// <summary>Model width.</summary>
    [JsonPropertyName("hidden_size")]
    public int HiddenSize { get; set; }

    /// <summary>Query heads.</summary>
    [JsonPropertyName("num_attention_heads")]
    public int NumAttentionHeads { get; set; }

    /// <summary>Layers.</summary>
    [JsonPropertyName("num_hidden_layers")]
    public int NumHiddenLayers { get; set; }

    /// <summary>Key/value heads.</summary>
    [JsonPropertyName("num_key_value_heads")]
    public int NumKeyValueHeads { get; set; }

    /// <summary>Graph input names.</summary>
    [JsonPropertyName("inputs")]
    public GenAiInputs Inputs { get; set; } = new();

    /// <summary>Graph output names.</summary>
    [JsonPropertyName("outputs")]
    public GenAiOutputs Outputs { get; set; } = new();
}

/// <summary>Decoder input names; <c>%d</c> stands for the layer.</summary>
public sealed class GenAiInputs
{
    /// <summary>Token ids.</summary>
    [JsonPropertyName("input_ids")]
    public string InputIds { get; set; } = LlamaOnnxBuilder.InputIds;

    /// <summary>Attention mask.</summary>
    [JsonPropertyName("attention_mask")]
    public string AttentionMask { get; set; } = LlamaOnnxBuilder.AttentionMask;

    /// <summary>Positions.</summary>
    [JsonPropertyName("position_ids")]
    public string PositionIds { get; set; } = LlamaOnnxBuilder.PositionIds;

    /// <summary>Past keys.</summary>
    [JsonPropertyName("past_key_names")]
    public string PastKeyNames { get; set; } = "past_key_values.%d.key";

    /// <summary>Past values.</summary>
    [JsonPropertyName("past_value_names")]
    public string PastValueNames { get; set; } = "past_key_values.%d.value";
}

/// <summary>Decoder output names; <c>%d</c> stands for the layer.</summary>
public sealed class GenAiOutputs
{
    /// <summary>Logits.</summary>
    [JsonPropertyName("logits")]
    public string Logits { get; set; } = LlamaOnnxBuilder.Logits;

    /// <summary>Present keys.</summary>
    [JsonPropertyName("present_key_names")]
    public string PresentKeyNames { get; set; } = "present.%d.key";

    /// <summary>Present values.</summary>
    [JsonPropertyName("present_value_names")]
    public string PresentValueNames { get; set; } = "present.%d.value";
}

/// <summary>The <c>search</c> section: generation defaults.</summary>
public sealed class GenAiSearch
{
    /// <summary>Sample (true) or greedy (false).</summary>
    [JsonPropertyName("do_sample")]
    public bool DoSample { get; set; }

    /// <summary>Maximum total length.</summary>
    [JsonPropertyName("max_length")]
    public int MaxLength { get; set; }

    /// <summary>Temperature.</summary>
    [JsonPropertyName("temperature")]
    public float Temperature { get; set; } = 1f;

    /// <summary>Top-k.</summary>
    [JsonPropertyName("top_k")]
    public int TopK { get; set; } = 1;

    /// <summary>Top-p.</summary>
    [JsonPropertyName("top_p")]
    public float TopP { get; set; } = 1f;

    /// <summary>
    /// Whether GenAI feeds one max-length buffer as both past and present (GroupQueryAttention graphs) or grows the past
    /// by each step's present (other attention); null leaves GenAI's default.
    /// </summary>
    [JsonPropertyName("past_present_share_buffer")]
    public bool? PastPresentShareBuffer { get; set; }
}

/// <summary>Reads a number or an array of numbers; writes a single number when there is one.</summary>
public sealed class IntOrArrayConverter : JsonConverter<int[]>
{
    /// <inheritdoc />
    public override int[]? Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case System.Text.Json.JsonTokenType.Number:
                return [reader.GetInt32()];
            case System.Text.Json.JsonTokenType.StartArray:
                var values = new List<int>();
                while (reader.Read() && reader.TokenType != System.Text.Json.JsonTokenType.EndArray)
                {
                    values.Add(reader.GetInt32());
                }

                return [.. values];
            case System.Text.Json.JsonTokenType.Null:
                return null;
            default:
                throw new System.Text.Json.JsonException($"Expected a number or an array of numbers, found {reader.TokenType}.");
        }
    }

    /// <inheritdoc />
    public override void Write(System.Text.Json.Utf8JsonWriter writer, int[] value, System.Text.Json.JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length == 1)
        {
            writer.WriteNumberValue(value[0]);
            return;
        }

        writer.WriteStartArray();
        foreach (int item in value)
        {
            writer.WriteNumberValue(item);
        }

        writer.WriteEndArray();
    }
}

/// <summary>Source-generated JSON for the model folder files.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GenAiConfig))]
[JsonSerializable(typeof(ModelArchitecture))]
internal sealed partial class ModelJsonContext : JsonSerializerContext;
