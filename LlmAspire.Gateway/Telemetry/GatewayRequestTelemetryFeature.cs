namespace LlmAspire.Gateway.Telemetry;

/// <summary>
/// What the gateway's metrics tag one request with, filled in by the features that decide it: routing sets
/// <see cref="Model"/>, the response cache sets <see cref="CacheResult"/>. Read once the response has ended.
/// </summary>
public sealed class GatewayRequestTelemetryFeature
{
    /// <summary>The cache's answer, e.g. <c>hit</c>, <c>miss</c> or <c>bypass</c>; null where the request is not cacheable.</summary>
    public string? CacheResult { get; set; }

    /// <summary>The model whose cluster served the request, once routing has chosen it.</summary>
    public string? Model { get; set; }

    /// <summary>How many times the request was forwarded (2 after a retry on another server).</summary>
    public int Attempts { get; set; }
}
