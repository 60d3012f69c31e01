using System.Text.RegularExpressions;
using LlmAspire.Inference.Models;
using LlmAspire.Tests.Inference;
using Xunit.Abstractions;

namespace LlmAspire.Tests.Deployment.Podman;

/// <summary>
/// The images of deploy/podman/build-images.sh, built here without pulling any base image, run with Podman: every
/// container passes its liveness and readiness probes and the gateway container answers completions from the model
/// server containers behind it (deploy/podman/smoke.sh, whose checks fail its exit code).
/// </summary>
public sealed partial class PodmanImagesTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_buildTimeout = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan s_smokeTimeout = TimeSpan.FromMinutes(5);

    [PodmanFact]
    public async Task Images_BuiltFromScratch_ComeUpHealthyAndAnswerThroughTheGatewayContainer()
    {
        using var work = TestPaths.CreateTempDirectory();
        var environment = new Dictionary<string, string> { ["LLMASPIRE_PODMAN_WORK"] = work.Path };

        var build = await ScriptRunner.RunAsync(
            TestPaths.RepositoryRoot, s_buildTimeout, environment, "deploy/podman/build-images.sh");
        output.WriteLine(build.Output);
        Assert.Equal(0, build.ExitCode);

        // Two layers and no more: the base made from this machine's files, then the app. Nothing came from a registry.
        foreach (var image in new[] { "llmaspire-gateway:local", "llmaspire-modelserver:local" })
        {
            var layers = await ScriptRunner.RunAsync(
                TestPaths.RepositoryRoot, s_smokeTimeout, environment, "-c", $"podman image inspect --format '{{{{len .RootFS.Layers}}}}' {image}");
            Assert.Equal("2", layers.Output.Trim());
        }

        var arguments = new List<string> { "deploy/podman/smoke.sh", "--servers", "2" };
        if (File.Exists(TestPaths.Stories260KCheckpoint) && File.Exists(TestPaths.Stories260KTokenizer))
        {
            var model = Path.Combine(work.Path, "models", "stories260K");
            ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, model);
            arguments.AddRange(["--model", model]);
        }

        var smoke = await ScriptRunner.RunAsync(TestPaths.RepositoryRoot, s_smokeTimeout, environment, [.. arguments]);
        output.WriteLine(smoke.Output);

        Assert.Equal(0, smoke.ExitCode);
        Assert.Equal(3, ReadyLine().Matches(smoke.Output).Count);
        foreach (var container in new[] { "modelserver-0", "modelserver-1", "gateway" })
        {
            Assert.Contains($"ok    {container} /alive -> 200", smoke.Output, StringComparison.Ordinal);
            Assert.Contains($"ok    {container} /health -> 200", smoke.Output, StringComparison.Ordinal);
        }

        Assert.Equal(2, CompletionLine().Matches(smoke.Output).Count);
        Assert.Contains("PASS", smoke.Output, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^ready (modelserver-\d|gateway) in \d+ ms", RegexOptions.Multiline)]
    private static partial Regex ReadyLine();

    [GeneratedRegex("^ok    gateway /v1/completions in \\d+ ms -> \".+\"$", RegexOptions.Multiline)]
    private static partial Regex CompletionLine();
}
