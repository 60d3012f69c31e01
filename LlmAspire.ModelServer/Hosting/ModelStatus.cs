namespace LlmAspire.ModelServer.Hosting;

/// <summary>Where the served model is in its life.</summary>
internal enum ModelStatus
{
    Loading,
    Ready,
    Failed,
    Stopped,
}
