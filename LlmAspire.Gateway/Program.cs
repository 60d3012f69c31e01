using LlmAspire.Gateway.Routing;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddModelServerProxy();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapModelServerProxy();

app.Run();
