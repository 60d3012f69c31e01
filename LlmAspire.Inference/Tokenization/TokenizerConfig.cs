using System.Text.Json;

namespace LlmAspire.Inference.Tokenization;

/// <summary>
/// The keys of a Hugging Face <c>tokenizer_config.json</c> that tokenization and chat need. Token names may be
/// written as strings or as <c>{"content": …}</c> objects; <c>chat_template</c> as a string or a list of named
/// templates (the one named "default" is used), or in a <c>chat_template.jinja</c> file beside it.
/// </summary>
public sealed class TokenizerConfig
{
    /// <summary>The file name.</summary>
    public const string FileName = "tokenizer_config.json";

    /// <summary>Where newer transformers versions keep the chat template.</summary>
    public const string ChatTemplateFileName = "chat_template.jinja";

    /// <summary>An empty configuration (no file).</summary>
    public static TokenizerConfig Empty { get; } = new();

    /// <summary><c>add_bos_token</c>, or null when absent (then the post-processor decides).</summary>
    public bool? AddBosToken { get; init; }

    /// <summary><c>add_eos_token</c>, or null when absent.</summary>
    public bool? AddEosToken { get; init; }

    /// <summary><c>bos_token</c>.</summary>
    public string? BosToken { get; init; }

    /// <summary><c>eos_token</c>.</summary>
    public string? EosToken { get; init; }

    /// <summary><c>unk_token</c>.</summary>
    public string? UnkToken { get; init; }

    /// <summary><c>pad_token</c>.</summary>
    public string? PadToken { get; init; }

    /// <summary><c>tokenizer_class</c>, such as "LlamaTokenizer".</summary>
    public string? TokenizerClass { get; init; }

    /// <summary><c>model_max_length</c>, when it is a sensible integer.</summary>
    public long? ModelMaxLength { get; init; }

    /// <summary>The Jinja chat template, or null.</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>Reads <c>tokenizer_config.json</c> in <paramref name="directory"/> (an absent file gives <see cref="Empty"/>).</summary>
    public static TokenizerConfig ReadFolder(string directory)
    {
        string path = Path.Combine(directory, FileName);
        TokenizerConfig config = File.Exists(path) ? Read(path) : Empty;
        string jinja = Path.Combine(directory, ChatTemplateFileName);
        if (config.ChatTemplate is null && File.Exists(jinja))
        {
            config = config.With(File.ReadAllText(jinja));
        }

        return config;
    }

    /// <summary>Reads a <c>tokenizer_config.json</c> file.</summary>
    public static TokenizerConfig Read(string path)
    {
        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>Parses the text of a <c>tokenizer_config.json</c>.</summary>
    public static TokenizerConfig Parse(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        JsonElement root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException("tokenizer_config.json must hold a JSON object.");
        }

        return new TokenizerConfig
        {
            AddBosToken = OptionalBool(root, "add_bos_token"),
            AddEosToken = OptionalBool(root, "add_eos_token"),
            BosToken = TokenName(root, "bos_token"),
            EosToken = TokenName(root, "eos_token"),
            UnkToken = TokenName(root, "unk_token"),
            PadToken = TokenName(root, "pad_token"),
            TokenizerClass = root.TryGetProperty("tokenizer_class", out JsonElement c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null,
            ModelMaxLength = root.TryGetProperty("model_max_length", out JsonElement m) && m.ValueKind == JsonValueKind.Number && m.TryGetInt64(out long max) ? max : null,
            ChatTemplate = ChatTemplateOf(root),
        };
    }

    private TokenizerConfig With(string chatTemplate) => new()
    {
        AddBosToken = AddBosToken,
        AddEosToken = AddEosToken,
        BosToken = BosToken,
        EosToken = EosToken,
        UnkToken = UnkToken,
        PadToken = PadToken,
        TokenizerClass = TokenizerClass,
        ModelMaxLength = ModelMaxLength,
        ChatTemplate = chatTemplate,
    };

    private static bool? OptionalBool(JsonElement root, string name) =>
        root.TryGetProperty(name, out JsonElement value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : null;

    private static string? TokenName(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out JsonElement value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when value.TryGetProperty("content", out JsonElement content) && content.ValueKind == JsonValueKind.String => content.GetString(),
            _ => null,
        };
    }

    private static string? ChatTemplateOf(JsonElement root)
    {
        if (!root.TryGetProperty("chat_template", out JsonElement value))
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString();
        }

        if (value.ValueKind == JsonValueKind.Array)
        {
            string? first = null;
            foreach (JsonElement entry in value.EnumerateArray())
            {
                if (entry.ValueKind != JsonValueKind.Object || !entry.TryGetProperty("template", out JsonElement template) || template.ValueKind != JsonValueKind.String)
                {
                    continue;
                }

                first ??= template.GetString();
                if (entry.TryGetProperty("name", out JsonElement name) && name.GetString() == "default")
                {
                    return template.GetString();
                }
            }

            return first;
        }

        return null;
    }
}
