using k8s.Models;
using LlmAspire.Cli.Deployment;
using LlmAspire.Tests.Inference;

namespace LlmAspire.Tests.Deployment;

/// <summary>
/// <c>llmaspire deploy kubernetes</c> on the manifest the AppHost publishes: the YAML, parsed back with the typed
/// models, keeps the app model's names and ports, probes every Deployment, schedules GPUs only in GPU mode and
/// exposes only the gateway.
/// </summary>
public sealed class KubernetesGeneratorTests(PublishedManifestFixture fixture) : IClassFixture<PublishedManifestFixture>
{
    private static readonly KubernetesOptions s_cpu = new() { Namespace = "llmaspire-test" };
    private static readonly KubernetesOptions s_gpu = s_cpu with { Gpu = true, GpusPerServer = 2, ReplicasPerServer = 2 };

    private IReadOnlyList<ManifestResource> Projects => fixture.Manifest.Resources.Values.Where(resource => resource.IsProject).ToList();

    private IReadOnlyList<ManifestResource> ModelServers => Projects.Where(KubernetesGenerator.IsModelServer).ToList();

    [Fact]
    public void Generate_FromThePublishedManifest_EveryProjectHasADeploymentAndServiceWithItsNameAndPorts()
    {
        var generated = GeneratedObjects.Generate(fixture.Manifest, s_cpu);

        Assert.Contains(ModelServers, server => server.Name == "modelserver-0");
        foreach (var project in Projects)
        {
            var deployment = generated.Single<V1Deployment>(project.Name);
            var service = generated.Single<V1Service>(project.Name);
            Assert.Equal("llmaspire-test", deployment.Metadata.NamespaceProperty);
            var container = Assert.Single(deployment.Spec.Template.Spec.Containers);
            foreach (var binding in project.Bindings)
            {
                var containerPort = Assert.Single(container.Ports, port => port.Name == binding.Name);
                var servicePort = Assert.Single(service.Spec.Ports, port => port.Name == binding.Name);
                Assert.Equal(binding.Port ?? binding.TargetPort ?? containerPort.ContainerPort, servicePort.Port);
                Assert.Equal(binding.Name, servicePort.TargetPort.Value);
                if (binding.TargetPort is { } targetPort)
                {
                    Assert.Equal(targetPort, containerPort.ContainerPort);
                }
            }

            // HTTP_PORTS ({name.bindings.http.targetPort}) resolves to the port the container declares.
            var httpPorts = Assert.Single(container.Env, variable => variable.Name == "HTTP_PORTS");
            Assert.Equal(Assert.Single(container.Ports, port => port.Name == "http").ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture), httpPorts.Value);
            Assert.Equal(service.Spec.Selector, deployment.Spec.Selector.MatchLabels);
            Assert.All(deployment.Spec.Selector.MatchLabels, label => Assert.Equal(label.Value, deployment.Spec.Template.Metadata.Labels[label.Key]));
        }

        var gateway = Assert.Single(Projects, project => project.IsExternal);
        Assert.Equal(gateway.GetBinding("http").Port, generated.Single<V1Service>(gateway.Name).Spec.Ports.Single().Port);
    }

    [Fact]
    public void Generate_GatewayEnvironment_PointsAtTheModelServersHeadlessNamesOnTheirPodsPortAndTheCache()
    {
        var generated = GeneratedObjects.Generate(fixture.Manifest, s_cpu);

        var gateway = Assert.Single(Projects, project => project.IsExternal);
        var env = generated.Single<V1Deployment>(gateway.Name).Spec.Template.Spec.Containers.Single().Env.ToDictionary(variable => variable.Name);
        foreach (var server in ModelServers)
        {
            // The name resolves to the pods themselves: the port is the one their container listens on, not the Service's.
            var containerPort = generated.Single<V1Deployment>(server.Name).Spec.Template.Spec.Containers.Single().Ports.Single(port => port.Name == "http").ContainerPort;
            Assert.Equal($"http://{server.Name}.llmaspire-test.svc.cluster.local:{containerPort}", env[$"services__{server.Name}__http__0"].Value);
            Assert.Contains(generated.Single<V1Service>(server.Name).Spec.Ports, port => port.TargetPort.Value == "http");
        }

        Assert.StartsWith("cache:6379,password=$(PARAM_CACHE_PASSWORD)", env["ConnectionStrings__cache"].Value, StringComparison.Ordinal);
        Assert.Equal(KubernetesNames.ParametersSecret, env["PARAM_CACHE_PASSWORD"].ValueFrom.SecretKeyRef.Name);
        Assert.DoesNotContain(generated.Objects.OfType<V1Deployment>().SelectMany(d => d.Spec.Template.Spec.Containers).SelectMany(c => c.Env),
            variable => variable.Value?.Contains('{', StringComparison.Ordinal) == true);
    }

    [Fact]
    public void Generate_EveryDeployment_HasStartupReadinessAndLivenessProbesSizedForModelLoading()
    {
        var generated = GeneratedObjects.Generate(fixture.Manifest, s_gpu);

        var deployments = generated.OfType<V1Deployment>().ToList();
        Assert.Equal(Projects.Count, deployments.Count);
        foreach (var deployment in deployments)
        {
            var container = deployment.Spec.Template.Spec.Containers.Single();
            Assert.Equal(KubernetesNames.HealthPath, container.StartupProbe?.HttpGet?.Path);
            Assert.Equal(KubernetesNames.HealthPath, container.ReadinessProbe?.HttpGet?.Path);
            Assert.Equal(KubernetesNames.AlivePath, container.LivenessProbe?.HttpGet?.Path);
            Assert.NotNull(container.Resources?.Requests);
            Assert.True(container.Resources.Requests.ContainsKey("cpu") && container.Resources.Requests.ContainsKey("memory"), deployment.Metadata.Name);
        }

        foreach (var server in ModelServers)
        {
            var startup = generated.Single<V1Deployment>(server.Name).Spec.Template.Spec.Containers.Single().StartupProbe;
            // A model download and load may take many minutes: the startup probe allows at least 15 of them.
            Assert.True((startup.PeriodSeconds ?? 10) * (startup.FailureThreshold ?? 3) >= 15 * 60, $"{server.Name}'s startup probe is too short.");
        }
    }

    [Fact]
    public void Generate_GpuMode_ModelServersRequestGpusAndRunOnGpuNodes()
    {
        var generated = GeneratedObjects.Generate(fixture.Manifest, s_gpu);

        foreach (var server in ModelServers)
        {
            var deployment = generated.Single<V1Deployment>(server.Name);
            var pod = deployment.Spec.Template.Spec;
            var container = pod.Containers.Single();
            Assert.Equal(2, deployment.Spec.Replicas);
            Assert.Equal("2", container.Resources.Limits[KubernetesNames.GpuResource].ToString());
            Assert.Equal("2", container.Resources.Requests[KubernetesNames.GpuResource].ToString());
            Assert.Contains(pod.Tolerations, toleration => toleration.Key == KubernetesNames.GpuResource && toleration.Effect == "NoSchedule");
            Assert.NotEmpty(pod.NodeSelector);
            Assert.EndsWith("-cuda:latest", container.Image, StringComparison.Ordinal);
            Assert.Equal("cuda", container.Env.Single(variable => variable.Name == "ModelServer__ExecutionProvider").Value);
        }

        Assert.All(generated.OfType<V1Deployment>().Where(d => !ModelServers.Any(s => s.Name == d.Metadata.Name)),
            deployment => Assert.DoesNotContain(KubernetesNames.GpuResource, deployment.Spec.Template.Spec.Containers.Single().Resources.Limits?.Keys ?? []));
    }

    [Fact]
    public void Generate_CpuMode_NoGpuLimitsTolerationsOrGpuNodeSelector()
    {
        var generated = GeneratedObjects.Generate(fixture.Manifest, s_cpu);

        Assert.DoesNotContain(KubernetesNames.GpuResource, generated.Yaml, StringComparison.Ordinal);
        foreach (var deployment in generated.OfType<V1Deployment>())
        {
            Assert.Null(deployment.Spec.Template.Spec.Tolerations);
            Assert.Null(deployment.Spec.Template.Spec.NodeSelector);
        }

        Assert.All(ModelServers, server => Assert.Equal("cpu",
            generated.Single<V1Deployment>(server.Name).Spec.Template.Spec.Containers.Single().Env.Single(v => v.Name == "ModelServer__ExecutionProvider").Value));
    }

    [Fact]
    public void Generate_ModelServers_AreHeadlessOfReadyPodsAndAcceptIngressOnlyFromTheGatewayAndPrometheus()
    {
        var generated = GeneratedObjects.Generate(fixture.Manifest, s_cpu);

        var exposed = generated.OfType<V1Service>().Where(service => service.Spec.Type is "LoadBalancer" or "NodePort").ToList();
        Assert.Equal("gateway", Assert.Single(exposed).Metadata.Name);
        foreach (var server in ModelServers)
        {
            // Headless: the name resolves to each ready pod (a pod still loading or terminating is left out), never to a
            // cluster IP behind which kube-proxy would pick the pod at random.
            var service = generated.Single<V1Service>(server.Name);
            Assert.Equal("None", service.Spec.ClusterIP);
            Assert.False(service.Spec.PublishNotReadyAddresses);
            Assert.Equal(service.Spec.Selector, generated.Single<V1Deployment>(server.Name).Spec.Selector.MatchLabels);
            Assert.Single(generated.OfType<V1Service>(), other => other.Spec.Selector?.SequenceEqual(service.Spec.Selector) == true);
        }

        Assert.All(Projects.Where(project => !project.IsExternal && !KubernetesGenerator.IsModelServer(project)),
            project => Assert.Null(generated.Single<V1Service>(project.Name).Spec.ClusterIP));

        var policy = Assert.Single(generated.OfType<V1NetworkPolicy>(), p =>
            p.Spec.PodSelector.MatchLabels.TryGetValue(KubernetesNames.ComponentLabel, out var component) && component == KubernetesNames.ModelServerComponent);
        Assert.Equal(["Ingress"], policy.Spec.PolicyTypes);
        var modelServerPodLabels = generated.Single<V1Deployment>("modelserver-0").Spec.Template.Metadata.Labels;
        Assert.All(policy.Spec.PodSelector.MatchLabels, label => Assert.Equal(label.Value, modelServerPodLabels[label.Key]));

        var peers = policy.Spec.Ingress.SelectMany(rule => rule.FromProperty).ToList();
        Assert.NotEmpty(peers);
        foreach (var peer in peers)
        {
            if (peer.PodSelector is { } pods)
            {
                Assert.Null(peer.NamespaceSelector);
                Assert.Equal("gateway", pods.MatchLabels[KubernetesNames.NameLabel]);
                var gatewayPodLabels = generated.Single<V1Deployment>("gateway").Spec.Template.Metadata.Labels;
                Assert.All(pods.MatchLabels, label => Assert.Equal(label.Value, gatewayPodLabels[label.Key]));
            }
            else
            {
                Assert.NotNull(peer.NamespaceSelector);
                Assert.Equal(s_cpu.MonitoringNamespace, peer.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]);
            }
        }
    }

    [Fact]
    public void Generate_Hpa_ScalesEveryModelServerOnAMetricTheModelServerExports()
    {
        var generated = GeneratedObjects.Generate(fixture.Manifest, s_gpu);

        var source = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "LlmAspire.ModelServer", "Telemetry", "VllmMetrics.cs"));
        foreach (var server in ModelServers)
        {
            var hpa = generated.Single<V2HorizontalPodAutoscaler>(server.Name);
            Assert.Equal(server.Name, hpa.Spec.ScaleTargetRef.Name);
            Assert.Equal("Deployment", hpa.Spec.ScaleTargetRef.Kind);
            Assert.Equal(2, hpa.Spec.MinReplicas);
            var metric = Assert.Single(hpa.Spec.Metrics);
            Assert.Equal("Pods", metric.Type);
            Assert.Equal(KubernetesNames.ScalingMetric, metric.Pods.Metric.Name);
            Assert.Contains($"\"{metric.Pods.Metric.Name}\"", source, StringComparison.Ordinal);
        }

        var adapter = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "deploy", "prometheus", "prometheus-adapter-values.yaml"));
        Assert.Contains($"as: \"{KubernetesNames.ScalingMetric}\"", adapter, StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_PdbServiceMonitorAndRedis_SelectWhatWasGenerated()
    {
        var generated = GeneratedObjects.Generate(fixture.Manifest, s_cpu);

        var pdb = Assert.Single(generated.OfType<V1PodDisruptionBudget>());
        Assert.Equal("1", pdb.Spec.MaxUnavailable?.Value);
        var monitor = Assert.Single(generated.OfType<ServiceMonitor>(), m => m.Metadata.Name == "modelservers");
        var gatewayMonitor = Assert.Single(generated.OfType<ServiceMonitor>(), m => m.Metadata.Name == "gateway");
        Assert.Equal("gateway", gatewayMonitor.Spec.Selector.MatchLabels[KubernetesNames.ComponentLabel]);
        Assert.Equal(KubernetesNames.MetricsPath, Assert.Single(monitor.Spec.Endpoints).Path);
        foreach (var server in ModelServers)
        {
            var labels = generated.Single<V1Service>(server.Name).Metadata.Labels;
            Assert.All(monitor.Spec.Selector.MatchLabels, label => Assert.Equal(label.Value, labels[label.Key]));
            Assert.Contains(generated.Single<V1Service>(server.Name).Spec.Ports, port => port.Name == monitor.Spec.Endpoints[0].Port);
        }

        var redis = generated.Single<V1StatefulSet>("cache");
        Assert.Equal("redis-exporter", redis.Spec.Template.Spec.Containers[1].Name);
        Assert.Equal("None", generated.Single<V1Service>("cache").Spec.ClusterIP);
        var secret = Assert.Single(generated.OfType<V1Secret>());
        Assert.Contains("cache-password", secret.StringData.Keys);
        Assert.All(fixture.Manifest.Resources.Values.Where(r => r.IsParameter && r.Secret && r.Name.Contains("api-key", StringComparison.Ordinal)),
            key => Assert.Contains(key.Name, secret.StringData.Keys));
    }

    [Fact]
    public void Generate_ExternalRedis_DeploysNoCacheAndReadsTheConnectionStringFromTheSecret()
    {
        var generated = GeneratedObjects.Generate(fixture.Manifest, s_cpu with { ExternalRedisConnectionString = "redis.example:6380,ssl=true,password=p" });

        Assert.Empty(generated.OfType<V1StatefulSet>());
        var env = generated.Single<V1Deployment>("gateway").Spec.Template.Spec.Containers.Single().Env.ToDictionary(variable => variable.Name);
        Assert.Equal("$(PARAM_CACHE_CONNECTION_STRING)", env["ConnectionStrings__cache"].Value);
        Assert.Equal("cache-connection-string", env["PARAM_CACHE_CONNECTION_STRING"].ValueFrom.SecretKeyRef.Key);
        Assert.False(env.ContainsKey("CACHE_HOST"));
        Assert.Equal("redis.example:6380,ssl=true,password=p", Assert.Single(generated.OfType<V1Secret>()).StringData["cache-connection-string"]);
    }

    [Fact]
    public void Generate_ModelServers_LeaveTheirServiceSoonWhenTheyStopAnswering_KeepServingWhileTakenOut_DrainWithinTheGracePeriod()
    {
        var generated = GeneratedObjects.Generate(fixture.Manifest, s_cpu);

        foreach (var server in ModelServers)
        {
            var pod = generated.Single<V1Deployment>(server.Name).Spec.Template.Spec;
            var container = pod.Containers.Single();
            var readiness = container.ReadinessProbe;
            // Unready within ~10 s (two failed probes 5 s apart, 3 s each), as the gateway's own probes eject it.
            Assert.True((readiness.PeriodSeconds + readiness.TimeoutSeconds) * readiness.FailureThreshold <= 20, $"{server.Name}'s readiness is too slow.");
            var preStop = container.Lifecycle?.PreStop?.Sleep?.Seconds;
            Assert.NotNull(preStop);
            Assert.Equal(5, preStop);

            // SIGTERM comes after the pause; the server then drains for ShutdownGracePeriodSeconds, and the pod has time to exit.
            var drain = int.Parse(container.Env.Single(variable => variable.Name == "ModelServer__ShutdownGracePeriodSeconds").Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(30, drain);
            Assert.Equal(45, pod.TerminationGracePeriodSeconds);
            Assert.True(preStop + drain < pod.TerminationGracePeriodSeconds, $"{server.Name}: {preStop} s + {drain} s must fit in {pod.TerminationGracePeriodSeconds} s.");
        }
    }

    [Fact]
    public void Generate_Gateway_LooksTheModelServersUpAgainWithinTheirPreStopPause()
    {
        foreach (var options in new[] { s_cpu, s_cpu with { MaxReplicasPerServer = 1 }, s_gpu })
        {
            var generated = GeneratedObjects.Generate(fixture.Manifest, options);
            var env = generated.Single<V1Deployment>("gateway").Spec.Template.Spec.Containers.Single().Env.ToDictionary(variable => variable.Name);

            // A terminating pod is dropped by the gateway's next lookup before it stops taking requests.
            var refresh = TimeSpan.Parse(env["Gateway__Routing__DnsRefreshInterval"].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(refresh, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(4));
            Assert.All(ModelServers, server => Assert.True(
                refresh < TimeSpan.FromSeconds(generated.Single<V1Deployment>(server.Name).Spec.Template.Spec.Containers.Single().Lifecycle.PreStop.Sleep.Seconds),
                $"the gateway's refresh ({refresh}) is not shorter than {server.Name}'s preStop pause."));

            // Every destination is one pod: a pod refusing connections ends only its own requests (the default).
            Assert.False(env.ContainsKey("Gateway__Health__EndRequestsWhenUnreachable"));
        }
    }

    [Fact]
    public void Generate_AnotherClusterDomain_TheGatewayUsesIt()
    {
        var generated = GeneratedObjects.Generate(fixture.Manifest, s_cpu with { Namespace = "prod", ClusterDomain = "corp.internal" });

        var env = generated.Single<V1Deployment>("gateway").Spec.Template.Spec.Containers.Single().Env.ToDictionary(variable => variable.Name);
        Assert.Equal("http://modelserver-0.prod.svc.corp.internal:8080", env["services__modelserver-0__http__0"].Value);
    }
}
