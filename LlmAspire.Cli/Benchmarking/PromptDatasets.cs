using System.Text;
using System.Text.Json;

namespace LlmAspire.Cli.Benchmarking;

/// <summary>
/// The workloads <c>bench serve</c> sends. Lengths are in tokens, approximated with words of a fixed vocabulary of
/// common short English words (about one token per word with a word-level or small BPE tokenizer; the server's
/// <c>usage.prompt_tokens</c> is the true count and is what the report uses when the server gives it).
/// </summary>
public static class PromptDatasets
{
    private static readonly string[] _vocabulary =
    [
        "the", "a", "little", "girl", "boy", "dog", "cat", "bird", "tree", "park", "ball", "sun", "day", "mom", "dad",
        "big", "red", "happy", "sad", "went", "saw", "played", "ran", "jumped", "was", "had", "and", "then", "to",
        "with", "in", "on", "he", "she", "they", "friend", "house", "garden", "flower", "toy", "car", "cake", "water",
        "sky", "fish", "blue", "green", "small", "kind", "said", "looked", "found", "wanted", "liked", "time", "one",
    ];

    /// <summary><paramref name="count"/> prompts of <paramref name="inputLength"/> words, each asking for <paramref name="outputLength"/> tokens.</summary>
    public static IReadOnlyList<BenchPrompt> Random(int count, int inputLength, int outputLength, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputLength);
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => new BenchPrompt(Words(random, inputLength), inputLength, outputLength))];
    }

    /// <summary>
    /// <paramref name="groups"/> long prefixes of <paramref name="prefixLength"/> words; each prompt is one of them
    /// (round-robin over the groups) followed by <paramref name="suffixLength"/> words of its own, so a server with a
    /// prefix cache, behind a router that sends a group to one server, prefills only the suffix.
    /// </summary>
    public static IReadOnlyList<BenchPrompt> SharedPrefix(int count, int groups, int prefixLength, int suffixLength, int outputLength, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(groups);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(prefixLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputLength);
        var random = new Random(seed);
        string[] prefixes = [.. Enumerable.Range(0, groups).Select(g => $"Story {g}: " + Words(random, prefixLength))];
        return [.. Enumerable.Range(0, count).Select(i =>
        {
            int group = i % groups;
            string suffix = suffixLength > 0 ? " " + Words(random, suffixLength) : string.Empty;
            return new BenchPrompt(prefixes[group] + suffix, prefixLength + 3 + suffixLength, outputLength, group);
        })];
    }

    /// <summary>
    /// Prompts from a JSON Lines file: each line a string, or an object with <c>prompt</c> (or <c>text</c>) and
    /// optionally <c>max_tokens</c>/<c>output_len</c>; taken in order, cycling when <paramref name="count"/> exceeds the lines.
    /// </summary>
    public static IReadOnlyList<BenchPrompt> Jsonl(string path, int count, int defaultOutputLength)
    {
        var lines = new List<BenchPrompt>();
        int number = 0;
        foreach (string line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            using JsonDocument document = ParseLine(path, number, line);
            JsonElement root = document.RootElement;
            string? text = root.ValueKind == JsonValueKind.String ? root.GetString()
                : root.TryGetProperty("prompt", out JsonElement p) ? p.GetString()
                : root.TryGetProperty("text", out JsonElement t) ? t.GetString() : null;
            if (text is null)
            {
                throw new FormatException($"{path}:{number}: expected a string or an object with 'prompt'.");
            }

            int output = root.ValueKind == JsonValueKind.Object && (root.TryGetProperty("max_tokens", out JsonElement m) || root.TryGetProperty("output_len", out m))
                ? (m.ValueKind == JsonValueKind.Number && m.TryGetInt32(out int n) && n > 0 ? n : throw new FormatException($"{path}:{number}: max_tokens must be a positive whole number."))
                : defaultOutputLength;
            lines.Add(new BenchPrompt(text, text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length, output));
        }

        if (lines.Count == 0)
        {
            throw new FormatException($"{path} holds no prompts.");
        }

        return [.. Enumerable.Range(0, count).Select(i => lines[i % lines.Count])];
    }

    private static JsonDocument ParseLine(string path, int number, string line)
    {
        try
        {
            return JsonDocument.Parse(line);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"{path}:{number}: not JSON ({ex.Message}); each line must be a JSON string or an object with 'prompt'.", ex);
        }
    }

    private static string Words(Random random, int count)
    {
        var builder = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            if (i > 0)
            {
                builder.Append(' ');
            }

            builder.Append(_vocabulary[random.Next(_vocabulary.Length)]);
        }

        return builder.ToString();
    }
}
