using System.Text;
using LlmAspire.Inference.Constraints;
using LlmAspire.Inference.Tokenization;

namespace LlmAspire.Tests.Inference.Constraints;

/// <summary>Drives a grammar the way the engine will: masks, a random pick among the allowed tokens, advance.</summary>
internal static class GrammarTestKit
{
    /// <summary>
    /// Generates by picking uniformly among allowed tokens (end-of-sequence, when allowed, with probability
    /// <paramref name="stopChance"/>), checking on the way that every mask equals the brute-force answer.
    /// Returns the text and whether it ended by end-of-sequence.
    /// </summary>
    public static (string Text, bool Ended) RandomWalk(CompiledGrammar grammar, ITokenizer tokenizer, Random random, int maxTokens, double stopChance = 0.3, bool checkMasks = true)
    {
        GrammarMatcher matcher = grammar.CreateMatcher();
        var bytes = new List<byte>();
        ulong[] mask = new ulong[grammar.Vocabulary.MaskWords];
        for (int step = 0; step < maxTokens; step++)
        {
            matcher.FillMask(mask);
            var allowed = new List<int>();
            for (int id = 0; id < tokenizer.VocabularySize; id++)
            {
                bool inMask = (mask[id >> 6] & (1UL << (id & 63))) != 0;
                if (checkMasks && inMask != matcher.Allows(id))
                {
                    throw new InvalidOperationException($"Mask disagrees with brute force for token {id} ('{Encoding.UTF8.GetString(tokenizer.TokenBytes(id))}') after '{Encoding.UTF8.GetString([.. bytes])}': mask {inMask}.");
                }

                if (inMask)
                {
                    allowed.Add(id);
                }
            }

            if (allowed.Count == 0)
            {
                throw new InvalidOperationException($"No token is allowed after '{Encoding.UTF8.GetString([.. bytes])}'.");
            }

            int eos = tokenizer.EosId;
            int pick;
            if (allowed.Contains(eos) && (allowed.Count == 1 || random.NextDouble() < stopChance))
            {
                pick = eos;
            }
            else
            {
                List<int> words = [.. allowed.Where(a => a != eos)];
                pick = words[random.Next(words.Count)];
            }

            if (!matcher.Accept(pick))
            {
                throw new InvalidOperationException($"The matcher refused token {pick}, which its mask allowed.");
            }

            if (pick == eos)
            {
                return (Encoding.UTF8.GetString([.. bytes]), true);
            }

            bytes.AddRange(tokenizer.TokenBytes(pick).ToArray());
        }

        return (Encoding.UTF8.GetString([.. bytes]), false);
    }
}
