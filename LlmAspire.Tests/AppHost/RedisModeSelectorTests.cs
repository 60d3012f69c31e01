using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using LlmAspire.AppHost;
using LlmAspire.AppHost.Cache;
using Microsoft.Extensions.Configuration;

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
        var plan = RedisModeSelector.Select(
            Enum.Parse<RedisMode>(requested), isPublishMode: true, null, Unasked, Unasked, () => null);

        Assert.Equal(RedisMode.Container, plan.Mode);
        Assert.Null(plan.ExecutablePath);
        Assert.Null(plan.ContainerRuntime);
    }

    [Fact]
    public void Select_AutoWithDockerAndTheImage_UsesTheContainerOnDocker()
    {
        var plan = RedisModeSelector.Select(
            RedisMode.Auto, isPublishMode: false, null, Runtimes("docker", "podman"), Runtimes("docker"), () => RedisPath);

        Assert.Equal(new RedisPlan(RedisMode.Container, null, "docker", plan.Reason), plan);
    }

    [Fact]
    public void Select_AutoWhereOnlyPodmanAnswers_UsesTheContainerOnPodman()
    {
        var asked = new List<string>();
        var plan = RedisModeSelector.Select(
            RedisMode.Auto,
            isPublishMode: false,
            null,
            runtime => { asked.Add(runtime); return runtime == "podman"; },
            Runtimes("podman"),
            () => RedisPath);

        Assert.Equal(["docker", "podman"], asked);
        Assert.Equal(new RedisPlan(RedisMode.Container, null, "podman", plan.Reason), plan);
        Assert.Contains("podman answers", plan.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Select_AutoWhereThePodmanImageIsMissingAndUnpullable_FallsBackToRedisServerSayingWhy()
    {
        var plan = RedisModeSelector.Select(
            RedisMode.Auto, isPublishMode: false, null, Runtimes("podman"), Runtimes(), () => RedisPath);

        Assert.Equal(new RedisPlan(RedisMode.Executable, RedisPath, null, plan.Reason), plan);
        Assert.Contains(RedisModeSelector.RedisContainerImage, plan.Reason, StringComparison.Ordinal);
        Assert.Contains("podman answers", plan.Reason, StringComparison.Ordinal);
        Assert.Contains("build-images.sh --redis", plan.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Select_AutoWithAnImagelessRuntimeAndNoRedisServer_FailsNamingTheImage()
    {
        var exception = Assert.Throws<InvalidOperationException>(() => RedisModeSelector.Select(
            RedisMode.Auto, isPublishMode: false, null, Runtimes("docker"), Runtimes(), () => null));

        Assert.Contains(RedisModeSelector.RedisContainerImage, exception.Message, StringComparison.Ordinal);
        Assert.Contains("RedisMode=container", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Select_AutoWithAConfiguredRuntime_AsksOnlyThatRuntime()
    {
        var asked = new List<string>();
        var plan = RedisModeSelector.Select(
            RedisMode.Auto,
            isPublishMode: false,
            "podman",
            runtime => { asked.Add(runtime); return false; },
            Unasked,
            () => RedisPath);

        Assert.Equal(["podman"], asked);
        Assert.Equal(new RedisPlan(RedisMode.Executable, RedisPath, null, plan.Reason), plan);
        Assert.Contains("'podman info'", plan.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Select_AutoWithoutARuntime_UsesRedisServerFromPathNamingBothRuntimes()
    {
        var plan = RedisModeSelector.Select(
            RedisMode.Auto, isPublishMode: false, null, Runtimes(), Unasked, () => RedisPath);

        Assert.Equal(new RedisPlan(RedisMode.Executable, RedisPath, null, plan.Reason), plan);
        Assert.Contains("'docker info' or 'podman info'", plan.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Select_Container_UsesTheAnsweringRuntimeWithoutAskingForTheImage()
    {
        var plan = RedisModeSelector.Select(
            RedisMode.Container, isPublishMode: false, null, Runtimes("podman"), Unasked, () => RedisPath);

        Assert.Equal(new RedisPlan(RedisMode.Container, null, "podman", plan.Reason), plan);
    }

    [Fact]
    public void Select_Executable_DoesNotProbeTheContainerRuntime()
    {
        var plan = RedisModeSelector.Select(RedisMode.Executable, isPublishMode: false, null, Unasked, Unasked, () => RedisPath);

        Assert.Equal(new RedisPlan(RedisMode.Executable, RedisPath, null, plan.Reason), plan);
    }

    [Theory]
    [InlineData(nameof(RedisMode.Auto))]
    [InlineData(nameof(RedisMode.Executable))]
    public void Select_NeitherAvailable_FailsNamingBothOptions(string requested)
    {
        var exception = Assert.Throws<InvalidOperationException>(() => RedisModeSelector.Select(
            Enum.Parse<RedisMode>(requested), isPublishMode: false, null, Runtimes(), Runtimes(), () => null));

        Assert.Contains("RedisMode=container", exception.Message, StringComparison.Ordinal);
        Assert.Contains("RedisMode=executable", exception.Message, StringComparison.Ordinal);
        Assert.Contains("redis-server", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RedisContainerImage_IsTheImageAspireRunsForAddRedis()
    {
        var builder = DistributedApplication.CreateBuilder();
        var redis = builder.AddRedis("cache");

        var image = Assert.Single(redis.Resource.Annotations.OfType<ContainerImageAnnotation>());
        Assert.Equal(RedisModeSelector.RedisContainerImage, $"{image.Registry}/{image.Image}:{image.Tag}");
    }

    [Theory]
    [InlineData(null, null, null)]
    [InlineData("podman", null, "podman")]
    [InlineData(null, "podman", "podman")]
    [InlineData("docker", "podman", "docker")]
    [InlineData("", null, null)]
    public void GetConfiguredRuntime_ReadsAspiresKeyThenItsOlderSpelling(string? current, string? legacy, string? expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [ContainerRuntimeProbe.RuntimeKey] = current,
            [ContainerRuntimeProbe.LegacyRuntimeKey] = legacy,
        }).Build();

        Assert.Equal(expected, ContainerRuntimeProbe.GetConfiguredRuntime(configuration));
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

    private static Func<string, bool> Runtimes(params string[] present) => runtime => present.Contains(runtime, StringComparer.Ordinal);

    private static bool Unasked(string runtime) => throw new InvalidOperationException($"{runtime} was probed");
}
