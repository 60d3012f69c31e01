using LlmAspire.Gateway.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace LlmAspire.Gateway.Responses;

/// <summary>Registers and adds the stored responses of <c>/v1/responses</c>.</summary>
public static class ResponsesExtensions
{
    /// <summary>
    /// Binds <see cref="ResponsesOptions"/> (validated on start) and adds the store: Redis (connection string
    /// <c>cache</c>) with this process's memory beside it when configured, else memory only.
    /// </summary>
    public static TBuilder AddStoredResponses<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<ResponsesOptions>()
            .BindConfiguration(ResponsesOptions.SectionName)
            .Validate(ResponsesOptions.IsValid, ResponsesOptions.ValidationMessage)
            .ValidateOnStart();
        var redis = builder.AddGatewayRedis();
        builder.Services.AddSingleton(services => new StoredResponseStore(
            services.GetRequiredService<IOptions<ResponsesOptions>>(),
            redis ? services.GetRequiredService<IConnectionMultiplexer>() : null,
            services.GetRequiredService<RedisCircuitBreaker>()));
        return builder;
    }

    /// <summary>
    /// Adds the middleware that resolves <c>previous_response_id</c> and stores answers; after the completion-request
    /// reader (it reads the buffered body) and before the rate limits (which then count the whole conversation).
    /// </summary>
    public static IApplicationBuilder UseStoredResponses(this IApplicationBuilder app) =>
        app.UseMiddleware<ResponsesMiddleware>();
}
