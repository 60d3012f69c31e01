namespace LlmAspire.Inference.Models.Hub;

/// <summary>The environment variables the Hugging Face tools define, which <see cref="HubOptions.FromEnvironment(string?, string?)"/> honours.</summary>
public static class HubEnvironment
{
    /// <summary>The hub's base address (a mirror, or a local test server).</summary>
    public const string Endpoint = "HF_ENDPOINT";

    /// <summary>A bearer token for gated or private repositories.</summary>
    public const string Token = "HF_TOKEN";

    /// <summary>The token's older name.</summary>
    public const string LegacyToken = "HUGGING_FACE_HUB_TOKEN";

    /// <summary>The Hugging Face root folder; our cache goes to <c>$HF_HOME/llmaspire/hub</c>.</summary>
    public const string Home = "HF_HOME";

    /// <summary>The user's cache root when HF_HOME is unset.</summary>
    public const string XdgCacheHome = "XDG_CACHE_HOME";

    /// <summary>"1" forbids network access: only complete cached snapshots resolve.</summary>
    public const string Offline = "HF_HUB_OFFLINE";
}
