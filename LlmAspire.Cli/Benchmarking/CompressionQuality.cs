using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models.Quantization;

namespace LlmAspire.Cli.Benchmarking;

/// <summary>
/// The quality columns of <c>bench compression</c> and <c>bench quantization</c>, every row against float32 (the first):
/// greedy prefix agreement over <see cref="CompressionBench.Prompts"/>, teacher-forced top-1 on float32's continuations,
/// and KL and perplexity over <see cref="CompressionBench.HeldOutText"/>, which is in no calibration text.
/// </summary>
internal static class CompressionQuality
{
    /// <summary>Greedy agreement, teacher-forced top-1, KL and perplexity of every row against <paramref name="reference"/>; returns the KL positions.</summary>
    public static int Measure(List<CompressionRow> rows, LanguageModel reference, int agreementTokens, TextWriter log)
    {
        int[][] prompts = [.. CompressionBench.Prompts.Select(p => reference.Tokenizer.Encode(p, addBos: true))];
        int[][] referenceContinuations = [.. prompts.Select(p => Greedy(reference.Decoder, p, agreementTokens))];
        int[] text = reference.Tokenizer.Encode(CompressionBench.HeldOutText, addBos: true);
        text = text[..Math.Min(text.Length, Math.Min(reference.Config.ContextLength, 512))];
        float[] referenceTextLogits = TeacherForced(reference.Decoder, text);
        int vocab = reference.Config.VocabSize;
        foreach (CompressionRow row in rows)
        {
            DecoderSession decoder = row.Model!.Decoder;
            double prefix = 0, forced = 0;
            int whole = 0;
            for (int p = 0; p < prompts.Length; p++)
            {
                int[] continuation = row.Variant is null ? referenceContinuations[p] : Greedy(decoder, prompts[p], agreementTokens);
                int common = QuantizationMetrics.CommonPrefix(continuation, referenceContinuations[p]);
                prefix += (double)common / agreementTokens;
                whole += common == agreementTokens ? 1 : 0;
                float[] logits = TeacherForced(decoder, [.. prompts[p], .. referenceContinuations[p]]);
                int matches = 0;
                for (int i = 0; i < agreementTokens; i++)
                {
                    int position = prompts[p].Length - 1 + i;
                    matches += Sampler.ArgMax(logits.AsSpan(position * vocab, vocab)) == referenceContinuations[p][i] ? 1 : 0;
                }

                forced += (double)matches / agreementTokens;
            }

            row.PrefixAgreement = prefix / prompts.Length;
            row.WholePrompts = whole;
            row.TeacherForcedAgreement = forced / prompts.Length;
            float[] textLogits = row.Variant is null ? referenceTextLogits : TeacherForced(decoder, text);
            double kl = 0, nll = 0;
            for (int t = 0; t < text.Length - 1; t++)
            {
                kl += QuantizationMetrics.KlDivergence(referenceTextLogits.AsSpan(t * vocab, vocab), textLogits.AsSpan(t * vocab, vocab));
                nll -= QuantizationMetrics.LogProbability(textLogits.AsSpan(t * vocab, vocab), text[t + 1]);
            }

            row.MeanKl = kl / (text.Length - 1);
            row.Perplexity = Math.Exp(nll / (text.Length - 1));
            log.WriteLine($"measured {row.Name}");
        }

        return text.Length - 1;
    }

    private static int[] Greedy(DecoderSession decoder, int[] prompt, int count)
    {
        using DecoderState state = decoder.CreateState();
        int[] result = new int[count];
        int token = Sampler.ArgMax(decoder.Forward(state, prompt));
        for (int i = 0; i < count; i++)
        {
            result[i] = token;
            if (i + 1 < count)
            {
                token = Sampler.ArgMax(decoder.Forward(state, [token]));
            }
        }

        return result;
    }

    private static float[] TeacherForced(DecoderSession decoder, int[] tokens)
    {
        using DecoderState state = decoder.CreateState();
        return decoder.Forward(state, tokens, allPositions: true);
    }
}
