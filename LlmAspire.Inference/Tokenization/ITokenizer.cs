namespace LlmAspire.Inference.Tokenization;

/// <summary>Text to token ids and back, for one model.</summary>
public interface ITokenizer
{
    /// <summary>Number of ids in the vocabulary.</summary>
    int VocabularySize { get; }

    /// <summary>Beginning-of-sequence id.</summary>
    int BosId { get; }

    /// <summary>End-of-sequence id.</summary>
    int EosId { get; }

    /// <summary>Encodes <paramref name="text"/>, with BOS first when <paramref name="addBos"/> is set.</summary>
    int[] Encode(string text, bool addBos);

    /// <summary>Decodes ids to text; special tokens are dropped, byte tokens are joined into UTF-8.</summary>
    string Decode(IEnumerable<int> ids);

    /// <summary>The raw bytes a token stands for (empty for special tokens).</summary>
    ReadOnlySpan<byte> TokenBytes(int id);
}
