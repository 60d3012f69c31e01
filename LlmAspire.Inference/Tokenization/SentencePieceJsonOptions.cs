namespace LlmAspire.Inference.Tokenization;

/// <summary>
/// How <see cref="TokenizerJsonWriter"/> writes a SentencePiece vocabulary beyond llama2.c's defaults: the names the
/// vocabulary itself gives its control tokens, further special and added tokens, the BOS/EOS and dummy-prefix flags,
/// the padding token and the chat template (what a GGUF file's <c>tokenizer.ggml.*</c> keys say).
/// </summary>
public sealed record SentencePieceJsonOptions
{
    /// <summary>llama2.c's defaults: Hugging Face's <c>&lt;unk&gt;</c>, <c>&lt;s&gt;</c>, <c>&lt;/s&gt;</c>, BOS added, a dummy prefix, nothing else.</summary>
    public static SentencePieceJsonOptions Default { get; } = new();

    /// <summary>Write the unknown, BOS and EOS tokens as the vocabulary spells them rather than as <c>&lt;unk&gt;</c>, <c>&lt;s&gt;</c>, <c>&lt;/s&gt;</c>.</summary>
    public bool KeepControlNames { get; init; }

    /// <summary>
    /// Tokens matched whole in the text and left out of the merges, by id: true for control (special) tokens, false for
    /// user-defined ones. The unknown, BOS and EOS tokens are always special and need not be listed.
    /// </summary>
    public IReadOnlyDictionary<int, bool> AddedTokens { get; init; } = new Dictionary<int, bool>();

    /// <summary>Ids that keep their vocabulary entry but take no part in merges (SentencePiece's unused pieces).</summary>
    public IReadOnlySet<int> UnusedTokens { get; init; } = new HashSet<int>();

    /// <summary>Encoding puts BOS first.</summary>
    public bool AddBos { get; init; } = true;

    /// <summary>Encoding puts EOS last.</summary>
    public bool AddEos { get; init; }

    /// <summary>SentencePiece's dummy prefix: a "▁" before the text (Llama 2), or none (Gemma).</summary>
    public bool AddPrefixSpace { get; init; } = true;

    /// <summary>The padding token's id, when the vocabulary has one.</summary>
    public int? PadId { get; init; }

    /// <summary>tokenizer_config.json's <c>chat_template</c>, when given.</summary>
    public string? ChatTemplate { get; init; }
}
