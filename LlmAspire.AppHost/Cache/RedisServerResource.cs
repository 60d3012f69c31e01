namespace LlmAspire.AppHost.Cache;

/// <summary>
/// Redis run as <c>redis-server</c> from PATH: an executable resource with a connection string, so
/// <c>WithReference</c> gives services <c>ConnectionStrings__{name}</c> as the container resource does.
/// </summary>
internal sealed class RedisServerResource(string name, string command, string workingDirectory)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    /// <summary>The name of the TCP endpoint Redis listens on.</summary>
    internal const string PrimaryEndpointName = "tcp";

    private EndpointReference? _primaryEndpoint;

    /// <summary>The TCP endpoint Redis listens on.</summary>
    public EndpointReference PrimaryEndpoint => _primaryEndpoint ??= new(this, PrimaryEndpointName);

    /// <summary><c>host:port</c>, the StackExchange.Redis form.</summary>
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{PrimaryEndpoint.Property(EndpointProperty.HostAndPort)}");
}
