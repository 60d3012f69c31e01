namespace LlmAspire.AppHost.Cache;

/// <summary>
/// What the AppHost will run for Redis: the container (on <paramref name="ContainerRuntime"/> when one was found), or
/// the executable at a path; <paramref name="Reason"/> says why, for the AppHost's log.
/// </summary>
internal sealed record RedisPlan(RedisMode Mode, string? ExecutablePath, string? ContainerRuntime, string Reason);

/// <summary>Chooses how to run Redis from the configured mode and what this machine offers.</summary>
internal static class RedisModeSelector
{
    /// <summary>The executable looked up on PATH.</summary>
    internal const string RedisServerExecutable = "redis-server";

    /// <summary>
    /// The image <c>AddRedis</c> runs with Aspire.Hosting.Redis 13.6.5 (its <c>RedisContainerImageTags</c>; a test keeps
    /// the two in step). <c>deploy/podman/build-images.sh --redis</c> builds one under this name from the host's Redis.
    /// </summary>
    internal const string RedisContainerImage = "docker.io/library/redis:8.6";

    /// <summary>
    /// Publishing always uses the container (the manifest omits executables). <see cref="RedisMode.Auto"/> uses the
    /// container only when a runtime answers (<paramref name="configuredRuntime"/>, else Docker, else Podman) and it
    /// can have <see cref="RedisContainerImage"/>: a container resource that cannot start never becomes healthy and
    /// everything that waits for it hangs, and where no registry is reachable a missing image is exactly that. Else
    /// <c>redis-server</c>; else it fails naming both options.
    /// </summary>
    /// <param name="requested">The configured mode.</param>
    /// <param name="isPublishMode">Whether the AppHost is writing a manifest rather than running.</param>
    /// <param name="configuredRuntime">The runtime the user gave Aspire (<c>ASPIRE_CONTAINER_RUNTIME</c>), or null.</param>
    /// <param name="runtimeAnswers">Whether a runtime's engine answers (<c>{runtime} info</c>).</param>
    /// <param name="imageAvailable">Whether a runtime has, or can pull, <see cref="RedisContainerImage"/>.</param>
    /// <param name="findRedisServer">The path of <c>redis-server</c>, or null.</param>
    internal static RedisPlan Select(
        RedisMode requested,
        bool isPublishMode,
        string? configuredRuntime,
        Func<string, bool> runtimeAnswers,
        Func<string, bool> imageAvailable,
        Func<string?> findRedisServer)
    {
        if (isPublishMode)
        {
            return new RedisPlan(RedisMode.Container, null, null, "publishing: the manifest describes the Redis container.");
        }

        if (requested == RedisMode.Executable)
        {
            return findRedisServer() is { } executable
                ? new RedisPlan(RedisMode.Executable, executable, null, "LlmAspire:RedisMode is executable.")
                : throw NeitherAvailable($"LlmAspire:RedisMode is executable but '{RedisServerExecutable}' is not on PATH.");
        }

        IReadOnlyList<string> candidates = configuredRuntime is null ? ContainerRuntimeProbe.DefaultRuntimes : [configuredRuntime];
        var runtime = candidates.FirstOrDefault(runtimeAnswers);
        var asked = string.Join(" or ", candidates.Select(candidate => $"'{candidate} info'"));

        if (requested == RedisMode.Container)
        {
            return new RedisPlan(
                RedisMode.Container,
                null,
                runtime,
                runtime is null
                    ? $"LlmAspire:RedisMode is container, though no container runtime answers {asked}."
                    : $"LlmAspire:RedisMode is container; {runtime} answers.");
        }

        if (runtime is null)
        {
            return findRedisServer() is { } path
                ? new RedisPlan(RedisMode.Executable, path, null, $"no container runtime answers {asked}, so Redis runs as {path}.")
                : throw NeitherAvailable($"No container runtime answers {asked} and '{RedisServerExecutable}' is not on PATH.");
        }

        if (imageAvailable(runtime))
        {
            return new RedisPlan(
                RedisMode.Container, null, runtime, $"{runtime} answers and has (or can pull) {RedisContainerImage}.");
        }

        var missing = $"{runtime} answers but {RedisContainerImage} is neither in its image store nor pullable (no registry answers)";
        return findRedisServer() is { } fallback
            ? new RedisPlan(
                RedisMode.Executable,
                fallback,
                null,
                $"{missing}, so Redis runs as {fallback}; deploy/podman/build-images.sh --redis builds the image locally.")
            : throw NeitherAvailable(
                $"{missing} and '{RedisServerExecutable}' is not on PATH (LlmAspire:RedisMode=container starts the container regardless).");
    }

    /// <summary>The full path of <c>redis-server</c> on PATH, or null.</summary>
    internal static string? FindOnPath(string? pathVariable)
    {
        if (string.IsNullOrEmpty(pathVariable))
        {
            return null;
        }

        foreach (var directory in pathVariable.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, RedisServerExecutable);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static InvalidOperationException NeitherAvailable(string reason) => new(
        $"{reason} Either start a container runtime (Docker or Podman) and use LlmAspire:RedisMode=container (or auto), "
        + $"or install Redis (e.g. 'apt-get install redis-server') and use LlmAspire:RedisMode=executable (or auto).");
}
