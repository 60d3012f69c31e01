using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LlmAspire.Gateway.Auth;

/// <summary>Registers and adds API keys.</summary>
public static class AuthExtensions
{
    /// <summary>Binds <see cref="AuthOptions"/> (validated on start) and logs at start-up whether the gateway is open.</summary>
    public static TBuilder AddApiKeys<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<AuthOptions>()
            .BindConfiguration(AuthOptions.SectionName)
            .Validate(AuthOptions.IsValid, AuthOptions.ValidationMessage)
            .ValidateOnStart();
        builder.Services.TryAddSingleton<ApiKeyValidator>();
        builder.Services.TryAddSingleton<AuthMetrics>();
        builder.Services.AddHostedService<AuthStartupReport>();
        return builder;
    }

    /// <summary>Requires an API key on <c>/v1/*</c> (unless the gateway is open).</summary>
    public static IApplicationBuilder UseApiKeys(this IApplicationBuilder app) =>
        app.UseMiddleware<ApiKeyMiddleware>();
}
