namespace LlmAspire.AppHost;

/// <summary>How the AppHost runs the Redis cache (<c>LlmAspire:RedisMode</c>).</summary>
internal enum RedisMode
{
    /// <summary>The container when a container runtime answers, else <c>redis-server</c> from PATH.</summary>
    Auto,

    /// <summary>The Redis container (always used when publishing).</summary>
    Container,

    /// <summary><c>redis-server</c> from PATH as an executable resource.</summary>
    Executable,
}
