using LlmAspire.Gateway.Auth;
using LlmAspire.Gateway.Caching;
using LlmAspire.Gateway.Requests;
using LlmAspire.Gateway.Routing;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults(CacheMetrics.MeterName);
builder.AddModelServerProxy();
builder.AddApiKeys();
builder.AddRateLimits();
builder.AddResponseCache();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseCompletionRequests();
app.UseApiKeys();
app.UseRateLimits();
app.UseResponseCache();
app.MapModelServerProxy();

app.Run();
