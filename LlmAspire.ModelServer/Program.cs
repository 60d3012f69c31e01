using LlmAspire.ModelServer.Apis;
using LlmAspire.ModelServer.Hosting;
using LlmAspire.ModelServer.Telemetry;
using LlmAspire.OpenAIApi.Errors;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults(ModelServerTelemetry.SourceName);
builder.AddModelServer();

var app = builder.Build();

app.UseOpenAIErrors();

app.MapDefaultEndpoints();
app.MapModelsApi();
app.MapCompletionsApi();
app.MapChatCompletionsApi();
app.MapResponsesApi();
app.MapVllmMetrics();

app.Run();
