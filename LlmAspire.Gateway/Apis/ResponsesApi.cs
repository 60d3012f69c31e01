using System.Buffers;
using System.Text.Json;
using LlmAspire.Gateway.Auth;
using LlmAspire.Gateway.Responses;
using LlmAspire.OpenAIApi.Errors;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace LlmAspire.Gateway.Apis;

/// <summary>
/// <c>GET</c> and <c>DELETE /v1/responses/{id}</c> and <c>GET /v1/responses/{id}/input_items</c>, answered by the
/// gateway from the caller's stored responses (see <see cref="ResponsesMiddleware"/>); another key's response, an
/// expired or a deleted one is a 404, as an unknown one is. <c>POST /v1/responses</c> itself is proxied.
/// </summary>
public static class ResponsesApi
{
    /// <summary>Maps the routes; their literal paths take precedence over the proxy's <c>/v1/{**catch-all}</c>.</summary>
    public static IEndpointRouteBuilder MapResponsesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/responses").WithTags("Responses");

        api.MapGet("/{id}", GetResponseAsync).WithName("GetResponse");
        api.MapDelete("/{id}", DeleteResponseAsync).WithName("DeleteResponse");
        api.MapGet("/{id}/input_items", ListInputItemsAsync).WithName("ListInputItems");

        return app;
    }

    internal static async Task<Results<FileContentHttpResult, JsonHttpResult<OpenAIErrorResponse>>> GetResponseAsync(
        string id, HttpContext context, StoredResponseStore store, IOptions<ResponsesOptions> options)
    {
        var (stored, error) = await LoadAsync(id, context, store, options.Value);
        return stored is null ? error! : TypedResults.Bytes(stored.Response.ToArray(), "application/json");
    }

    internal static async Task<Results<FileContentHttpResult, JsonHttpResult<OpenAIErrorResponse>>> DeleteResponseAsync(
        string id, HttpContext context, StoredResponseStore store)
    {
        if (!await store.RemoveAsync(context.GetApiKeyIdentity().Id, id))
        {
            return OpenAIErrorResults.Create(StatusCodes.Status404NotFound, ResponsesErrors.NotFound(id));
        }

        return TypedResults.Bytes(Json(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("id", id);
            writer.WriteString("object", "response");
            writer.WriteBoolean("deleted", true);
            writer.WriteEndObject();
        }), "application/json");
    }

    /// <summary>
    /// The response's input items, the whole conversation before it, in one page (<c>has_more</c> false), newest first
    /// unless <c>order=asc</c> (OpenAI's default is <c>desc</c>). <c>first_id</c> and <c>last_id</c> are the ids of the
    /// first and last items when they carry one (the gateway adds none; items the client sent without an id have none).
    /// </summary>
    internal static async Task<Results<FileContentHttpResult, JsonHttpResult<OpenAIErrorResponse>>> ListInputItemsAsync(
        string id, string? order, HttpContext context, StoredResponseStore store, IOptions<ResponsesOptions> options)
    {
        if (order is not (null or "asc" or "desc"))
        {
            return OpenAIErrorResults.BadRequest($"Invalid 'order': '{order}'. Expected 'asc' or 'desc'.", "order", "invalid_value");
        }

        var (stored, error) = await LoadAsync(id, context, store, options.Value);
        if (stored is null)
        {
            return error!;
        }

        using var input = JsonDocument.Parse(stored.Input);
        var items = input.RootElement.EnumerateArray().ToList();
        if (order != "asc")
        {
            items.Reverse();
        }

        return TypedResults.Bytes(Json(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("object", "list");
            writer.WriteStartArray("data");
            foreach (var item in items)
            {
                item.WriteTo(writer);
            }

            writer.WriteEndArray();
            WriteId(writer, "first_id", items.Count > 0 ? items[0] : default);
            WriteId(writer, "last_id", items.Count > 0 ? items[^1] : default);
            writer.WriteBoolean("has_more", false);
            writer.WriteEndObject();
        }), "application/json");
    }

    private static async Task<(StoredResponse? Stored, JsonHttpResult<OpenAIErrorResponse>? Error)> LoadAsync(
        string id, HttpContext context, StoredResponseStore store, ResponsesOptions options)
    {
        var stored = await store.GetAsync(context.GetApiKeyIdentity().Id, id, context.RequestAborted);
        return stored switch
        {
            null => (null, OpenAIErrorResults.Create(StatusCodes.Status404NotFound, ResponsesErrors.NotFound(id))),
            { TooLargeBytes: not null } => (null, OpenAIErrorResults.Create(StatusCodes.Status404NotFound, ResponsesErrors.NotStored(id, options.MaxStoredBytes))),
            _ => (stored, null),
        };
    }

    private static void WriteId(Utf8JsonWriter writer, string name, JsonElement item)
    {
        if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("id", out var itemId) && itemId.ValueKind == JsonValueKind.String)
        {
            writer.WriteString(name, itemId.GetString());
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    private static byte[] Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
