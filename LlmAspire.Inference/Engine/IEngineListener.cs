namespace LlmAspire.Inference.Engine;

/// <summary>Engine events for metrics and traces. Called on the engine thread: keep handlers cheap.</summary>
public interface IEngineListener
{
    /// <summary>A request left the queue and got its rows; <paramref name="queueTime"/> since it was submitted.</summary>
    void RequestScheduled(TimeSpan queueTime, int promptTokens, int cachedTokens) { }

    /// <summary>The first token of a choice.</summary>
    void FirstToken(TimeSpan timeToFirstToken) { }

    /// <summary>A later token of a choice, <paramref name="interTokenLatency"/> after the previous one.</summary>
    void NextToken(TimeSpan interTokenLatency) { }

    /// <summary>A choice ended (<paramref name="reason"/> null when cancelled or failed).</summary>
    void ChoiceFinished(FinishReason? reason, TimeSpan endToEnd, int promptTokens, int completionTokens) { }

    /// <summary>
    /// A choice's proposed tokens were checked in one pass (speculative decoding): <paramref name="accepted"/> of the
    /// <paramref name="proposed"/> were what the model produced itself, and were kept.
    /// </summary>
    void ProposalsVerified(int proposed, int accepted) { }

    /// <summary>After each step: sequences running and waiting, and the fraction of KV positions held.</summary>
    void StepCompleted(int running, int waiting, double kvUsage) { }
}
