namespace LlmAspire.Inference.Models.Hub;

/// <summary>What a <see cref="HubProgress"/> report is about.</summary>
public enum HubProgressKind
{
    /// <summary>Another resolver (perhaps another process) holds the cache lock; this one waits for it.</summary>
    WaitingForLock,

    /// <summary>A transfer starts, or resumes from <see cref="HubProgress.Bytes"/>.</summary>
    Starting,

    /// <summary>Bytes arrive (reported at most once per <see cref="HubOptions.ProgressInterval"/> per file).</summary>
    Downloading,

    /// <summary>A transfer broke off; <see cref="HubProgress.Detail"/> says why. The next try resumes.</summary>
    Retrying,

    /// <summary>A file is complete and verified.</summary>
    Downloaded,

    /// <summary>The snapshot is being converted into a model folder.</summary>
    Converting,
}
