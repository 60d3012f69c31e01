using k8s;
using k8s.Models;
using LlmAspire.Cli.Deployment;

namespace LlmAspire.Tests.Deployment;

/// <summary>Generated Kubernetes objects, serialized to YAML and parsed back with KubernetesClient's typed models.</summary>
internal sealed class GeneratedObjects
{
    private static readonly Dictionary<string, Type> s_customTypes = new()
    {
        [$"{ServiceMonitor.KubeApiVersion}/{ServiceMonitor.KubeKind}"] = typeof(ServiceMonitor),
    };

    private GeneratedObjects(IReadOnlyList<object> objects, string yaml)
    {
        Objects = objects;
        Yaml = yaml;
    }

    public IReadOnlyList<object> Objects { get; }

    public string Yaml { get; }

    public IEnumerable<T> OfType<T>() => Objects.OfType<T>();

    public T Single<T>(string name)
        where T : IKubernetesObject<V1ObjectMeta> =>
        Assert.Single(Objects.OfType<T>(), item => item.Metadata.Name == name);

    /// <summary>Generates from <paramref name="manifest"/>, writes the files and parses them all back.</summary>
    public static GeneratedObjects Generate(AspireManifest manifest, KubernetesOptions options)
    {
        var files = new KubernetesGenerator(manifest, options).Generate(length => new string('x', length));
        var yaml = string.Join("---\n", files.Select(file => KubernetesGenerator.Serialize(file.Objects)));
        return new GeneratedObjects(KubernetesYaml.LoadAllFromString(yaml, s_customTypes), yaml);
    }
}
