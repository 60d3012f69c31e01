using LlmAspire.Inference.Constraints;
using LlmAspire.OpenAIApi.Completions;
using LlmAspire.OpenAIApi.Errors;
using LlmAspire.OpenAIApi.Requests;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LlmAspire.ModelServer.Apis;

/// <summary>
/// The one road every generation request takes: read → check → render for the model → submit → collect or stream.
/// An endpoint supplies only what differs (<see cref="IGenerationEndpoint{TRequest, TSettings}"/>); every refusal is an
/// OpenAI error answered before any byte of a response, counted as <c>rejected</c> or <c>unavailable</c>.
/// </summary>
internal static class GenerationPipeline
{
    /// <summary>Maps <c>POST {pattern}</c> under <c>/v1</c> to <paramref name="endpoint"/>.</summary>
    public static RouteHandlerBuilder MapGeneration<TRequest, TSettings, TResponse>(
        this IEndpointRouteBuilder app, string pattern, IGenerationEndpoint<TRequest, TSettings> endpoint)
        where TRequest : SamplingRequest
        where TSettings : class
        where TResponse : class =>
        app.MapPost(pattern, (HttpContext context, CompletionServices services) => HandleAsync(context, services, endpoint))
            .Accepts<TRequest>("application/json")
            .Produces<TResponse>(StatusCodes.Status200OK, "application/json", "text/event-stream")
            .Produces<OpenAIErrorResponse>(StatusCodes.Status400BadRequest)
            .Produces<OpenAIErrorResponse>(StatusCodes.Status503ServiceUnavailable);

    /// <summary>Answers one request of <paramref name="endpoint"/>.</summary>
    public static async Task<IResult> HandleAsync<TRequest, TSettings>(
        HttpContext context, CompletionServices services, IGenerationEndpoint<TRequest, TSettings> endpoint)
        where TRequest : SamplingRequest
        where TSettings : class
    {
        var read = await OpenAIRequestReader.ReadAsync(context.Request, endpoint.RequestType, services.Options.MaxRequestBodyBytes, context.RequestAborted);
        if (read.Error is not null)
        {
            return Rejected(services, OpenAIErrors.Create(read.StatusCode, read.Error));
        }

        if (endpoint.Validate(read.Request!, services.Options.MaxSequences, out var settings) is { } invalid)
        {
            return Rejected(services, invalid);
        }

        if (!services.Host.TryGetModel(out var model))
        {
            services.Telemetry.Request("unavailable");
            return OpenAIErrors.ModelUnavailable(services.Host, context.Response);
        }

        var sampling = endpoint.Sampling(settings!);
        if (SamplingValidator.ValidateForModel(sampling, model) is { } unfit)
        {
            return Rejected(services, unfit);
        }

        if (endpoint.Prepare(settings!, model, out var generation) is { } unprepared)
        {
            return Rejected(services, unprepared);
        }

        // An endpoint may have set the grammar itself (tool calls, which fold in the response format).
        if (sampling.Constraint is { } constraint && generation!.Request.Grammar is null)
        {
            try
            {
                generation = generation! with { Request = generation.Request with { Grammar = model.Grammars.Get(constraint.Constraint) } };
            }
            catch (GrammarException ex)
            {
                return Rejected(services, OpenAIErrors.BadRequest($"Invalid '{constraint.Param}': {ex.Message}", constraint.Param, "invalid_value"));
            }
        }

        if (!GenerationRun.TryStart(context, services, model, endpoint.Operation, endpoint.IdPrefix, generation!, sampling, out var run, out var refused))
        {
            return refused;
        }

        if (sampling.Stream)
        {
            return TypedResults.ServerSentEvents(run.StreamAsync(endpoint.Stream(run)));
        }

        IReadOnlyList<ChoiceResult> choices;
        try
        {
            choices = await run.CollectAsync();
        }
        catch (OperationCanceledException) when (run.CancellationToken.IsCancellationRequested)
        {
            run.Cancelled();
            throw;
        }
        catch (Exception ex)
        {
            run.Failed(ex);
            return OpenAIErrors.Create(StatusCodes.Status500InternalServerError, GenerationRun.GenerationFailed);
        }

        run.Completed();
        return endpoint.Respond(run, choices);
    }

    private static JsonHttpResult<OpenAIErrorResponse> Rejected(CompletionServices services, JsonHttpResult<OpenAIErrorResponse> error)
    {
        services.Telemetry.Request("rejected");
        return error;
    }
}
