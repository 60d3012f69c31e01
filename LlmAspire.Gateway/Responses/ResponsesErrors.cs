using LlmAspire.OpenAIApi.Errors;

namespace LlmAspire.Gateway.Responses;

/// <summary>The gateway's words for a stored response it cannot give back.</summary>
internal static class ResponsesErrors
{
    /// <summary>404 for a <c>previous_response_id</c> this caller has no stored response of.</summary>
    public static OpenAIError PreviousNotFound(string id) =>
        OpenAIError.Invalid($"Previous response with id '{id}' not found.", "previous_response_id", "previous_response_not_found");

    /// <summary>404 for a <c>previous_response_id</c> whose response was too big to store.</summary>
    public static OpenAIError PreviousNotStored(string id, int maxStoredBytes) =>
        OpenAIError.Invalid(
            $"Previous response with id '{id}' was not stored: with its conversation it is larger than the {maxStoredBytes} bytes this gateway stores. "
            + "Send the conversation as input instead.",
            "previous_response_id",
            "previous_response_not_stored");

    /// <summary>404 for a response id this caller has no stored response of.</summary>
    public static OpenAIError NotFound(string id) =>
        OpenAIError.Invalid($"No response found with id '{id}'.", null, "response_not_found");

    /// <summary>404 for a response id whose response was too big to store.</summary>
    public static OpenAIError NotStored(string id, int maxStoredBytes) =>
        OpenAIError.Invalid(
            $"Response with id '{id}' was not stored: with its conversation it is larger than the {maxStoredBytes} bytes this gateway stores.",
            null,
            "response_not_stored");
}
