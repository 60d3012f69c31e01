namespace LlmAspire.ModelServer.Apis;

/// <summary>The generation endpoints, mapped from <c>Program.cs</c>; each is one <see cref="IGenerationEndpoint{TRequest, TSettings}"/>.</summary>
internal static class GenerationApis
{
    public static IEndpointRouteBuilder MapCompletionsApi(this IEndpointRouteBuilder app) => CompletionsApi.Map(app);

    public static IEndpointRouteBuilder MapChatCompletionsApi(this IEndpointRouteBuilder app) => ChatCompletionsApi.Map(app);

    public static IEndpointRouteBuilder MapResponsesApi(this IEndpointRouteBuilder app) => ResponsesApi.Map(app);
}
