namespace LlmAspire.Gateway.Routing;

/// <summary>One YARP cluster of model servers and the route that reaches it.</summary>
/// <param name="ClusterId">The cluster: <c>modelservers</c> for <c>Gateway:ModelServers</c>, <c>model-{name}</c> for <c>Gateway:Models:{name}</c>.</param>
/// <param name="RouteId">The route that targets only this cluster.</param>
/// <param name="Model">The model configured for it; null where its servers' <c>/v1/models</c> names it.</param>
/// <param name="Servers">Service-discovery names or absolute URLs.</param>
/// <param name="Policy">Its load-balancing policy.</param>
public sealed record ModelClusterDefinition(string ClusterId, string RouteId, string? Model, IReadOnlyList<string> Servers, string Policy);
