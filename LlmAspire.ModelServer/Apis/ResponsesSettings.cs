namespace LlmAspire.ModelServer.Apis;

/// <summary>A <c>/v1/responses</c> request that passed the checks that need no model.</summary>
/// <param name="Chat">The chat request it means, checked by chat's validator; its budget named <c>max_output_tokens</c>.</param>
/// <param name="Echo">The parameters the response echoes.</param>
/// <param name="Map">Where chat's parameters came from in the request, to name them in errors found later.</param>
internal sealed record ResponsesSettings(ChatSettings Chat, ResponseEcho Echo, ResponsesRequestReader.ParamMap Map);
