using System.Text;
using LlmAspire.Inference.Tokenization;

namespace LlmAspire.Cli.Benchmarking;

/// <summary>
/// A deterministic vocabulary of a real model's size (32,000 ids, as Llama 2's) for grammar benchmarks: three special
/// tokens (end-of-sequence is id 2), the 256 byte tokens, whitespace runs, numbers, punctuation clusters, JSON-ish
/// pieces (<c>"name</c>, <c>":</c>, <c>},</c>) and pseudo-words with and without a leading space, capitalised or not,
/// a few with accents or CJK — the mix of lengths and first bytes that decides a token mask's cost.
/// </summary>
internal sealed class SyntheticVocabulary : ITokenizer
{
    private readonly List<byte[]> _tokens = [[], [], []];

    public SyntheticVocabulary(int size, int seed = 32000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1024);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int b = 0; b < 256; b++)
        {
            _tokens.Add([(byte)b]);
        }

        void Add(string token)
        {
            if (_tokens.Count < size && Encoding.UTF8.GetByteCount(token) > 1 && seen.Add(token))
            {
                _tokens.Add(Encoding.UTF8.GetBytes(token));
            }
        }

        for (int n = 2; n <= 16; n++)
        {
            Add(new string(' ', n));
            Add("\n" + new string(' ', n - 1));
        }

        Add("\n\n");
        Add("\t\t");
        for (int n = 0; n < 1000; n++)
        {
            Add(n.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Add(" " + n.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        string punctuation = "{}[]:,\"'().-_/\\!?;=<>*#@&%+";
        var random = new Random(seed);
        foreach (char a in punctuation)
        {
            foreach (char b in punctuation)
            {
                if (random.Next(3) == 0)
                {
                    Add($"{a}{b}");
                }
            }
        }

        foreach (string piece in (string[])["{\"", "\":", "\": ", "\",", "\", \"", "\"}", "\"]", "},", "}}", "[{", "[\"", "\\n", "\\\"", "\":\"", "\":[", "\":{", "\"},", "\"}]", "\n}", "\n]", " {", " [", " }", " ]", "true", "false", "null", " true", " false", " null"])
        {
            Add(piece);
        }

        string[] syllables = [.. from c in "bcdfghjklmnprstvwyz" from v in "aeiou" select $"{c}{v}", "th", "ing", "er", "ed", "st", "ch", "sh", "ion", "ly", "an", "en", "or", "al", "es", "re"];
        string accents = "éèàüöñçåø";
        while (_tokens.Count < size)
        {
            var word = new StringBuilder();
            int parts = 1 + random.Next(random.Next(2) == 0 ? 2 : 5);
            for (int i = 0; i < parts; i++)
            {
                word.Append(syllables[random.Next(syllables.Length)]);
            }

            if (random.Next(40) == 0)
            {
                word.Insert(random.Next(word.Length), accents[random.Next(accents.Length)]);
            }

            string w = word.ToString();
            switch (random.Next(20))
            {
                case < 11: Add(" " + w); break;
                case < 16: Add(w); break;
                case < 18: Add(" " + char.ToUpperInvariant(w[0]) + w[1..]); break;
                case 18: Add("\"" + w); break;
                default: Add(char.ConvertFromUtf32(0x4E00 + random.Next(0x5000))); break;
            }
        }
    }

    public int VocabularySize => _tokens.Count;

    public int BosId => 1;

    public int EosId => 2;

    public int[] Encode(string text, bool addBos) => [.. (addBos ? [1] : Array.Empty<int>()), .. Encoding.UTF8.GetBytes(text).Select(b => b + 3)];

    public string Decode(IEnumerable<int> ids) => Encoding.UTF8.GetString([.. ids.SelectMany(id => _tokens[id])]);

    public ReadOnlySpan<byte> TokenBytes(int id) => _tokens[id];
}
