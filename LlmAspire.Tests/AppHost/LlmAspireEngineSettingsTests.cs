using LlmAspire.AppHost;
using Microsoft.Extensions.Configuration;

namespace LlmAspire.Tests.AppHost;

/// <summary><c>LlmAspire:Engine</c>: simulated servers need no model path, and a misspelt engine fails naming the choices.</summary>
public sealed class LlmAspireEngineSettingsTests
{
    [Fact]
    public void Read_SimulatedWith64Servers_NeedsNoModelPathAndIgnoresAMissingFolder()
    {
        var settings = LlmAspireSettings.Read(
            Configuration(("Engine", "Simulated"), ("ModelServers", "64"), ("ModelPath", "/no/such/folder")),
            isPublishMode: false);

        Assert.True(settings.IsSimulated);
        Assert.Equal(64, settings.ModelServers);
        Assert.Null(settings.ModelPath);
    }

    [Fact]
    public void Read_NothingConfigured_IsTheOnnxEngine()
    {
        var settings = LlmAspireSettings.Read(Configuration(), isPublishMode: false);

        Assert.False(settings.IsSimulated);
        Assert.Equal(LlmAspireSettings.OnnxEngine, settings.Engine);
    }

    [Fact]
    public void Read_UnknownEngine_FailsNamingTheKeyAndChoices()
    {
        var error = Assert.Throws<InvalidOperationException>(() => LlmAspireSettings.Read(Configuration(("Engine", "vllm")), isPublishMode: false));

        Assert.Equal("LlmAspire:Engine must be onnx or simulated; it is 'vllm'.", error.Message);
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>($"{LlmAspireSettings.SectionName}:{v.Key}", v.Value)))
            .Build();
}
