using LlmAspire.ModelServer.Apis;
using LlmAspire.ModelServer.Hosting;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults(ModelServerMetrics.MeterName);
builder.AddModelServer();

var app = builder.Build();

app.UseOpenAIErrorPages();

app.MapDefaultEndpoints();
app.MapModelsApi();
app.MapCompletionsApi();

app.Run();
