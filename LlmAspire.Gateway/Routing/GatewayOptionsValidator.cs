using Microsoft.Extensions.Options;

namespace LlmAspire.Gateway.Routing;

/// <summary>Checks <see cref="GatewayOptions"/> on start, naming every key that is wrong.</summary>
internal sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>(ModelServerProxyConfig.Validate(options));
        if (options.ActivityTimeout <= TimeSpan.Zero || options.HealthCheckInterval <= TimeSpan.Zero)
        {
            failures.Add("Gateway:ActivityTimeout and Gateway:HealthCheckInterval must be positive.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
