namespace LlmAspire.Gateway.Redis;

/// <summary>
/// How the gateway uses Redis (connection string <c>cache</c>), section <c>Gateway:Redis</c>: the response cache's
/// L2 and the rate limits' counters. Redis is an accelerator, never a dependency: operations that take longer than
/// <see cref="OperationTimeout"/> or fail open a circuit for <see cref="BreakDuration"/>, during which the gateway
/// skips Redis altogether.
/// </summary>
public sealed class GatewayRedisOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Gateway:Redis";

    /// <summary>The connection string name the AppHost's <c>WithReference(cache)</c> provides.</summary>
    public const string ConnectionName = "cache";

    /// <summary>The longest a request waits for one Redis operation.</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long connecting may take (StackExchange.Redis <c>connectTimeout</c>); the gateway starts without Redis either way.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long Redis is skipped after a failure or timeout before it is tried again.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(10);

    internal static bool IsValid(GatewayRedisOptions options) =>
        options.OperationTimeout > TimeSpan.Zero && options.ConnectTimeout > TimeSpan.Zero && options.BreakDuration >= TimeSpan.Zero;

    internal const string ValidationMessage = "Gateway:Redis:OperationTimeout and ConnectTimeout must be positive; BreakDuration must not be negative.";
}
