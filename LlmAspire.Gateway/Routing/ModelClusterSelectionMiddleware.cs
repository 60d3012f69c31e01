using LlmAspire.Gateway.Requests;
using LlmAspire.Gateway.Telemetry;
using Yarp.ReverseProxy;
using LlmAspire.OpenAIApi.Errors;
using LlmAspire.Gateway.Catalog;

namespace LlmAspire.Gateway.Routing;

/// <summary>
/// The first step of the proxy pipeline: sends a completion request to the cluster of the <c>model</c> its body names
/// (reassigning it to that cluster's route), answers 404 <c>model_not_found</c> in OpenAI's error shape for a model
/// no cluster serves, and leaves a request that names no model on the route it matched (the default cluster, or the
/// one <see cref="ModelServerProxyConfig.ClusterHeader"/> named).
/// </summary>
internal sealed class ModelClusterSelectionMiddleware(
    RequestDelegate next, ModelCatalog catalog, ModelRoutingTable table, IProxyStateLookup proxyState)
{
    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var clusterId = context.GetReverseProxyFeature().Cluster.Config.ClusterId;
        var model = context.GetCompletionRequest()?.Model;
        if (model is not null)
        {
            var resolved = await catalog.ResolveClusterAsync(model, context.RequestAborted);
            if (resolved is null)
            {
                await WriteModelNotFoundAsync(context, model);
                return;
            }

            if (resolved != clusterId
                && proxyState.TryGetRoute(ModelServerProxyConfig.RouteIdFor(resolved), out var route)
                && route.Cluster is { } cluster)
            {
                context.ReassignProxyRequest(route, cluster);
                clusterId = resolved;
            }
        }

        context.GetGatewayTelemetry().Model = model
            ?? (table.TryGetCluster(clusterId, out var definition) && definition.Model is not null ? definition.Model : clusterId);
        await next(context);
    }

    private static Task WriteModelNotFoundAsync(HttpContext context, string model) =>
        OpenAIErrorResults.WriteAsync(context, StatusCodes.Status404NotFound, OpenAIError.ModelNotFound(model));
}
