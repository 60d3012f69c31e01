using System.Text;
using LlmAspire.Inference.Tokenization;

namespace LlmAspire.Tests.Inference.Constraints;

/// <summary>
/// A tokenizer for grammar tests: every single byte is a token (so any text can be produced), plus the multi-byte
/// tokens given, plus end-of-sequence (id 0) and a special token without bytes (id 1).
/// </summary>
internal sealed class ByteTokenizer : ITokenizer
{
    private readonly List<byte[]> _tokens = [[], []];

    public ByteTokenizer(IEnumerable<string> words)
    {
        for (int b = 0; b < 256; b++)
        {
            _tokens.Add([(byte)b]);
        }

        foreach (string word in words.Distinct(StringComparer.Ordinal))
        {
            byte[] bytes = Encoding.UTF8.GetBytes(word);
            if (bytes.Length > 1)
            {
                _tokens.Add(bytes);
            }
        }
    }

    /// <summary>Tokens that JSON output uses often, some splitting multi-byte characters.</summary>
    public static ByteTokenizer Json { get; } = new([
        "{\"", "\":", "\": ", "\",", "\", \"", "\"}", "\"]", "\"}]", "},", "}", "[{", "[\"", "true", "false", "null", "nu", "ll",
        " \"", "  ", "    ", "\n", "\n  ", "name", "age", "id", "items", "12", "123", "0.", ".5", "e+", "-1", "00",
        "é", "日本", "\\n", "\\\"", "\\u00", "abc", "hello world", "\":\"", "\":[", "\":{", "\":1", "\":true}", ",\"", "1,", "],", "]}",
        "ab", "cd", "yes", "no", "maybe", "red", "green", "blue", "2024-", "-01-", "T12:", ":00Z",
    ]);

    public int VocabularySize => _tokens.Count;

    public int BosId => -1;

    public int EosId => 0;

    public int[] Encode(string text, bool addBos) => [.. Encoding.UTF8.GetBytes(text).Select(b => b + 2)];

    public string Decode(IEnumerable<int> ids) => Encoding.UTF8.GetString([.. ids.SelectMany(id => _tokens[id])]);

    public ReadOnlySpan<byte> TokenBytes(int id) => _tokens[id];
}
