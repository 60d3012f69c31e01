using LlmAspire.OpenAIApi.Errors;
using LlmAspire.OpenAIApi.Models;
using LlmAspire.ModelServer.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LlmAspire.ModelServer.Apis;

/// <summary><c>GET /v1/models</c> and <c>GET /v1/models/{id}</c>: the one model this server serves.</summary>
internal static class ModelsApi
{
    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/models").WithTags("Models");

        api.MapGet("", ListModels).WithName("ListModels");
        // Model ids may contain '/' (org/name), so the id is a catch-all.
        api.MapGet("/{**id}", GetModel).WithName("GetModel");

        return app;
    }

    public static Results<Ok<ModelList>, JsonHttpResult<OpenAIErrorResponse>> ListModels(ModelHost host, HttpResponse response)
    {
        if (!host.TryGetModel(out var model))
        {
            return OpenAIErrors.ModelUnavailable(host, response);
        }

        return TypedResults.Ok(new ModelList([new ModelCard(model.Id, host.ReadySince, ModelCard.ServerOwner, model.ContextLength)]));
    }

    public static Results<Ok<ModelCard>, JsonHttpResult<OpenAIErrorResponse>> GetModel(string id, ModelHost host, HttpResponse response)
    {
        if (!host.TryGetModel(out var model))
        {
            return OpenAIErrors.ModelUnavailable(host, response);
        }

        if (!string.Equals(id, model.Id, StringComparison.Ordinal))
        {
            return OpenAIErrors.ModelNotFound(id);
        }

        return TypedResults.Ok(new ModelCard(model.Id, host.ReadySince, ModelCard.ServerOwner, model.ContextLength));
    }
}
