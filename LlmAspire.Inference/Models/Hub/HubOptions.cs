namespace LlmAspire.Inference.Models.Hub;

/// <summary>Where <see cref="HubModelResolver"/> downloads from, where it caches, and how it retries.</summary>
public sealed class HubOptions
{
    /// <summary>The public Hugging Face hub.</summary>
    public static Uri DefaultEndpoint { get; } = new("https://huggingface.co");

    /// <summary>The hub's base address (<c>HF_ENDPOINT</c>); a mirror serves the same API.</summary>
    public Uri Endpoint { get; init; } = DefaultEndpoint;

    /// <summary>A bearer token for gated or private repositories (<c>HF_TOKEN</c>); never logged.</summary>
    public string? Token { get; init; }

    /// <summary>The cache root; each repository and revision gets a folder below it.</summary>
    public string CacheDirectory { get; init; } = DefaultCacheDirectory(Environment.GetEnvironmentVariable);

    /// <summary>Never touch the network (<c>HF_HUB_OFFLINE=1</c>): only complete cached snapshots resolve.</summary>
    public bool Offline { get; init; }

    /// <summary>Tries per file before a broken transfer fails; each try resumes where the last one stopped.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>The pause before the second try of a file; it grows linearly with each further try.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A transfer that receives nothing for this long is broken off and resumed.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The shortest time between two <see cref="HubProgressKind.Downloading"/> reports for one file.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often a resolver waiting for another process's download checks the cache lock.</summary>
    public TimeSpan LockPollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The clock for progress throttling and retry delays.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// Turns a downloaded Hugging Face Llama folder (first argument) into a model folder (second argument);
    /// null refuses such repositories before anything is downloaded.
    /// </summary>
    public Action<string, string>? HuggingFaceImporter { get; init; } = static (source, output) => ModelConverter.ImportHuggingFace(source, output);

    /// <summary>
    /// Options from the environment (<c>HF_ENDPOINT</c>, <c>HF_TOKEN</c>, <c>HF_HOME</c>, <c>XDG_CACHE_HOME</c>,
    /// <c>HF_HUB_OFFLINE</c>); a non-empty <paramref name="endpoint"/> or <paramref name="cacheDirectory"/> wins over them.
    /// </summary>
    public static HubOptions FromEnvironment(string? endpoint = null, string? cacheDirectory = null) =>
        FromEnvironment(endpoint, cacheDirectory, Environment.GetEnvironmentVariable);

    /// <summary>The default cache root: <c>$HF_HOME/llmaspire/hub</c>, else <c>$XDG_CACHE_HOME/llmaspire/hub</c>, else <c>~/.cache/llmaspire/hub</c>.</summary>
    public static string DefaultCacheDirectory(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (environment(HubEnvironment.Home) is { Length: > 0 } hfHome)
        {
            return Path.GetFullPath(Path.Combine(hfHome, "llmaspire", "hub"));
        }

        if (environment(HubEnvironment.XdgCacheHome) is { Length: > 0 } xdgCache)
        {
            return Path.GetFullPath(Path.Combine(xdgCache, "llmaspire", "hub"));
        }

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return string.IsNullOrEmpty(home)
            ? Path.Combine(Path.GetTempPath(), "llmaspire", "hub")
            : Path.Combine(home, ".cache", "llmaspire", "hub");
    }

    internal static HubOptions FromEnvironment(string? endpoint, string? cacheDirectory, Func<string, string?> environment)
    {
        var endpointText = !string.IsNullOrWhiteSpace(endpoint) ? endpoint : environment(HubEnvironment.Endpoint);
        var uri = DefaultEndpoint;
        if (!string.IsNullOrWhiteSpace(endpointText))
        {
            if (!Uri.TryCreate(endpointText.Trim().TrimEnd('/'), UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https"))
            {
                throw new FormatException($"The hub endpoint '{endpointText}' is not an http(s) URL (set {HubEnvironment.Endpoint} or the endpoint option).");
            }

            uri = parsed;
        }

        var token = environment(HubEnvironment.Token);
        if (string.IsNullOrWhiteSpace(token))
        {
            token = environment(HubEnvironment.LegacyToken);
        }

        return new HubOptions
        {
            Endpoint = uri,
            Token = string.IsNullOrWhiteSpace(token) ? null : token.Trim(),
            CacheDirectory = !string.IsNullOrWhiteSpace(cacheDirectory) ? Path.GetFullPath(cacheDirectory) : DefaultCacheDirectory(environment),
            Offline = IsTruthy(environment(HubEnvironment.Offline)),
        };
    }

    private static bool IsTruthy(string? value) =>
        value?.Trim().ToUpperInvariant() is "1" or "TRUE" or "YES" or "ON";
}
