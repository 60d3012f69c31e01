using LlmAspire.ModelServer.Apis;
using LlmAspire.ModelServer.Hosting;
using LlmAspire.ModelServer.Telemetry;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults(ModelServerTelemetry.SourceName);
builder.AddModelServer();

var app = builder.Build();

app.UseOpenAIErrorPages();

app.MapDefaultEndpoints();
app.MapModelsApi();
app.MapCompletionsApi();
app.MapChatCompletionsApi();
app.MapVllmMetrics();

app.Run();
