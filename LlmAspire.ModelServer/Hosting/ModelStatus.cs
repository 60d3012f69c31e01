namespace LlmAspire.ModelServer.Hosting;

/// <summary>Where the served model is in its life.</summary>
internal enum ModelStatus
{
    Loading,
    Ready,
    Failed,

    /// <summary>The host is stopping: new requests are refused, the generations already running finish.</summary>
    Draining,
    Stopped,
}
