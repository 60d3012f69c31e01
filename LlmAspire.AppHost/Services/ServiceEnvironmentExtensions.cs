namespace LlmAspire.AppHost.Services;

internal static class ServiceEnvironmentExtensions
{
    /// <summary>
    /// Runs a service in the AppHost's environment (Development under <c>dotnet run</c>), as a launch profile
    /// would; the AppHost declares endpoints itself, so launch profiles are not used. Publishing leaves the
    /// environment to the deployment.
    /// </summary>
    internal static IResourceBuilder<T> WithAppHostEnvironment<T>(this IResourceBuilder<T> resource)
        where T : IResourceWithEnvironment
    {
        var builder = resource.ApplicationBuilder;
        return builder.ExecutionContext.IsRunMode
            ? resource.WithEnvironment("ASPNETCORE_ENVIRONMENT", builder.Environment.EnvironmentName)
            : resource;
    }
}
