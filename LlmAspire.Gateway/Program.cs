using LlmAspire.Gateway.Apis;
using LlmAspire.Gateway.Auth;
using LlmAspire.Gateway.Caching;
using LlmAspire.Gateway.RateLimiting;
using LlmAspire.Gateway.Requests;
using LlmAspire.Gateway.Responses;
using LlmAspire.Gateway.Routing;
using LlmAspire.Gateway.Telemetry;
using LlmAspire.OpenAIApi.Errors;

// The gateway's settings (appsettings.json: the log levels that keep per-request and per-poll lines out of the log)
// ship beside its assembly. Read them there unless a content root is given, so `dotnet /path/LlmAspire.Gateway.dll`
// from another directory behaves as it does in its container; without them every request wrote six log lines, a
// third of the gateway's CPU time (docs/BENCHMARKS.md, Gateway capacity).
var contentRootGiven = args.Any(arg => arg.StartsWith("--contentRoot", StringComparison.OrdinalIgnoreCase))
    || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ASPNETCORE_CONTENTROOT"))
    || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOTNET_CONTENTROOT"));
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    ContentRootPath = contentRootGiven || File.Exists(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json")) ? null : AppContext.BaseDirectory,
});

builder.AddServiceDefaults(GatewayMetrics.MeterName);
builder.AddModelServerProxy();
builder.AddApiKeys();
builder.AddRateLimits();
builder.AddResponseCache();
builder.AddStoredResponses();

var app = builder.Build();

app.UseOpenAIErrors();

app.MapDefaultEndpoints();
app.UseGatewayTelemetry();
app.UseApiKeys();
app.UseCompletionRequests();
app.UseStoredResponses();
app.UseRateLimits();
app.UseResponseCache();
app.MapModelsApi();
app.MapResponsesApi();
app.MapGatewayMetrics();
app.MapModelServerProxy();

app.Run();
