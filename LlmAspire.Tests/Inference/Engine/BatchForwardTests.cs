using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;

namespace LlmAspire.Tests.Inference.Engine;

public sealed class BatchForwardTests
{
    [Stories260KFact]
    public void ForwardBatch_RowsOfDifferentLengthsInOneSharedBuffer_MatchSingleSequenceRuns()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string folder = Path.Combine(temp.Path, "stories260K");
        ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, folder);
        using LanguageModel model = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu);
        DecoderSession decoder = model.Decoder;
        string[] prompts = ["Once upon a time", "Tom had a big red ball and he", "The sun"];
        int[][] tokens = [.. prompts.Select(p => model.Tokenizer.Encode(p, addBos: true))];
        int vocab = model.Config.VocabSize;

        // Reference: each sequence alone, greedy, 12 steps.
        int[][] expected = [.. tokens.Select(t => GreedyAlone(decoder, t, 12))];

        // Batched: prefill each prompt into its own row (row 1 in two chunks), then decode all rows together.
        using KvCache cache = decoder.CreateKvCache(slots: 4, context: 128);
        int[] lengths = new int[3];
        int[] next = new int[3];
        for (int r = 0; r < 3; r++)
        {
            int[] prompt = tokens[r];
            float[] logits;
            if (r == 1)
            {
                decoder.ForwardBatch(cache, r, [0], prompt.AsSpan(0, 3), 3);
                logits = decoder.ForwardBatch(cache, r, [3], prompt.AsSpan(3), prompt.Length - 3);
            }
            else
            {
                logits = decoder.ForwardBatch(cache, r, [0], prompt, prompt.Length);
            }

            lengths[r] = prompt.Length;
            next[r] = Sampler.ArgMax(logits);
        }

        var generated = new List<int>[] { [next[0]], [next[1]], [next[2]] };
        for (int step = 1; step < 12; step++)
        {
            float[] logits = decoder.ForwardBatch(cache, 0, lengths, next, 1);
            for (int r = 0; r < 3; r++)
            {
                lengths[r]++;
                next[r] = Sampler.ArgMax(logits.AsSpan(r * vocab, vocab));
                generated[r].Add(next[r]);
            }
        }

        for (int r = 0; r < 3; r++)
        {
            Assert.Equal(expected[r], generated[r]);
        }
    }

    private static int[] GreedyAlone(DecoderSession decoder, int[] prompt, int count)
    {
        using DecoderState state = decoder.CreateState();
        var result = new List<int>();
        float[] logits = decoder.Forward(state, prompt);
        for (int i = 0; i < count; i++)
        {
            int token = Sampler.ArgMax(logits);
            result.Add(token);
            logits = decoder.Forward(state, [token]);
        }

        return [.. result];
    }
}
