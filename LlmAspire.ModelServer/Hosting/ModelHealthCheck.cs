using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace LlmAspire.ModelServer.Hosting;

/// <summary>
/// Degraded while the model loads, Healthy when it serves, Unhealthy with the reason when loading failed, and Unhealthy
/// from the moment the host begins to stop (the drain), so load balancers and readiness probes send nothing more.
/// Not tagged live: <c>/alive</c> stays OK while the server drains.
/// </summary>
internal sealed class ModelHealthCheck(ModelHost host) : IHealthCheck
{
    public const string Name = "model";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var result = host.Status switch
        {
            ModelStatus.Ready when host.TryGetModel(out var model) =>
                HealthCheckResult.Healthy($"Serving {model.Id} on {model.ExecutionProvider}."),
            ModelStatus.Loading => HealthCheckResult.Degraded("loading"),
            ModelStatus.Failed => HealthCheckResult.Unhealthy(host.FailureReason ?? "Loading the model failed."),
            ModelStatus.Draining => HealthCheckResult.Unhealthy("draining: the server is stopping"),
            _ => HealthCheckResult.Unhealthy("stopped"),
        };
        return Task.FromResult(result);
    }
}
