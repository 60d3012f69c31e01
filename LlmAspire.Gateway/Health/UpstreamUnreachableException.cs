namespace LlmAspire.Gateway.Health;

/// <summary>
/// The model server of a request was declared unreachable (<see cref="ServerReachability"/>) before it answered. A
/// connection error as far as YARP is concerned (502, retried on another server).
/// </summary>
internal sealed class UpstreamUnreachableException(string endpoint, Exception? innerException)
    : HttpRequestException(HttpRequestError.ConnectionError, $"The model server {endpoint} became unreachable before it answered.", innerException);
