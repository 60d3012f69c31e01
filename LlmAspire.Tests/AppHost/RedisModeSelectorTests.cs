using LlmAspire.AppHost;
using LlmAspire.AppHost.Cache;

namespace LlmAspire.Tests.AppHost;

public sealed class RedisModeSelectorTests
{
    private const string RedisPath = "/usr/bin/redis-server";

    [Theory]
    [InlineData(nameof(RedisMode.Auto))]
    [InlineData(nameof(RedisMode.Container))]
    [InlineData(nameof(RedisMode.Executable))]
    public void Select_PublishMode_AlwaysUsesTheContainer(string requested)
    {
        var plan = RedisModeSelector.Select(Enum.Parse<RedisMode>(requested), isPublishMode: true, () => false, () => null);

        Assert.Equal(new RedisPlan(RedisMode.Container, null), plan);
    }

    [Fact]
    public void Select_AutoWithARuntime_UsesTheContainer()
    {
        var plan = RedisModeSelector.Select(RedisMode.Auto, isPublishMode: false, () => true, () => RedisPath);

        Assert.Equal(RedisMode.Container, plan.Mode);
    }

    [Fact]
    public void Select_AutoWithoutARuntime_UsesRedisServerFromPath()
    {
        var plan = RedisModeSelector.Select(RedisMode.Auto, isPublishMode: false, () => false, () => RedisPath);

        Assert.Equal(new RedisPlan(RedisMode.Executable, RedisPath), plan);
    }

    [Fact]
    public void Select_Executable_DoesNotProbeTheContainerRuntime()
    {
        var plan = RedisModeSelector.Select(
            RedisMode.Executable,
            isPublishMode: false,
            () => throw new InvalidOperationException("probed"),
            () => RedisPath);

        Assert.Equal(new RedisPlan(RedisMode.Executable, RedisPath), plan);
    }

    [Theory]
    [InlineData(nameof(RedisMode.Auto))]
    [InlineData(nameof(RedisMode.Executable))]
    public void Select_NeitherAvailable_FailsNamingBothOptions(string requested)
    {
        var exception = Assert.Throws<InvalidOperationException>(
            () => RedisModeSelector.Select(Enum.Parse<RedisMode>(requested), isPublishMode: false, () => false, () => null));

        Assert.Contains("RedisMode=container", exception.Message, StringComparison.Ordinal);
        Assert.Contains("RedisMode=executable", exception.Message, StringComparison.Ordinal);
        Assert.Contains("redis-server", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FindOnPath_FindsTheExecutableInALaterDirectory()
    {
        using var temp = LlmAspire.Tests.Inference.TestPaths.CreateTempDirectory();
        var empty = Directory.CreateDirectory(Path.Combine(temp.Path, "empty")).FullName;
        var bin = Directory.CreateDirectory(Path.Combine(temp.Path, "bin")).FullName;
        File.WriteAllText(Path.Combine(bin, "redis-server"), "");

        var found = RedisModeSelector.FindOnPath(string.Join(Path.PathSeparator, empty, bin));

        Assert.Equal(Path.Combine(bin, "redis-server"), found);
        Assert.Null(RedisModeSelector.FindOnPath(empty));
        Assert.Null(RedisModeSelector.FindOnPath(null));
    }
}
