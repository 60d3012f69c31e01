using LlmAspire.OpenAIApi.Errors;

namespace LlmAspire.Gateway.Health;

/// <summary>The errors the gateway answers, or ends a stream with, when a model server fails a request.</summary>
internal static class UpstreamErrors
{
    /// <summary>The code of an answer or stream a model server did not continue within a timeout.</summary>
    public const string TimeoutCode = "model_server_timeout";

    /// <summary>The code of a request whose model server became unreachable while it ran.</summary>
    public const string UnreachableCode = "model_server_unreachable";

    /// <summary>The code of a stream whose connection to its model server broke.</summary>
    public const string DisconnectedCode = "model_server_disconnected";

    /// <summary>504: no response headers within <see cref="TimeoutOptions.FirstByte"/>.</summary>
    public static OpenAIError NoAnswer(TimeSpan firstByte) =>
        new($"The model server did not answer within {firstByte.TotalSeconds:0.###} s.", OpenAIError.ServerError, null, TimeoutCode);

    /// <summary>502: the model server became unreachable before it answered.</summary>
    public static OpenAIError Unreachable { get; } =
        new("The model server became unreachable before it answered.", OpenAIError.ServerError, null, UnreachableCode);

    /// <summary>The error event that ends a stream whose model server failed.</summary>
    public static OpenAIError StreamEnded(UpstreamFailure failure, TimeSpan streamIdle) => failure switch
    {
        UpstreamFailure.Idle => new(
            $"The model server sent nothing for {streamIdle.TotalSeconds:0.###} s; the stream ended before the generation did.",
            OpenAIError.ServerError, null, TimeoutCode),
        UpstreamFailure.Unreachable => new(
            "The model server became unreachable; the stream ended before the generation did.",
            OpenAIError.ServerError, null, UnreachableCode),
        _ => new(
            "The connection to the model server broke; the stream ended before the generation did.",
            OpenAIError.ServerError, null, DisconnectedCode),
    };
}
