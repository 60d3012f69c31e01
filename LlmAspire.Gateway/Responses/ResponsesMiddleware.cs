using System.Text.Json;
using LlmAspire.Gateway.Auth;
using LlmAspire.Gateway.Requests;
using LlmAspire.OpenAIApi.Errors;
using LlmAspire.OpenAIApi.Requests;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace LlmAspire.Gateway.Responses;

/// <summary>
/// The state of <c>POST /v1/responses</c>, which the model servers leave to the gateway. Before the request is
/// proxied: a <c>previous_response_id</c> is looked up among the caller's stored responses (404 in OpenAI's shape
/// when it is not there) and the body is rewritten to carry the whole conversation as <c>input</c> and no
/// <c>previous_response_id</c>, so routing, limits and a retry on another server all see the body the model server
/// gets. After it, unless the request said <c>"store": false</c>, a 200 answer's response object is stored with the
/// conversation's input items (see <see cref="ResponseCaptureStream"/> for how it is found in JSON and in a stream,
/// and <see cref="StoredResponseStore"/> for where it goes).
/// </summary>
internal sealed partial class ResponsesMiddleware(
    RequestDelegate next, StoredResponseStore store, IOptions<ResponsesOptions> options, ILogger<ResponsesMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var completion = context.GetCompletionRequest();
        if (completion?.Path != CompletionRequestInfo.ResponsesPath)
        {
            await next(context);
            return;
        }

        var callerId = context.GetApiKeyIdentity().Id;
        ResponsesRequest request;
        byte[] conversation;
        byte[]? rewritten = null;
        using (var document = JsonDocument.Parse(completion.Body, new JsonDocumentOptions { MaxDepth = OpenAIJsonBody.MaxDepth }))
        {
            var root = document.RootElement;
            var (parsed, invalid) = ResponsesRequest.Parse(root);
            if (parsed is null)
            {
                await OpenAIErrorResults.WriteAsync(context, StatusCodes.Status400BadRequest, invalid!);
                return;
            }

            request = parsed;
            StoredResponse? previous = null;
            if (request.PreviousResponseId is { } previousId)
            {
                previous = await store.GetAsync(callerId, previousId, context.RequestAborted);
                var error = previous switch
                {
                    null => ResponsesErrors.PreviousNotFound(previousId),
                    { TooLargeBytes: not null } => ResponsesErrors.PreviousNotStored(previousId, options.Value.MaxStoredBytes),
                    _ => null,
                };
                if (error is not null)
                {
                    await OpenAIErrorResults.WriteAsync(context, StatusCodes.Status404NotFound, error);
                    return;
                }
            }

            conversation = ResponsesRequest.Conversation(root, previous);
            if (previous is not null)
            {
                rewritten = ResponsesRequest.Rewrite(root, conversation);
            }
        }

        if (rewritten is not null)
        {
            UseBody(context, rewritten);
        }

        if (request.Store)
        {
            await ForwardStoringAsync(context, callerId, request.PreviousResponseId, conversation);
        }
        else
        {
            await next(context);
        }
    }

    /// <summary>Replaces the buffered body (what the proxy sends, and sends again on a retry) and what was read from it.</summary>
    private static void UseBody(HttpContext context, byte[] body)
    {
        var request = context.Request;
        request.Body = new MemoryStream(body, writable: false);
        request.ContentLength = body.Length;
        request.Headers.TransferEncoding = default;
        context.Features.Set(CompletionRequestInfo.Parse(CompletionRequestInfo.ResponsesPath, body));
    }

    private async Task ForwardStoringAsync(HttpContext context, string callerId, string? previousResponseId, byte[] conversation)
    {
        var limit = options.Value.MaxStoredBytes;
        var original = context.Features.Get<IHttpResponseBodyFeature>()!;
        var capture = new ResponseCaptureStream(
            original.Stream,
            context.Response,
            limit,
            response => context.Response.StatusCode == StatusCodes.Status200OK
                ? StoreAsync(callerId, previousResponseId, response, conversation)
                : Task.CompletedTask);
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(capture, original));
        try
        {
            await next(context);
            await capture.FinishAsync(context.RequestAborted);
        }
        finally
        {
            context.Features.Set(original);
        }

        if (!capture.Completed && capture.TooLarge && capture.ResponseId is { } id && context.Response.StatusCode == StatusCodes.Status200OK)
        {
            LogNotStored(logger, id, limit);
            await store.SetAsync(callerId, id, StoredResponse.TooLarge(limit + 1L));
        }
    }

    private async Task StoreAsync(string callerId, string? previousResponseId, ReadOnlyMemory<byte> response, byte[] conversation)
    {
        using var document = JsonDocument.Parse(response);
        var id = document.RootElement.GetProperty("id").GetString()!;
        if (previousResponseId is not null)
        {
            response = ResponsesRequest.WithPreviousResponseId(response.Span, previousResponseId);
        }

        var size = (long)response.Length + conversation.Length;
        if (size > options.Value.MaxStoredBytes)
        {
            LogNotStored(logger, id, options.Value.MaxStoredBytes);
            await store.SetAsync(callerId, id, StoredResponse.TooLarge(size));
            return;
        }

        await store.SetAsync(callerId, id, StoredResponse.Create(response, conversation));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Response {ResponseId} is larger than the {MaxStoredBytes} bytes stored responses may take; it is not stored.")]
    private static partial void LogNotStored(ILogger logger, string responseId, int maxStoredBytes);
}
