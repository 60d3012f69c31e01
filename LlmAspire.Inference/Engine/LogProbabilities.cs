namespace LlmAspire.Inference.Engine;

/// <summary>Log-probabilities from logits, shared by the engine's logprobs and the quantization metrics.</summary>
internal static class LogProbabilities
{
    /// <summary>log Σ exp(logits), computed stably (shifted by the largest logit, summed in double).</summary>
    public static double LogSumExp(ReadOnlySpan<float> logits)
    {
        float max = float.NegativeInfinity;
        foreach (float v in logits)
        {
            max = MathF.Max(max, v);
        }

        double sum = 0;
        foreach (float v in logits)
        {
            sum += Math.Exp(v - max);
        }

        return max + Math.Log(sum);
    }
}
