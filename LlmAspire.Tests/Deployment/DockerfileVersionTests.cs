using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using LlmAspire.Tests.Inference;

namespace LlmAspire.Tests.Deployment;

/// <summary>The GPU Dockerfile states the versions the repository builds with (it cannot be built here: no Docker engine).</summary>
public sealed partial class DockerfileVersionTests
{
    private static readonly string s_dockerfile = Path.Combine(TestPaths.RepositoryRoot, "deploy", "docker", "modelserver-cuda.Dockerfile");

    [Fact]
    public void Dockerfile_OnnxRuntimeVersion_MatchesTheModelServersPackage()
    {
        var text = File.ReadAllText(s_dockerfile);
        var version = PackageVersion("Microsoft.ML.OnnxRuntime.Gpu.Linux");

        Assert.Equal(version, Arg(text, "ONNXRUNTIME_VERSION"));
        Assert.Contains($"ONNX Runtime {version}", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Dockerfile_DotNetVersions_MatchGlobalJsonAndTheTargetFramework()
    {
        var text = File.ReadAllText(s_dockerfile);
        using var globalJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "global.json")));
        var sdk = globalJson.RootElement.GetProperty("sdk").GetProperty("version").GetString()!;
        var targetFramework = XDocument.Load(Path.Combine(TestPaths.RepositoryRoot, "Directory.Build.props"))
            .Descendants("TargetFramework").Single().Value;

        Assert.Equal(sdk, Arg(text, "DOTNET_SDK_VERSION"));
        Assert.Contains($".NET SDK {sdk}", text, StringComparison.Ordinal);
        Assert.Equal(targetFramework["net".Length..], Arg(text, "DOTNET_RUNTIME_VERSION"));
        Assert.StartsWith(Arg(text, "DOTNET_RUNTIME_VERSION") + ".", sdk, StringComparison.Ordinal);
    }

    [Fact]
    public void Dockerfile_Base_IsACuda13CudnnRuntimeImage()
    {
        var image = Arg(File.ReadAllText(s_dockerfile), "CUDA_IMAGE");

        Assert.Matches(@"^nvidia/cuda:13\.\d+\.\d+-cudnn-runtime-ubuntu\d\d\.\d\d$", image);
    }

    [Fact]
    public void ServiceProjects_DeclareTheContainerImagesTheKubernetesGeneratorUses()
    {
        foreach (var (project, repository) in new[] { ("LlmAspire.Gateway", "llmaspire-gateway"), ("LlmAspire.ModelServer", "llmaspire-modelserver") })
        {
            var csproj = XDocument.Load(Path.Combine(TestPaths.RepositoryRoot, project, project + ".csproj"));
            Assert.Equal(repository, csproj.Descendants("ContainerRepository").Single().Value);
            Assert.Equal("8080", csproj.Descendants("ContainerPort").Single().Attribute("Include")?.Value);
        }
    }

    private static string PackageVersion(string id) =>
        XDocument.Load(Path.Combine(TestPaths.RepositoryRoot, "Directory.Packages.props"))
            .Descendants("PackageVersion").Single(element => (string?)element.Attribute("Include") == id).Attribute("Version")!.Value;

    private static string Arg(string dockerfile, string name)
    {
        var match = ArgLine().Matches(dockerfile).SingleOrDefault(m => m.Groups[1].Value == name);
        Assert.True(match is not null, $"The Dockerfile has no 'ARG {name}=…'.");
        return match.Groups[2].Value;
    }

    [GeneratedRegex(@"^ARG (\w+)=(\S+)$", RegexOptions.Multiline)]
    private static partial Regex ArgLine();
}
