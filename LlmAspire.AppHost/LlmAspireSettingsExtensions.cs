namespace LlmAspire.AppHost;

internal static class LlmAspireSettingsExtensions
{
    /// <summary>Reads the <c>LlmAspire</c> section of the AppHost's configuration.</summary>
    internal static LlmAspireSettings GetLlmAspireSettings(this IDistributedApplicationBuilder builder) =>
        LlmAspireSettings.Read(builder.Configuration, builder.ExecutionContext.IsPublishMode);
}
