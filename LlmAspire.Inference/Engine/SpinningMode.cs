namespace LlmAspire.Inference.Engine;

/// <summary>
/// When ONNX Runtime's idle CPU worker threads busy-wait for work instead of sleeping. Waking a sleeping worker costs
/// tens of microseconds per operator, which a small model pays hundreds of times per decode step; a spinning worker
/// takes a core that the engine thread, the HTTP side or another process may need — and when another process holds
/// the core the awaited thread needs, a spinner burns its own time slice waiting for a thread that cannot run, so
/// spinning collapses under load (to a half or a third of Off on 2 shared cores) while it is worth up to +46 % (int8,
/// one stream) on quiet ones.
/// </summary>
public enum SpinningMode
{
    /// <summary>Workers sleep as soon as they find no work (<c>session.intra_op.allow_spinning=0</c>).</summary>
    Off,

    /// <summary>
    /// Workers spin between the operators of one run and stop the moment the run returns
    /// (<c>allow_spinning=1</c> with <c>session.force_spinning_stop=1</c>): sampling, streaming and requests between
    /// engine steps get the cores back. For a server with cores of its own; under competing load it collapses like
    /// <see cref="Always"/>, since the waste is inside the run.
    /// </summary>
    WithinRun,

    /// <summary>Workers also keep spinning for a while after a run returns (ONNX Runtime's and GenAI's default).</summary>
    Always,

    /// <summary>
    /// ONNX Runtime's workers sleep as in <see cref="Off"/>, but our kernels (the packed MatMuls, attention, the norms,
    /// QuickGelu: nearly all of a step on the CPU) run their parallel parts on the session's own workers
    /// (<see cref="Kernels.KernelThreadPool"/>), which spin at most 50 µs for the next part before they sleep: awake
    /// from one operator of a step to the next, never holding a core for longer than that while the thread they wait
    /// for is preempted. Only where the model's MatMuls were packed for our kernels (AVX-512, weights of 2¹⁸ elements or
    /// more), or where a small model's SwiGLUs were fused and no large MatMul is left (ONNX Runtime then runs on one
    /// thread: stories260K); elsewhere it is <see cref="Off"/>. The default (<see cref="EngineOptions.Spinning"/>): as fast as Off or
    /// faster on quiet cores, within a few per cent of it on busy ones.
    /// </summary>
    Brief,
}
