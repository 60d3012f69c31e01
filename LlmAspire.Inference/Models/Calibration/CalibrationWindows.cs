using LlmAspire.Inference.Tokenization;

namespace LlmAspire.Inference.Models.Calibration;

/// <summary>Calibration documents as token windows a model prefills in one run each.</summary>
public static class CalibrationWindows
{
    /// <summary>The longest window: longer ones cost attention time and say no more about the linear layers' inputs.</summary>
    public const int MaxWindow = 512;

    /// <summary>Calibration tokens used at most (later documents are left out): enough for the statistics, and bounded memory.</summary>
    public const int DefaultMaxTokens = 4096;

    /// <summary>
    /// Each document encoded with BOS and cut into consecutive windows of at most min(<paramref name="contextLength"/>,
    /// <see cref="MaxWindow"/>) tokens, in document order, until <paramref name="maxTokens"/> tokens are taken.
    /// Deterministic: the same documents and tokenizer give the same windows.
    /// </summary>
    public static IReadOnlyList<int[]> Create(ITokenizer tokenizer, IReadOnlyList<string> documents, int contextLength, int maxTokens = DefaultMaxTokens)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentOutOfRangeException.ThrowIfLessThan(contextLength, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 1);
        int window = Math.Min(contextLength, MaxWindow);
        var windows = new List<int[]>();
        int taken = 0;
        foreach (string document in documents)
        {
            int[] ids = tokenizer.Encode(document, addBos: true);
            for (int start = 0; start < ids.Length && taken < maxTokens; start += window)
            {
                int length = Math.Min(Math.Min(window, ids.Length - start), maxTokens - taken);
                windows.Add(ids[start..(start + length)]);
                taken += length;
            }

            if (taken >= maxTokens)
            {
                break;
            }
        }

        return windows.Count > 0 ? windows : throw new InvalidDataException("The calibration text encodes to no tokens.");
    }
}
