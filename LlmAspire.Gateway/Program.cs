using LlmAspire.Gateway.Apis;
using LlmAspire.Gateway.Auth;
using LlmAspire.Gateway.Caching;
using LlmAspire.Gateway.RateLimiting;
using LlmAspire.Gateway.Requests;
using LlmAspire.Gateway.Responses;
using LlmAspire.Gateway.Routing;
using LlmAspire.Gateway.Telemetry;
using LlmAspire.OpenAIApi.Errors;

var builder = WebApplication.CreateBuilder(args);

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
