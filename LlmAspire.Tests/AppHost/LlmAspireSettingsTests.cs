using LlmAspire.AppHost;
using Microsoft.Extensions.Configuration;

namespace LlmAspire.Tests.AppHost;

public sealed class LlmAspireSettingsTests
{
    [Fact]
    public void Read_NothingConfigured_UsesTheDefaults()
    {
        var settings = LlmAspireSettings.Read(Configuration(), isPublishMode: false);

        Assert.Equal(2, settings.ModelServers);
        Assert.Null(settings.ModelPath);
        Assert.Equal(5080, settings.GatewayPort);
        Assert.Equal(RedisMode.Auto, settings.RedisMode);
    }

    [Fact]
    public void Read_RelativeModelPath_ResolvesAgainstTheCurrentDirectory()
    {
        using var temp = LlmAspire.Tests.Inference.TestPaths.CreateTempDirectory();
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, temp.Path);

        var settings = LlmAspireSettings.Read(Configuration(("ModelPath", relative)), isPublishMode: false);

        Assert.Equal(Path.GetFullPath(temp.Path), settings.ModelPath);
    }

    [Fact]
    public void Read_ValuesGiven_AreParsedCaseInsensitively()
    {
        var settings = LlmAspireSettings.Read(
            Configuration(("ModelServers", "3"), ("GatewayPort", "0"), ("RedisMode", "EXECUTABLE")),
            isPublishMode: false);

        Assert.Equal(3, settings.ModelServers);
        Assert.Null(settings.GatewayPort);
        Assert.Equal(RedisMode.Executable, settings.RedisMode);
    }

    [Theory]
    [InlineData("ModelServers", "0")]
    [InlineData("ModelServers", "two")]
    [InlineData("GatewayPort", "70000")]
    [InlineData("RedisMode", "kubernetes")]
    [InlineData("ModelPath", "/no/such/model/folder")]
    public void Read_BadValue_FailsNamingTheKey(string key, string value)
    {
        var exception = Assert.Throws<InvalidOperationException>(
            () => LlmAspireSettings.Read(Configuration((key, value)), isPublishMode: false));

        Assert.Contains($"LlmAspire:{key}", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_MissingModelFolderWhenPublishing_IsAccepted()
    {
        var settings = LlmAspireSettings.Read(Configuration(("ModelPath", "/models/stories260K")), isPublishMode: true);

        Assert.Equal(Path.GetFullPath("/models/stories260K"), settings.ModelPath);
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(value =>
                new KeyValuePair<string, string?>($"{LlmAspireSettings.SectionName}:{value.Key}", value.Value)))
            .Build();
}
