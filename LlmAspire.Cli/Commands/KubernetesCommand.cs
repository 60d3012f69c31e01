using System.CommandLine;
using LlmAspire.Cli.Deployment;

namespace LlmAspire.Cli.Commands;

/// <summary><c>deploy kubernetes</c>: Kubernetes YAML from the Aspire manifest the AppHost publishes.</summary>
internal static class KubernetesCommand
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
        var gpus = new Option<int>("--gpus-per-server") { Description = "nvidia.com/gpu per model-server pod with --gpu", DefaultValueFactory = _ => 1 };
        var replicas = new Option<int>("--replicas-per-server") { Description = "Pods per model-server Deployment (the HPA's minimum)", DefaultValueFactory = _ => 1 };
        var maxReplicas = new Option<int>("--max-replicas-per-server") { Description = "The HPA's maximum per model server", DefaultValueFactory = _ => 4 };
        var waiting = new Option<int>("--waiting-target") { Description = "Average vllm:num_requests_waiting per pod the HPA keeps", DefaultValueFactory = _ => 4 };
        var ns = new Option<string>("--namespace") { Description = "Namespace of every object", DefaultValueFactory = _ => "llmaspire" };
        var registry = new Option<string>("--image-registry") { Description = "Image registry prefix, e.g. myregistry.azurecr.io", DefaultValueFactory = _ => "" };
        var tag = new Option<string>("--image-tag") { Description = "Image tag", DefaultValueFactory = _ => "latest" };
        var externalRedis = new Option<string?>("--external-redis") { Description = "Use this Redis connection string (stored in the Secret) instead of deploying the cache" };
        var monitoring = new Option<string>("--monitoring-namespace") { Description = "Namespace whose pods (Prometheus) may scrape the services", DefaultValueFactory = _ => "monitoring" };

        var command = new Command("kubernetes", "Generate Kubernetes YAML (Deployments, Services, NetworkPolicy, HPA, PDB, Secret, ServiceMonitor) from the Aspire manifest.")
        {
            manifest, output, gpu, gpus, replicas, maxReplicas, waiting, ns, registry, tag, externalRedis, monitoring,
        };
        command.SetAction(parse =>
        {
            var manifestFile = parse.GetRequiredValue(manifest);
            if (!manifestFile.Exists)
            {
                Console.Error.WriteLine($"error: {manifestFile.FullName} does not exist.");
                return 2;
            }

            if (parse.GetValue(gpus) < 1 || parse.GetValue(replicas) < 1 || parse.GetValue(maxReplicas) < 1 || parse.GetValue(waiting) < 1)
            {
                Console.Error.WriteLine("error: --gpus-per-server, --replicas-per-server, --max-replicas-per-server and --waiting-target must be at least 1.");
                return 2;
            }

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
                MonitoringNamespace = parse.GetRequiredValue(monitoring),
            };

            try
            {
                var generator = new KubernetesGenerator(AspireManifest.Load(manifestFile.FullName), options);
                foreach (var path in generator.Write(parse.GetRequiredValue(output).FullName))
                {
                    Console.WriteLine($"wrote {path}");
                }

                return 0;
            }
            catch (Exception ex) when (ex is InvalidDataException or NotSupportedException or System.Text.Json.JsonException)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return 1;
            }
        });

        return new Command("deploy", "Deployment manifests from the app model.") { command };
    }
}
