using LlmAspire.Gateway.Requests;
using LlmAspire.Gateway.Routing;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddModelServerProxy();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseCompletionRequests();
app.MapModelServerProxy();

app.Run();
