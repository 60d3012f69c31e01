using LlmAspire.Inference.Engine;

namespace LlmAspire.Inference.Models.Quantization;

/// <summary>How far a quantized model's predictions are from its float32 source's.</summary>
public static class QuantizationMetrics
{
    /// <summary>
    /// KL(P || Q) in nats between the softmax distributions of <paramref name="referenceLogits"/> (P, float32 model)
    /// and <paramref name="logits"/> (Q, quantized model), computed in double.
    /// </summary>
    public static double KlDivergence(ReadOnlySpan<float> referenceLogits, ReadOnlySpan<float> logits)
    {
        if (referenceLogits.Length != logits.Length || logits.Length == 0)
        {
            throw new ArgumentException("Both logit vectors must have the same, non-zero length.", nameof(logits));
        }

        double logZp = LogProbabilities.LogSumExp(referenceLogits), logZq = LogProbabilities.LogSumExp(logits);
        double kl = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            double logP = referenceLogits[i] - logZp;
            double logQ = logits[i] - logZq;
            kl += Math.Exp(logP) * (logP - logQ);
        }

        return Math.Max(0, kl);
    }

    /// <summary>log softmax(<paramref name="logits"/>)[<paramref name="token"/>].</summary>
    public static double LogProbability(ReadOnlySpan<float> logits, int token) => logits[token] - LogProbabilities.LogSumExp(logits);

    /// <summary>How many leading elements two sequences share.</summary>
    public static int CommonPrefix(IReadOnlyList<int> a, IReadOnlyList<int> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        int n = 0;
        while (n < a.Count && n < b.Count && a[n] == b[n])
        {
            n++;
        }

        return n;
    }
}
