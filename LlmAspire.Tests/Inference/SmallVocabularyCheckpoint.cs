using System.Text;
using LlmAspire.Inference.Models;

namespace LlmAspire.Tests.Inference;

/// <summary>
/// A llama2.c checkpoint whose vocabulary has no byte-fallback tokens, as a small custom llama2.c model has: 105
/// tokens (<c>&lt;unk&gt;</c>, <c>&lt;s&gt;</c>, <c>&lt;/s&gt;</c> as llama2.c's export writes them, the characters,
/// 30 merges), written here byte by byte in llama2.c's tokenizer.bin format, and seeded random weights.
/// </summary>
internal static class SmallVocabularyCheckpoint
{
    /// <summary>The characters, after the three control tokens (space, newline, letters, digits, punctuation).</summary>
    public const string Characters = " \nabcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'\"-:";

    /// <summary>The merges, in merge order: each joins two pieces that exist before it.</summary>
    public static readonly string[] Merges =
    [
        "he", " t", " a", "in", " the", "nd", " s", "er", "on", " w", "ed", "an", " and", "ou", " h",
        "at", "it", " b", "ing", "en", " o", "re", "is", " l", "ll", " m", "ar", " T", "Th", " The",
    ];

    public const int UnkId = 0;
    public const int BosId = 1;
    public const int EosId = 2;

    public static LlamaConfig Config { get; } = new(Dim: 32, HiddenDim: 64, Layers: 2, Heads: 4, KvHeads: 2, VocabSize: 105, ContextLength: 64, TiedEmbeddings: true);

    /// <summary>The pieces as tokenizer.bin holds them, by id.</summary>
    public static IReadOnlyList<string> Pieces { get; } = ["<unk>", "\n<s>\n", "\n</s>\n", .. Characters.Select(c => c.ToString()), .. Merges];

    public static LlamaWeights Weights { get; } = BuiltInModels.RandomWeights(Config, seed: 105, scale: 0.2f);

    /// <summary>The id of a piece as tokenizer.bin spells it (a space, not "▁").</summary>
    public static int Id(string piece) => Pieces.ToList().IndexOf(piece) is int id and >= 0 ? id : throw new ArgumentException($"'{piece}' is not in the vocabulary.", nameof(piece));

    /// <summary>Writes <c>small.bin</c> and <c>small-tok.bin</c> into <paramref name="directory"/>; returns their paths.</summary>
    public static (string Checkpoint, string Tokenizer) Write(string directory)
    {
        if (Pieces.Count != Config.VocabSize)
        {
            throw new InvalidOperationException($"The vocabulary has {Pieces.Count} pieces, the model {Config.VocabSize}.");
        }

        string checkpoint = Path.Combine(directory, "small.bin");
        Llama2cCheckpoint.Write(checkpoint, Config, Weights);

        // llama2.c's tokenizer.bin: int max_token_length, then per token: float score, int byte length, UTF-8 bytes.
        // Scores as SentencePiece's BPE gives them: controls 0, merges -rank (earlier merges win), characters below all merges.
        string tokenizer = Path.Combine(directory, "small-tok.bin");
        byte[][] bytes = [.. Pieces.Select(Encoding.UTF8.GetBytes)];
        using (var writer = new BinaryWriter(File.Create(tokenizer)))
        {
            writer.Write(bytes.Max(b => b.Length));
            for (int id = 0; id < Pieces.Count; id++)
            {
                int character = id - 3, merge = id - 3 - Characters.Length;
                float score = id < 3 ? 0f : merge < 0 ? -100f - character : -1f - merge;
                writer.Write(score);
                writer.Write(bytes[id].Length);
                writer.Write(bytes[id]);
            }
        }

        return (checkpoint, tokenizer);
    }
}
