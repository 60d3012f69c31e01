using LlmAspire.Inference.Models.Hub;

namespace LlmAspire.Tests.Inference.Hub;

/// <summary><see cref="HubOptions.FromEnvironment(string?, string?)"/> with a fake environment (the real one is shared by parallel tests).</summary>
public sealed class HubOptionsTests
{
    [Fact]
    public void FromEnvironment_NothingSet_UsesHuggingFaceAndTheUserCache()
    {
        var options = HubOptions.FromEnvironment(null, null, Environment());

        Assert.Equal(new Uri("https://huggingface.co"), options.Endpoint);
        Assert.Null(options.Token);
        Assert.False(options.Offline);
        Assert.EndsWith(Path.Combine(".cache", "llmaspire", "hub"), options.CacheDirectory, StringComparison.Ordinal);
    }

    [Fact]
    public void FromEnvironment_HuggingFaceVariables_AreHonoured()
    {
        var options = HubOptions.FromEnvironment(null, null, Environment(
            ("HF_ENDPOINT", "http://mirror.local:8080/"),
            ("HF_TOKEN", " hf_abc "),
            ("HF_HOME", "/data/hf"),
            ("XDG_CACHE_HOME", "/data/xdg"),
            ("HF_HUB_OFFLINE", "1")));

        Assert.Equal(new Uri("http://mirror.local:8080"), options.Endpoint);
        Assert.Equal("hf_abc", options.Token);
        Assert.Equal(Path.GetFullPath("/data/hf/llmaspire/hub"), options.CacheDirectory);
        Assert.True(options.Offline);
    }

    [Fact]
    public void FromEnvironment_XdgCacheHomeWithoutHfHome_IsTheCacheRoot()
    {
        var options = HubOptions.FromEnvironment(null, null, Environment(("XDG_CACHE_HOME", "/data/xdg"), ("HUGGING_FACE_HUB_TOKEN", "hf_old")));

        Assert.Equal(Path.GetFullPath("/data/xdg/llmaspire/hub"), options.CacheDirectory);
        Assert.Equal("hf_old", options.Token);
    }

    [Fact]
    public void FromEnvironment_ExplicitOptions_WinOverTheEnvironment()
    {
        var options = HubOptions.FromEnvironment("https://hub.example", "/srv/models", Environment(("HF_ENDPOINT", "http://mirror.local"), ("HF_HOME", "/data/hf")));

        Assert.Equal(new Uri("https://hub.example"), options.Endpoint);
        Assert.Equal(Path.GetFullPath("/srv/models"), options.CacheDirectory);
    }

    [Theory]
    [InlineData("ftp://hub.example")]
    [InlineData("not a url")]
    public void FromEnvironment_BadEndpoint_ThrowsNamingTheVariable(string endpoint)
    {
        var exception = Assert.Throws<FormatException>(() => HubOptions.FromEnvironment(null, null, Environment(("HF_ENDPOINT", endpoint))));

        Assert.Contains("HF_ENDPOINT", exception.Message, StringComparison.Ordinal);
    }

    private static Func<string, string?> Environment(params (string Name, string Value)[] variables)
    {
        var map = variables.ToDictionary(variable => variable.Name, variable => variable.Value, StringComparer.Ordinal);
        return name => map.GetValueOrDefault(name);
    }
}
