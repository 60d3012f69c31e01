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
    /// When idle intra-op workers spin instead of sleeping (<see cref="SpinningMode"/>). <see cref="SpinningMode.Brief"/>
    /// by default: on the 2-core machine, timed in turns, it beat Off by 3-62 % with the cores to itself (100M model:
    /// int8 one stream 342 vs 257 tok/s, 16 streams 1,334 vs 1,255; float32 116 vs 109 and 979 vs 928) and matched it
    /// within 5 % with two busy loops competing for them (int8 107 vs 107 and 541 vs 570; float32 56 vs 58 and 410 vs
    /// 414), where ONNX Runtime's spinning collapses (WithinRun: float32 36 and 300); docs/BENCHMARKS.md, "Ninth pass".
    /// </summary>
    public SpinningMode Spinning { get; init; } = SpinningMode.Brief;

    /// <summary>The older switch: true is <see cref="SpinningMode.Always"/>, false <see cref="SpinningMode.Off"/>; reads true for ONNX Runtime's spinning (WithinRun, Always).</summary>
    public bool AllowSpinning
    {
        get => Spinning is SpinningMode.WithinRun or SpinningMode.Always;
        init => Spinning = value ? SpinningMode.Always : SpinningMode.Off;
    }

    /// <summary>Which kernel runs attention on the CPU (<see cref="AttentionKernelChoice"/>); LlmAspire's own by default.</summary>
    public AttentionKernelChoice Attention { get; init; }

    /// <summary>
    /// Whether the CPU graph is rewritten at load for our packed MatMul and MatMulNBits kernels and the fused SwiGLU
    /// (on CPUs with AVX-512; outputs unchanged, see <c>PackedMatMulRewriter</c>); false runs it as written with
    /// MLAS's MatMuls — for comparisons (<c>bench engine --alternate Brief,Brief@mlas</c>).
    /// </summary>
    public bool RewriteGraph { get; init; } = true;

    /// <summary>Prompt-lookup speculative decoding (off unless <see cref="SpeculativeOptions.Tokens"/> &gt; 0).</summary>
    public SpeculativeOptions Speculative { get; init; } = new();
}
