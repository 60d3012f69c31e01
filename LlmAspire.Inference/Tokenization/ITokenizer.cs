namespace LlmAspire.Inference.Tokenization;

/// <summary>Text to token ids and back, for one model. Implementations are thread-safe.</summary>
public interface ITokenizer
{
    /// <summary>Number of ids in the vocabulary (the largest id plus one).</summary>
    int VocabularySize { get; }

    /// <summary>Beginning-of-sequence id; -1 when the model has none.</summary>
    int BosId { get; }

    /// <summary>End-of-sequence id; -1 when the model has none.</summary>
    int EosId { get; }

    /// <summary>
    /// Encodes <paramref name="text"/>. <paramref name="addBos"/> marks the start of a sequence: BOS goes first when
    /// the model's tokenizer adds one there (llama2.c and Llama-family configs do; GPT-2 and Qwen do not).
    /// </summary>
    int[] Encode(string text, bool addBos);

    /// <summary>
    /// Encodes like <see cref="Encode(string, bool)"/> but stops once more than <paramref name="maxTokens"/> ids
    /// are known: a result longer than <paramref name="maxTokens"/> (it then holds <paramref name="maxTokens"/> + 1
    /// ids) means the text does not fit, and the rest of it was not tokenized.
    /// </summary>
    int[] Encode(string text, bool addBos, int maxTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxTokens);
        int[] ids = Encode(text, addBos);
        return ids.Length > maxTokens ? ids[..(maxTokens + 1)] : ids;
    }

    /// <summary>Decodes ids to text; special tokens are dropped, byte tokens are joined into UTF-8.</summary>
    string Decode(IEnumerable<int> ids);

    /// <summary>The raw bytes a token stands for (empty for special tokens).</summary>
    ReadOnlySpan<byte> TokenBytes(int id);

    /// <summary>The tokenizer_config.json the tokenizer was loaded with (chat template, special tokens); null when it has none.</summary>
    TokenizerConfig? Config => null;

    /// <summary>Looks up the id of a token by its text as the vocabulary spells it (special tokens by their content).</summary>
    bool TryGetTokenId(string token, out int id)
    {
        id = -1;
        return false;
    }
}
