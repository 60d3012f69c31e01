using System.CommandLine;
using System.Text.RegularExpressions;
using LlmAspire.Cli.Deployment;
using LlmAspire.Cli.Errors;

namespace LlmAspire.Cli.Commands;

/// <summary><c>deploy kubernetes</c>: Kubernetes YAML from the Aspire manifest the AppHost publishes.</summary>
internal static partial class KubernetesCommand
{
    public static Command Create()
    {
        var manifest = new Option<FileInfo>("--manifest")
        {
            Description = "The Aspire manifest (dotnet run --project LlmAspire.AppHost -- --publisher manifest --output-path aspire-manifest.json)",
            Required = true,
        };
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder to write the YAML into", Required = true };
        var gpu = new Option<bool>("--gpu") { Description = "Model servers request nvidia.com/gpu, run on GPU nodes and use the CUDA image" };
        var gpus = new Option<int>("--gpus-per-server") { Description = "nvidia.com/gpu per model-server pod with --gpu", DefaultValueFactory = _ => 1 }.AtLeast(1);
        var replicas = new Option<int>("--replicas-per-server") { Description = "Pods per model-server Deployment (the HPA's minimum)", DefaultValueFactory = _ => 1 }.AtLeast(1);
        var maxReplicas = new Option<int>("--max-replicas-per-server") { Description = "The HPA's maximum per model server", DefaultValueFactory = _ => 4 }.AtLeast(1);
        var waiting = new Option<int>("--waiting-target") { Description = "Average vllm:num_requests_waiting per pod the HPA keeps", DefaultValueFactory = _ => 4 }.AtLeast(1);
        var ns = new Option<string>("--namespace") { Description = "Namespace of every object", DefaultValueFactory = _ => "llmaspire" }.MustParse(CheckNamespace);
        var registry = new Option<string>("--image-registry") { Description = "Image registry prefix, e.g. myregistry.azurecr.io", DefaultValueFactory = _ => "" };
        var tag = new Option<string>("--image-tag") { Description = "Image tag", DefaultValueFactory = _ => "latest" };
        var externalRedis = new Option<string?>("--external-redis") { Description = "Use this Redis connection string (stored in the Secret) instead of deploying the cache" };
        var clusterDomain = new Option<string>("--cluster-domain")
        {
            Description = "The cluster's DNS domain; the gateway resolves each model server's pods at <server>.<namespace>.svc.<domain>",
            DefaultValueFactory = _ => "cluster.local",
        }.MustParse(CheckDomain);
        var monitoring = new Option<string>("--monitoring-namespace") { Description = "Namespace whose pods (Prometheus) may scrape the services", DefaultValueFactory = _ => "monitoring" }.MustParse(CheckNamespace);

        var command = new Command("kubernetes", "Generate Kubernetes YAML (Deployments, Services, NetworkPolicy, HPA, PDB, Secret, ServiceMonitor) from the Aspire manifest.")
        {
            manifest, output, gpu, gpus, replicas, maxReplicas, waiting, ns, registry, tag, externalRedis, clusterDomain, monitoring,
        };
        command.SetGuardedAction(parse =>
        {
            string manifestFile = CommandPaths.ExistingFile(
                parse.GetRequiredValue(manifest), "Aspire manifest", "write it with `dotnet run --project LlmAspire.AppHost -- --publisher manifest --output-path aspire-manifest.json` and pass its path to --manifest");
            var options = new KubernetesOptions
            {
                Namespace = parse.GetRequiredValue(ns),
                Gpu = parse.GetValue(gpu),
                GpusPerServer = parse.GetValue(gpus),
                ReplicasPerServer = parse.GetValue(replicas),
                MaxReplicasPerServer = parse.GetValue(maxReplicas),
                WaitingRequestsTarget = parse.GetValue(waiting),
                ImageRegistry = parse.GetRequiredValue(registry),
                ImageTag = parse.GetRequiredValue(tag),
                ExternalRedisConnectionString = parse.GetValue(externalRedis),
                ClusterDomain = parse.GetRequiredValue(clusterDomain),
                MonitoringNamespace = parse.GetRequiredValue(monitoring),
            };

            var generator = new KubernetesGenerator(AspireManifest.Load(manifestFile), options);
            string outDir = CommandPaths.WritableFolder(parse.GetRequiredValue(output), "--out");
            foreach (var path in generator.Write(outDir))
            {
                parse.InvocationConfiguration.Output.WriteLine($"wrote {path}");
            }

            return ExitCodes.Success;
        });

        return new Command("deploy", "Deployment manifests from the app model.") { command };
    }

    private static void CheckNamespace(string name)
    {
        if (!NamespacePattern().IsMatch(name))
        {
            throw new FormatException("not a Kubernetes namespace: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters");
        }
    }

    private static void CheckDomain(string domain)
    {
        if (domain.Length > 253 || !domain.Split('.').All(NamespacePattern().IsMatch))
        {
            throw new FormatException("not a DNS domain: dot-separated labels of lowercase letters, digits and '-'");
        }
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex NamespacePattern();
}
