namespace LlmAspire.Gateway.LoadPolling;

/// <summary>The last successful reading of one destination's <c>/metrics</c>.</summary>
/// <param name="Load">What the server reported.</param>
/// <param name="ReadAt">When it was read, as a <see cref="TimeProvider"/> timestamp.</param>
/// <param name="InFlightAtRead">The gateway's in-flight requests to the destination when it was read.</param>
/// <param name="FailedReadsSince">Reads that failed since; the reading ages meanwhile.</param>
internal sealed record DestinationLoadSample(ModelServerLoad Load, long ReadAt, int InFlightAtRead, int FailedReadsSince = 0);
