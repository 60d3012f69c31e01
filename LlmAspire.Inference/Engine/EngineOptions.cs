using LlmAspire.Inference.Engine.Speculation;

namespace LlmAspire.Inference.Engine;

/// <summary>Sizes of the serving engine, fixed at start-up.</summary>
public sealed record EngineOptions
{
    /// <summary>The default of <see cref="MaxSequences"/>, also the model server's <c>ModelServer:MaxSequences</c>.</summary>
    public const int DefaultMaxSequences = 16;

    /// <summary>The default of <see cref="MaxQueue"/>, also the model server's <c>ModelServer:MaxQueue</c>.</summary>
    public const int DefaultMaxQueue = 16;

    /// <summary>The default of <see cref="PrefillChunkTokens"/>.</summary>
    public const int DefaultPrefillChunkTokens = 256;

    /// <summary>Sequences decoded together (KV rows allocated up front).</summary>
    public int MaxSequences { get; init; } = DefaultMaxSequences;

    /// <summary>Positions per sequence (prompt + completion); 0 = the model's context length.</summary>
    public int MaxContext { get; init; }

    /// <summary>Requests that may wait for a row; beyond that, submissions are refused.</summary>
    public int MaxQueue { get; init; } = DefaultMaxQueue;

    /// <summary>Prompt tokens computed per engine step, so running streams keep flowing during long prefills.</summary>
    public int PrefillChunkTokens { get; init; } = DefaultPrefillChunkTokens;

    /// <summary>ONNX Runtime threads per operator on the CPU; 0 chooses by model size (see <see cref="DecoderSession.Open"/>).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>
    /// When ONNX Runtime's idle intra-op workers spin instead of sleeping (<see cref="SpinningMode"/>). Off by default:
    /// on the shared 2-core machine (load average 9-15), timed in turns, Off beat both spinning modes, e.g. int8 100M
    /// one stream 93 tok/s vs 63 (WithinRun) and 48 (Always), 16 streams 444 vs 196 and 195 (docs/BENCHMARKS.md).
    /// </summary>
    public SpinningMode Spinning { get; init; }

    /// <summary>The older switch: true is <see cref="SpinningMode.Always"/>, false <see cref="SpinningMode.Off"/>.</summary>
    public bool AllowSpinning
    {
        get => Spinning != SpinningMode.Off;
        init => Spinning = value ? SpinningMode.Always : SpinningMode.Off;
    }

    /// <summary>Which kernel runs attention on the CPU (<see cref="AttentionKernelChoice"/>); LlmAspire's own by default.</summary>
    public AttentionKernelChoice Attention { get; init; }

    /// <summary>Prompt-lookup speculative decoding (off unless <see cref="SpeculativeOptions.Tokens"/> &gt; 0).</summary>
    public SpeculativeOptions Speculative { get; init; } = new();
}
