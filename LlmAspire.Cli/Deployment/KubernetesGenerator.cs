using System.Globalization;
using System.Security.Cryptography;
using k8s;
using k8s.Models;

namespace LlmAspire.Cli.Deployment;

/// <summary>
/// Generates the Kubernetes objects for the app model in an Aspire manifest: per project a Deployment and a
/// Service (the externally bound one a LoadBalancer, the model servers' headless, the rest ClusterIP), per container a
/// StatefulSet with a headless Service, the secret parameters as one Secret, and for the model servers GPU scheduling,
/// probes sized for model loading, a graceful stop, a NetworkPolicy, a PodDisruptionBudget, an HPA on
/// <c>vllm:num_requests_waiting</c> and a ServiceMonitor.
/// </summary>
/// <remarks>
/// Pod-level routing: each model server's Service is headless (no cluster IP, ready pods only), and the gateway is
/// pointed at its fully qualified name, which resolves to every ready pod; the gateway makes each pod its own
/// destination and looks the name up again every <see cref="GatewayDnsRefreshSeconds"/>. Through a ClusterIP Service
/// the gateway would see one destination per server and kube-proxy would pick the pod at random, so prefix affinity
/// and load awareness would stop at the Service. Nothing else needs a cluster IP: the ServiceMonitor finds the pods
/// through the Service's endpoints, the NetworkPolicy and the PodDisruptionBudget select pods, the HPA its Deployment.
/// </remarks>
internal sealed class KubernetesGenerator(AspireManifest manifest, KubernetesOptions options)
{
    private const string ModelCacheVolume = "model-cache";

    /// <summary>
    /// How long a terminating model-server pod keeps serving before SIGTERM, while it leaves its Service's endpoints and
    /// the gateway's next lookups (<see cref="GatewayDnsRefreshSeconds"/>) drop it. Kubernetes' <c>sleep</c> action
    /// (1.30+), not an exec of <c>/bin/sleep</c>: it needs nothing in the image and holds no process in the container.
    /// </summary>
    internal const int PreStopSeconds = 5;

    /// <summary>How long a model server finishes what it runs after SIGTERM (<c>ModelServer:ShutdownGracePeriodSeconds</c>).</summary>
    internal const int ShutdownGraceSeconds = 30;

    /// <summary>The pod's whole budget from deletion to SIGKILL: the pause, the drain, and ten seconds to exit.</summary>
    internal const int ModelServerTerminationGraceSeconds = PreStopSeconds + ShutdownGraceSeconds + 10;

    /// <summary>How often the gateway looks the model servers' names up again: shorter than <see cref="PreStopSeconds"/>.</summary>
    internal const int GatewayDnsRefreshSeconds = 2;

    /// <summary>The generated objects, grouped by the file each goes into.</summary>
    public IReadOnlyList<(string FileName, IReadOnlyList<object> Objects)> Generate(Func<int, string>? secretGenerator = null)
    {
        secretGenerator ??= GenerateSecret;
        var external = new HashSet<string>(StringComparer.Ordinal);
        if (options.ExternalRedisConnectionString is not null)
        {
            external.UnionWith(manifest.Resources.Values.Where(IsRedis).Select(resource => resource.Name));
        }

        var podAddressed = manifest.Resources.Values.Where(IsModelServer).ToDictionary(resource => resource.Name, HeadlessHost, StringComparer.Ordinal);
        var resolver = new ManifestExpressionResolver(manifest, external, podAddressed);
        var secrets = new SortedSet<string>(StringComparer.Ordinal);
        var files = new List<(string, IReadOnlyList<object>)>();

        foreach (var resource in manifest.Resources.Values)
        {
            if (resource.IsProject)
            {
                files.Add(($"{resource.Name}.yaml", ProjectObjects(resource, resolver, secrets)));
            }
            else if (resource.IsContainer && !external.Contains(resource.Name))
            {
                files.Add(($"{resource.Name}.yaml", ContainerObjects(resource, resolver, secrets)));
            }
        }

        var modelServers = manifest.Resources.Values.Where(IsModelServer).ToList();
        if (modelServers.Count > 0)
        {
            files.Add(("modelservers-policy.yaml", ModelServerPolicies(modelServers)));
        }

        var head = new List<object>
        {
            new V1Namespace { ApiVersion = "v1", Kind = "Namespace", Metadata = new V1ObjectMeta { Name = options.Namespace, Labels = PartOfLabels() } },
            ParametersSecret(secrets, secretGenerator),
        };
        files.Insert(0, ("00-namespace.yaml", head));
        return files;
    }

    /// <summary>Writes one YAML file per group into <paramref name="directory"/>; returns the paths written.</summary>
    public IReadOnlyList<string> Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        foreach (var (fileName, objects) in Generate())
        {
            var path = Path.Combine(directory, fileName);
            File.WriteAllText(path, Serialize(objects));
            written.Add(path);
        }

        return written;
    }

    /// <summary>Objects as one multi-document YAML stream.</summary>
    public static string Serialize(IEnumerable<object> objects) =>
        string.Join("---\n", objects.Select(item => KubernetesYaml.Serialize(item).TrimEnd('\n') + "\n"));

    /// <summary>The model servers are the projects built from LlmAspire.ModelServer.</summary>
    public static bool IsModelServer(ManifestResource resource) =>
        resource.IsProject && (resource.Path?.Contains("LlmAspire.ModelServer", StringComparison.Ordinal) == true
            || resource.Name.StartsWith("modelserver", StringComparison.Ordinal));

    /// <summary>The fully qualified name of a model server's headless Service: it resolves to every ready pod.</summary>
    private string HeadlessHost(ManifestResource resource) => $"{resource.Name}.{options.Namespace}.svc.{options.ClusterDomain}";

    private static bool IsRedis(ManifestResource resource) =>
        resource.IsContainer && resource.Image?.Contains("redis", StringComparison.OrdinalIgnoreCase) == true;

    private IReadOnlyList<object> ProjectObjects(ManifestResource resource, ManifestExpressionResolver resolver, ISet<string> secrets)
    {
        bool modelServer = IsModelServer(resource);
        string component = modelServer ? KubernetesNames.ModelServerComponent : resource.IsExternal ? KubernetesNames.GatewayComponent : resource.Name;
        var labels = Labels(resource.Name, component);
        var ports = resource.Bindings.Select(binding => new V1ContainerPort
        {
            Name = binding.Name,
            ContainerPort = ManifestExpressionResolver.ContainerPort(resource, binding),
            Protocol = "TCP",
        }).ToList();

        var env = Environment(resource, resolver, secrets);
        var container = new V1Container
        {
            Name = resource.Name,
            Image = ImageFor(resource, modelServer),
            Ports = ports,
            Env = env,
            StartupProbe = Probe(KubernetesNames.HealthPath, periodSeconds: 10, failureThreshold: modelServer ? 180 : 30),
            // A model server that stops answering leaves its Service within ~10 s, as the gateway's own probes eject it.
            ReadinessProbe = modelServer
                ? Probe(KubernetesNames.HealthPath, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 3)
                : Probe(KubernetesNames.HealthPath, periodSeconds: 10, failureThreshold: 3),
            LivenessProbe = Probe(KubernetesNames.AlivePath, periodSeconds: 20, failureThreshold: 3),
            Resources = modelServer ? ModelServerResources() : new V1ResourceRequirements
            {
                Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("250m"), ["memory"] = new("256Mi") },
                Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new("1Gi") },
            },
        };

        var pod = new V1PodSpec { Containers = [container], TerminationGracePeriodSeconds = modelServer ? ModelServerTerminationGraceSeconds : 30 };
        if (modelServer)
        {
            // A terminating pod keeps serving while it leaves its Service's endpoints and the gateway's lookups drop it,
            // so no connection the gateway opens meanwhile is refused; then SIGTERM makes it refuse new requests (503,
            // retried elsewhere) and finish the ones it runs within ShutdownGracePeriodSeconds.
            container.Lifecycle = new V1Lifecycle { PreStop = new V1LifecycleHandler { Sleep = new V1SleepAction { Seconds = PreStopSeconds } } };
            env.Add(EnvVar("ModelServer__ShutdownGracePeriodSeconds", ShutdownGraceSeconds.ToString(CultureInfo.InvariantCulture)));
            env.Add(EnvVar("ModelServer__ExecutionProvider", options.Gpu ? "cuda" : "cpu"));
            env.Add(EnvVar("ModelServer__CacheDirectory", KubernetesNames.ModelCacheDirectory));
            container.VolumeMounts = [new V1VolumeMount { Name = ModelCacheVolume, MountPath = KubernetesNames.ModelCacheDirectory }];
            pod.Volumes = [new V1Volume { Name = ModelCacheVolume, EmptyDir = new V1EmptyDirVolumeSource() }];
            if (options.Gpu)
            {
                pod.NodeSelector = new Dictionary<string, string> { ["nvidia.com/gpu.present"] = "true" };
                pod.Tolerations = [new V1Toleration { Key = KubernetesNames.GpuResource, OperatorProperty = "Exists", Effect = "NoSchedule" }];
            }
        }

        var objects = new List<object>
        {
            new V1Deployment
            {
                ApiVersion = "apps/v1",
                Kind = "Deployment",
                Metadata = Meta(resource.Name, labels),
                Spec = new V1DeploymentSpec
                {
                    Replicas = modelServer ? options.ReplicasPerServer : 1,
                    Selector = new V1LabelSelector { MatchLabels = Selector(resource.Name) },
                    Template = new V1PodTemplateSpec { Metadata = new V1ObjectMeta { Labels = labels }, Spec = pod },
                },
            },
            new V1Service
            {
                ApiVersion = "v1",
                Kind = "Service",
                Metadata = Meta(resource.Name, labels),
                Spec = new V1ServiceSpec
                {
                    Type = resource.IsExternal ? "LoadBalancer" : "ClusterIP",
                    // A model server's Service is headless: its name resolves to each ready pod, for the gateway to pick.
                    ClusterIP = modelServer ? "None" : null,
                    PublishNotReadyAddresses = modelServer ? false : null,
                    Selector = Selector(resource.Name),
                    Ports = resource.Bindings.Select(binding => new V1ServicePort
                    {
                        Name = binding.Name,
                        Port = ManifestExpressionResolver.ServicePort(resource, binding),
                        TargetPort = binding.Name,
                        Protocol = "TCP",
                    }).ToList(),
                },
            },
        };

        if (modelServer)
        {
            objects.Add(new V2HorizontalPodAutoscaler
            {
                ApiVersion = "autoscaling/v2",
                Kind = "HorizontalPodAutoscaler",
                Metadata = Meta(resource.Name, labels),
                Spec = new V2HorizontalPodAutoscalerSpec
                {
                    ScaleTargetRef = new V2CrossVersionObjectReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = resource.Name },
                    MinReplicas = options.ReplicasPerServer,
                    MaxReplicas = Math.Max(options.ReplicasPerServer, options.MaxReplicasPerServer),
                    Metrics =
                    [
                        new V2MetricSpec
                        {
                            Type = "Pods",
                            Pods = new V2PodsMetricSource
                            {
                                Metric = new V2MetricIdentifier { Name = KubernetesNames.ScalingMetric },
                                Target = new V2MetricTarget
                                {
                                    Type = "AverageValue",
                                    AverageValue = new ResourceQuantity(options.WaitingRequestsTarget.ToString(CultureInfo.InvariantCulture)),
                                },
                            },
                        },
                    ],
                    Behavior = new V2HorizontalPodAutoscalerBehavior
                    {
                        // Pods take minutes to load a model: scale up promptly, down slowly.
                        ScaleDown = new V2HPAScalingRules { StabilizationWindowSeconds = 600 },
                    },
                },
            });
        }
        else if (component == KubernetesNames.GatewayComponent)
        {
            // Each model server's name is looked up again this often, each address its own destination: one pod each,
            // so a pod refusing connections ends only its own requests (Gateway:Health:EndRequestsWhenUnreachable).
            env.Add(EnvVar("Gateway__Routing__DnsRefreshInterval", TimeSpan.FromSeconds(GatewayDnsRefreshSeconds).ToString("c", CultureInfo.InvariantCulture)));

            // The gateway serves its meter on /metrics (llmaspire_gateway_*): job="gateway", as the alerts expect.
            objects.Add(Monitor(resource.Name, KubernetesNames.GatewayComponent, resource.Bindings.First().Name));
        }

        return objects;
    }

    private IReadOnlyList<object> ContainerObjects(ManifestResource resource, ManifestExpressionResolver resolver, ISet<string> secrets)
    {
        bool redis = IsRedis(resource);
        string component = redis ? KubernetesNames.CacheComponent : resource.Name;
        var labels = Labels(resource.Name, component);
        var env = Environment(resource, resolver, secrets);
        var args = resource.Args.Select(arg => resolver.Resolve(arg, secrets)).ToList();
        var container = new V1Container
        {
            Name = resource.Name,
            Image = resource.Image ?? throw new InvalidDataException($"Container '{resource.Name}' has no image."),
            Command = resource.Entrypoint is null ? null : [resource.Entrypoint],
            Args = args.Count == 0 ? null : args,
            Env = env,
            Ports = resource.Bindings.Select(binding => new V1ContainerPort
            {
                Name = binding.Name,
                ContainerPort = ManifestExpressionResolver.ContainerPort(resource, binding),
                Protocol = "TCP",
            }).ToList(),
            Resources = new V1ResourceRequirements
            {
                Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("100m"), ["memory"] = new("128Mi") },
                Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new("512Mi") },
            },
            VolumeMounts = [new V1VolumeMount { Name = "data", MountPath = "/data" }],
        };

        var containers = new List<V1Container> { container };
        var servicePorts = resource.Bindings.Select(binding => new V1ServicePort
        {
            Name = binding.Name,
            Port = ManifestExpressionResolver.ServicePort(resource, binding),
            TargetPort = binding.Name,
            Protocol = "TCP",
        }).ToList();

        if (redis)
        {
            var tcp = resource.Bindings.First();
            container.ReadinessProbe = new V1Probe { TcpSocket = new V1TCPSocketAction { Port = tcp.Name }, PeriodSeconds = 10 };
            container.LivenessProbe = new V1Probe { TcpSocket = new V1TCPSocketAction { Port = tcp.Name }, PeriodSeconds = 20 };
            var password = env.FirstOrDefault(variable => variable.Name == "REDIS_PASSWORD");
            containers.Add(new V1Container
            {
                Name = "redis-exporter",
                Image = KubernetesNames.RedisExporterImage,
                Env =
                [
                    .. env.Where(variable => variable.ValueFrom is not null),
                    EnvVar("REDIS_ADDR", $"redis://localhost:{ManifestExpressionResolver.ContainerPort(resource, tcp)}"),
                    .. password is null ? Array.Empty<V1EnvVar>() : [new V1EnvVar { Name = "REDIS_PASSWORD", Value = password.Value, ValueFrom = password.ValueFrom }],
                ],
                Ports = [new V1ContainerPort { Name = "metrics", ContainerPort = KubernetesNames.RedisExporterPort, Protocol = "TCP" }],
                Resources = new V1ResourceRequirements
                {
                    Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("10m"), ["memory"] = new("32Mi") },
                },
            });
            servicePorts.Add(new V1ServicePort { Name = "metrics", Port = KubernetesNames.RedisExporterPort, TargetPort = "metrics", Protocol = "TCP" });
        }

        var objects = new List<object>
        {
            new V1StatefulSet
            {
                ApiVersion = "apps/v1",
                Kind = "StatefulSet",
                Metadata = Meta(resource.Name, labels),
                Spec = new V1StatefulSetSpec
                {
                    ServiceName = resource.Name,
                    Replicas = 1,
                    Selector = new V1LabelSelector { MatchLabels = Selector(resource.Name) },
                    Template = new V1PodTemplateSpec { Metadata = new V1ObjectMeta { Labels = labels }, Spec = new V1PodSpec { Containers = containers } },
                    VolumeClaimTemplates =
                    [
                        new V1PersistentVolumeClaim
                        {
                            Metadata = new V1ObjectMeta { Name = "data" },
                            Spec = new V1PersistentVolumeClaimSpec
                            {
                                AccessModes = ["ReadWriteOnce"],
                                Resources = new V1VolumeResourceRequirements
                                {
                                    Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new("1Gi") },
                                },
                            },
                        },
                    ],
                },
            },
            new V1Service
            {
                ApiVersion = "v1",
                Kind = "Service",
                Metadata = Meta(resource.Name, labels),
                Spec = new V1ServiceSpec { ClusterIP = "None", Selector = Selector(resource.Name), Ports = servicePorts },
            },
        };

        if (redis)
        {
            var gatewayNames = manifest.Resources.Values.Where(project => project.IsProject && !IsModelServer(project)).Select(project => project.Name);
            objects.Add(IngressPolicy(
                $"{resource.Name}-ingress",
                new Dictionary<string, string> { [KubernetesNames.NameLabel] = resource.Name },
                gatewayNames,
                ManifestExpressionResolver.ContainerPort(resource, resource.Bindings.First()),
                KubernetesNames.RedisExporterPort));
            objects.Add(Monitor(resource.Name, KubernetesNames.CacheComponent, "metrics"));
        }

        return objects;
    }

    private IReadOnlyList<object> ModelServerPolicies(IReadOnlyList<ManifestResource> modelServers)
    {
        var selector = new Dictionary<string, string>
        {
            [KubernetesNames.PartOfLabel] = KubernetesNames.PartOf,
            [KubernetesNames.ComponentLabel] = KubernetesNames.ModelServerComponent,
        };
        var gateways = manifest.Resources.Values.Where(resource => resource.IsProject && resource.IsExternal).Select(resource => resource.Name);
        return
        [
            IngressPolicy("modelservers-ingress", selector, gateways, KubernetesNames.ProjectContainerPort, KubernetesNames.ProjectContainerPort),
            new V1PodDisruptionBudget
            {
                ApiVersion = "policy/v1",
                Kind = "PodDisruptionBudget",
                Metadata = Meta("modelservers", PartOfLabels()),
                Spec = new V1PodDisruptionBudgetSpec { MaxUnavailable = 1, Selector = new V1LabelSelector { MatchLabels = selector } },
            },
            Monitor("modelservers", KubernetesNames.ModelServerComponent, "http"),
        ];
    }

    /// <summary>Ingress only from <paramref name="clients"/>' pods on <paramref name="port"/> and from the monitoring namespace on <paramref name="metricsPort"/>.</summary>
    private V1NetworkPolicy IngressPolicy(string name, IDictionary<string, string> podSelector, IEnumerable<string> clients, int port, int metricsPort) => new()
    {
        ApiVersion = "networking.k8s.io/v1",
        Kind = "NetworkPolicy",
        Metadata = Meta(name, PartOfLabels()),
        Spec = new V1NetworkPolicySpec
        {
            PodSelector = new V1LabelSelector { MatchLabels = podSelector },
            PolicyTypes = ["Ingress"],
            Ingress =
            [
                new V1NetworkPolicyIngressRule
                {
                    FromProperty = clients.Select(client => new V1NetworkPolicyPeer
                    {
                        PodSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [KubernetesNames.NameLabel] = client } },
                    }).ToList(),
                    Ports = [new V1NetworkPolicyPort { Port = port, Protocol = "TCP" }],
                },
                new V1NetworkPolicyIngressRule
                {
                    FromProperty =
                    [
                        new V1NetworkPolicyPeer
                        {
                            NamespaceSelector = new V1LabelSelector
                            {
                                MatchLabels = new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = options.MonitoringNamespace },
                            },
                        },
                    ],
                    Ports = [new V1NetworkPolicyPort { Port = metricsPort, Protocol = "TCP" }],
                },
            ],
        },
    };

    private ServiceMonitor Monitor(string name, string component, string port) => new()
    {
        Metadata = Meta(name, PartOfLabels()),
        Spec = new ServiceMonitorSpec
        {
            // job="modelserver" / job="cache", as deploy/prometheus/prometheus.yml names them and the alerts expect.
            JobLabel = KubernetesNames.ComponentLabel,
            Selector = new V1LabelSelector
            {
                MatchLabels = new Dictionary<string, string>
                {
                    [KubernetesNames.PartOfLabel] = KubernetesNames.PartOf,
                    [KubernetesNames.ComponentLabel] = component,
                },
            },
            Endpoints = [new ServiceMonitorEndpoint { Port = port }],
        },
    };

    private V1Secret ParametersSecret(IEnumerable<string> keys, Func<int, string> secretGenerator)
    {
        var data = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            if (options.ExternalRedisConnectionString is { } connection && key.EndsWith("-connection-string", StringComparison.Ordinal))
            {
                data[key] = connection;
            }
            else
            {
                var parameter = manifest.Get(key);
                data[key] = parameter.GeneratedLength is { } length ? secretGenerator(length) : string.Empty;
            }
        }

        return new V1Secret
        {
            ApiVersion = "v1",
            Kind = "Secret",
            Type = "Opaque",
            Metadata = Meta(KubernetesNames.ParametersSecret, PartOfLabels()),
            StringData = data,
        };
    }

    private List<V1EnvVar> Environment(ManifestResource resource, ManifestExpressionResolver resolver, ISet<string> secrets)
    {
        var used = new SortedSet<string>(StringComparer.Ordinal);
        var plain = new List<V1EnvVar>();
        foreach (var (name, value) in resource.Env)
        {
            if (resolver.RefersToExternalBinding(value))
            {
                continue; // The connection string carries what these would.
            }

            plain.Add(EnvVar(name, resolver.Resolve(value, used)));
        }

        secrets.UnionWith(used);

        // Secret parameters first: Kubernetes expands $(VAR) only from variables defined before.
        var env = used.Select(key => new V1EnvVar
        {
            Name = ManifestExpressionResolver.ParameterVariable(key),
            ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = KubernetesNames.ParametersSecret, Key = key } },
        }).ToList();
        env.AddRange(plain);
        return env;
    }

    private V1ResourceRequirements ModelServerResources()
    {
        var requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("2"), ["memory"] = new("4Gi") };
        var limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new("16Gi") };
        if (options.Gpu)
        {
            var gpus = new ResourceQuantity(options.GpusPerServer.ToString(CultureInfo.InvariantCulture));
            requests[KubernetesNames.GpuResource] = gpus;
            limits[KubernetesNames.GpuResource] = gpus;
        }

        return new V1ResourceRequirements { Requests = requests, Limits = limits };
    }

    private string ImageFor(ManifestResource resource, bool modelServer)
    {
        var project = Path.GetFileNameWithoutExtension(resource.Path ?? resource.Name);
        var name = project.StartsWith("LlmAspire.", StringComparison.Ordinal)
            ? "llmaspire-" + project["LlmAspire.".Length..].ToLowerInvariant()
            : project.ToLowerInvariant();
        if (modelServer && options.Gpu)
        {
            name += "-cuda";
        }

        return options.ImageRegistry.Length == 0 ? $"{name}:{options.ImageTag}" : $"{options.ImageRegistry.TrimEnd('/')}/{name}:{options.ImageTag}";
    }

    private static V1EnvVar EnvVar(string name, string value) => new() { Name = name, Value = value };

    private static V1Probe Probe(string path, int periodSeconds, int failureThreshold, int timeoutSeconds = 5) => new()
    {
        HttpGet = new V1HTTPGetAction { Path = path, Port = "http" },
        PeriodSeconds = periodSeconds,
        TimeoutSeconds = timeoutSeconds,
        FailureThreshold = failureThreshold,
    };

    private V1ObjectMeta Meta(string name, IDictionary<string, string> labels) =>
        new() { Name = name, NamespaceProperty = options.Namespace, Labels = labels };

    private static Dictionary<string, string> Selector(string name) =>
        new() { [KubernetesNames.NameLabel] = name, [KubernetesNames.PartOfLabel] = KubernetesNames.PartOf };

    private static Dictionary<string, string> Labels(string name, string component) => new()
    {
        [KubernetesNames.NameLabel] = name,
        [KubernetesNames.ComponentLabel] = component,
        [KubernetesNames.PartOfLabel] = KubernetesNames.PartOf,
        [KubernetesNames.ManagedByLabel] = "llmaspire-cli",
    };

    private static Dictionary<string, string> PartOfLabels() => new()
    {
        [KubernetesNames.PartOfLabel] = KubernetesNames.PartOf,
        [KubernetesNames.ManagedByLabel] = "llmaspire-cli",
    };

    private static string GenerateSecret(int length)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        return RandomNumberGenerator.GetString(alphabet, Math.Max(length, 22));
    }
}
