namespace LlmAspire.AppHost.Cache;

/// <summary>What the AppHost will run for Redis: the container, or the executable at a path.</summary>
internal sealed record RedisPlan(RedisMode Mode, string? ExecutablePath);

/// <summary>Chooses how to run Redis from the configured mode and what this machine offers.</summary>
internal static class RedisModeSelector
{
    /// <summary>The executable looked up on PATH.</summary>
    internal const string RedisServerExecutable = "redis-server";

    /// <summary>
    /// Publishing always uses the container (the manifest omits executables). <see cref="RedisMode.Auto"/>
    /// prefers the container when a runtime answers, since a container resource without one never becomes
    /// healthy and everything that waits for it hangs; else <c>redis-server</c>; else it fails naming both options.
    /// </summary>
    internal static RedisPlan Select(
        RedisMode requested,
        bool isPublishMode,
        Func<bool> containerRuntimeAnswers,
        Func<string?> findRedisServer)
    {
        if (isPublishMode || requested == RedisMode.Container)
        {
            return new RedisPlan(RedisMode.Container, null);
        }

        if (requested == RedisMode.Auto && containerRuntimeAnswers())
        {
            return new RedisPlan(RedisMode.Container, null);
        }

        if (findRedisServer() is { } path)
        {
            return new RedisPlan(RedisMode.Executable, path);
        }

        var reason = requested == RedisMode.Executable
            ? $"LlmAspire:RedisMode is executable but '{RedisServerExecutable}' is not on PATH."
            : $"No container runtime answers 'docker info' and '{RedisServerExecutable}' is not on PATH.";
        throw new InvalidOperationException(
            $"{reason} Either start a container runtime (Docker or Podman) and use LlmAspire:RedisMode=container (or auto), "
            + $"or install Redis (e.g. 'apt-get install redis-server') and use LlmAspire:RedisMode=executable (or auto).");
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
}
