using LlmAspire.Gateway.Routing;
using Microsoft.AspNetCore.Http.HttpResults;
using LlmAspire.OpenAIApi;
using LlmAspire.OpenAIApi.Errors;
using LlmAspire.OpenAIApi.Models;
using LlmAspire.Gateway.Catalog;

namespace LlmAspire.Gateway.Apis;

/// <summary>
/// <c>GET /v1/models</c> and <c>GET /v1/models/{id}</c> answered by the gateway: every model of every cluster (the
/// configured names and what the servers list, read at most once per <c>Gateway:Routing:ModelListCacheDuration</c>).
/// </summary>
public static class ModelsApi
{
    /// <summary>Maps the model list; its literal path takes precedence over the proxy's <c>/v1/{**catch-all}</c>.</summary>
    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/models").WithTags("Models");

        api.MapGet("", ListModelsAsync).WithName("ListModels");
        // Model ids may contain '/' (org/name), so the id is a catch-all.
        api.MapGet("/{**id}", GetModelAsync).WithName("GetModel");

        return app;
    }

    internal static async Task<JsonHttpResult<ModelList>> ListModelsAsync(ModelCatalog catalog, CancellationToken cancellationToken)
    {
        var snapshot = await catalog.GetSnapshotAsync(cancellationToken);
        return TypedResults.Json(
            new ModelList(snapshot.Models.Values.Select(entry => entry.Card).ToList()),
            OpenAIJsonContext.Wire.ModelList);
    }

    internal static async Task<Results<JsonHttpResult<ModelCard>, JsonHttpResult<OpenAIErrorResponse>>> GetModelAsync(
        string id, ModelCatalog catalog, CancellationToken cancellationToken)
    {
        var snapshot = await catalog.GetSnapshotAsync(cancellationToken);
        return snapshot.Models.TryGetValue(id, out var entry)
            ? TypedResults.Json(entry.Card, OpenAIJsonContext.Wire.ModelCard)
            : OpenAIErrorResults.Create(StatusCodes.Status404NotFound, OpenAIError.ModelNotFound(id));
    }
}
