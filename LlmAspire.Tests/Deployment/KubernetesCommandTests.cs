using System.CommandLine;
using k8s;
using k8s.Models;
using LlmAspire.Cli.Commands;
using LlmAspire.Cli.Deployment;
using LlmAspire.Tests.Inference;

namespace LlmAspire.Tests.Deployment;

/// <summary><c>llmaspire deploy kubernetes</c> from the command line: files written, each parsing back with the typed models.</summary>
public sealed class KubernetesCommandTests(PublishedManifestFixture fixture) : IClassFixture<PublishedManifestFixture>
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task DeployKubernetes_GpuWithRegistry_WritesParsableFilesForEveryResource()
    {
        using var temp = TestPaths.CreateTempDirectory();
        var manifestPath = Path.Combine(temp.Path, "aspire-manifest.json");
        await File.WriteAllTextAsync(manifestPath, fixture.Json).WaitAsync(s_timeout);
        var outDir = Path.Combine(temp.Path, "k8s");
        var root = new RootCommand { KubernetesCommand.Create() };

        var exitCode = await root.Parse(
            ["deploy", "kubernetes", "--manifest", manifestPath, "--out", outDir, "--gpu", "--replicas-per-server", "3",
             "--namespace", "prod", "--image-registry", "registry.example/llm", "--image-tag", "1.2.3", "--cluster-domain", "corp.internal"])
            .InvokeAsync().WaitAsync(s_timeout);

        Assert.Equal(0, exitCode);
        var files = Directory.GetFiles(outDir, "*.yaml").Select(Path.GetFileName).Order().ToList();
        Assert.Equal(["00-namespace.yaml", "cache.yaml", "gateway.yaml", "modelserver-0.yaml", "modelserver-1.yaml", "modelservers-policy.yaml"], files);

        var types = new Dictionary<string, Type> { [$"{ServiceMonitor.KubeApiVersion}/{ServiceMonitor.KubeKind}"] = typeof(ServiceMonitor) };
        var objects = new List<object>();
        foreach (var file in Directory.GetFiles(outDir, "*.yaml"))
        {
            objects.AddRange(await KubernetesYaml.LoadAllFromFileAsync(file, types).WaitAsync(s_timeout));
        }

        Assert.All(objects.OfType<IKubernetesObject<V1ObjectMeta>>().Where(o => o is not V1Namespace), o => Assert.Equal("prod", o.Metadata.NamespaceProperty));
        var modelServer = Assert.Single(objects.OfType<V1Deployment>(), d => d.Metadata.Name == "modelserver-1");
        Assert.Equal(3, modelServer.Spec.Replicas);
        Assert.Equal("registry.example/llm/llmaspire-modelserver-cuda:1.2.3", modelServer.Spec.Template.Spec.Containers.Single().Image);
        var gateway = Assert.Single(objects.OfType<V1Deployment>(), d => d.Metadata.Name == "gateway").Spec.Template.Spec.Containers.Single();
        Assert.Equal("registry.example/llm/llmaspire-gateway:1.2.3", gateway.Image);
        Assert.Contains(gateway.Env, variable => variable.Name == "services__modelserver-1__http__0" && variable.Value == "http://modelserver-1.prod.svc.corp.internal:8080");
        Assert.Equal("None", Assert.Single(objects.OfType<V1Service>(), s => s.Metadata.Name == "modelserver-1").Spec.ClusterIP);
    }

    [Fact]
    public async Task DeployKubernetes_BadClusterDomain_FailsWithoutWriting()
    {
        using var temp = TestPaths.CreateTempDirectory();
        var manifestPath = Path.Combine(temp.Path, "aspire-manifest.json");
        await File.WriteAllTextAsync(manifestPath, fixture.Json).WaitAsync(s_timeout);
        var outDir = Path.Combine(temp.Path, "k8s");
        var root = new RootCommand { KubernetesCommand.Create() };

        var exitCode = await root.Parse(["deploy", "kubernetes", "--manifest", manifestPath, "--out", outDir, "--cluster-domain", "Cluster_Local"])
            .InvokeAsync().WaitAsync(s_timeout);

        Assert.NotEqual(0, exitCode);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public async Task DeployKubernetes_MissingManifest_FailsWithoutWriting()
    {
        using var temp = TestPaths.CreateTempDirectory();
        var outDir = Path.Combine(temp.Path, "k8s");
        var root = new RootCommand { KubernetesCommand.Create() };

        var exitCode = await root.Parse(["deploy", "kubernetes", "--manifest", Path.Combine(temp.Path, "none.json"), "--out", outDir])
            .InvokeAsync().WaitAsync(s_timeout);

        Assert.Equal(2, exitCode);
        Assert.False(Directory.Exists(outDir));
    }
}
