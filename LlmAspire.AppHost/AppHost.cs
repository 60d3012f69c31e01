using LlmAspire.AppHost;
using LlmAspire.AppHost.Cache;
using LlmAspire.AppHost.Services;

var builder = DistributedApplication.CreateBuilder(args);

var settings = builder.GetLlmAspireSettings();

// Parameters: the gateway's API key (secret; empty = open mode).
var apiKey = builder.AddGatewayApiKey("gateway-api-key");

// Infrastructure: the cache (a Redis container, or redis-server from PATH where no container runtime answers).
var cache = builder.AddCache("cache", settings.RedisMode);

// Model servers: one named resource per server, so the gateway sees each as its own destination (simulated engines load no model).
var modelServers = builder.AddModelServers(settings.ModelServers, settings.ModelPath, settings.IsSimulated);

// Gateway: the only external endpoint; forwards /v1/* to every model server.
builder.AddGateway("gateway", settings.GatewayPort)
    .WithModelServers(modelServers)
    .WithCacheRevision(settings.IsSimulated ? LlmAspireSettings.SimulatedEngine : settings.ModelPath ?? LlmAspireSettings.DefaultModelPath)
    .WithApiKey(apiKey)
    .WithReference(cache).WaitFor(cache);

builder.Build().Run();
