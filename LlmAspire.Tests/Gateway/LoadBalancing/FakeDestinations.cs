using LlmAspire.Tests.Gateway.Routing;
using LlmAspire.Gateway.Requests;
using LlmAspire.Gateway.Routing;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;
using LlmAspire.Gateway.LoadPolling;

namespace LlmAspire.Tests.Gateway.LoadBalancing;

/// <summary>Destinations, load readings and requests for policy tests, without a proxy.</summary>
internal sealed class FakeDestinations
{
    public ManualTimeProvider Time { get; } = new();

    public DestinationLoadStore Store { get; } = new();

    public RoutingOptions Options { get; } = new();

    public DestinationLoadScorer Scorer => new(Store, Time, Options);

    public static DestinationState Destination(string id, int inFlight = 0) =>
        new(id, new DestinationModel(new DestinationConfig
        {
            Address = $"http://{id}",
            Metadata = new Dictionary<string, string> { [DestinationMetadata.ServerKey] = id },
        }))
        { ConcurrentRequestCount = inFlight };

    public static DestinationState[] Destinations(params string[] ids) => ids.Select(id => Destination(id)).ToArray();

    /// <summary>Records a reading of <paramref name="destination"/> taken now.</summary>
    public void Read(DestinationState destination, double running, double waiting = 0, double? kvCache = null) =>
        Store.Set(destination, new DestinationLoadSample(
            new ModelServerLoad(running, waiting, kvCache), Time.GetTimestamp(), destination.ConcurrentRequestCount));

    public static HttpContext Request(string? prompt = null, string? session = null)
    {
        var context = new DefaultHttpContext();
        if (session is not null)
        {
            context.Request.Headers["x-session-id"] = session;
        }

        if (prompt is not null)
        {
            var body = System.Text.Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(new { model = "m", prompt }));
            context.Features.Set(CompletionRequestInfo.TryParse("/v1/completions", body)!);
        }

        return context;
    }

    public static ClusterState Cluster { get; } = new("test");
}
