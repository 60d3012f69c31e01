using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace LlmAspire.Tests.Gateway.Responses;

/// <summary>
/// A stateless stand-in for the model server's <c>POST /v1/responses</c> over real HTTP: it keeps every body it
/// receives (so a test can assert what the gateway rebuilt), refuses <c>previous_response_id</c> with a 400 as the
/// model server does, and answers in OpenAI's shape — JSON, or named SSE events ending in <c>response.completed</c>.
/// The text of a last user message chooses the output: <c>call tool</c> a function call, <c>big</c> a message of
/// <see cref="BigTextLength"/> characters, anything else a message <c>reply {n}</c>. With <see cref="Unavailable"/>
/// every answer is a 503; with <see cref="Hold"/> a stream waits after its first delta until <see cref="Release"/>.
/// </summary>
internal sealed class FakeResponsesServer : IAsyncDisposable
{
    public const int BigTextLength = 64 * 1024;

    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    private readonly WebApplication _app;
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _count;

    private FakeResponsesServer(WebApplication app) => _app = app;

    public string Url => _app.Urls.First();

    /// <summary>Every <c>/v1/responses</c> body received, in order.</summary>
    public ConcurrentQueue<string> Received { get; } = new();

    /// <summary>The bytes of the last stream sent, exactly as written.</summary>
    public string LastStreamSent { get; private set; } = string.Empty;

    public bool Unavailable { get; set; }

    public bool Hold { get; set; }

    /// <summary>Completes when a held stream has sent its first delta and waits.</summary>
    public Task Held => _held.Task;

    public void Release() => _release.TrySetResult();

    public static async Task<FakeResponsesServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var server = new FakeResponsesServer(app);
        app.MapGet("/health", () => "Healthy");
        app.MapPost("/v1/responses", server.RespondAsync);
        await app.StartAsync().WaitAsync(s_timeout);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        Release();
        await _app.StopAsync().WaitAsync(s_timeout);
        await _app.DisposeAsync();
    }

    private async Task RespondAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        Received.Enqueue(body);
        if (Unavailable)
        {
            await Error(context, StatusCodes.Status503ServiceUnavailable, "busy", "server_error", null);
            return;
        }

        var request = JsonNode.Parse(body)!.AsObject();
        if (request.ContainsKey("previous_response_id"))
        {
            await Error(context, StatusCodes.Status400BadRequest, "previous_response_id is not supported by this server.", "invalid_request_error", "previous_response_id");
            return;
        }

        var number = Interlocked.Increment(ref _count);
        var id = $"resp_{Guid.NewGuid():N}";
        var lastText = LastUserText(request["input"]);
        var output = lastText switch
        {
            "call tool" => new JsonArray(new JsonObject
            {
                ["type"] = "function_call",
                ["id"] = $"fc_{number}",
                ["call_id"] = $"call_{number}",
                ["name"] = "get_weather",
                ["arguments"] = """{"city":"Paris"}""",
                ["status"] = "completed",
            }),
            _ => new JsonArray(Message(number, lastText == "big" ? new string('x', BigTextLength) : $"reply {number}")),
        };
        var response = Response(id, "completed", output);
        if (request["stream"]?.GetValueKind() != JsonValueKind.True)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(response.ToJsonString(), context.RequestAborted);
            return;
        }

        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        var sent = new StringBuilder();
        var sequence = 0;
        async Task SendAsync(string type, JsonObject payload)
        {
            payload["type"] = type;
            payload["sequence_number"] = sequence++;
            var text = $"event: {type}\ndata: {payload.ToJsonString()}\n\n";
            sent.Append(text);
            await context.Response.WriteAsync(text, context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }

        await SendAsync("response.created", new JsonObject { ["response"] = Response(id, "in_progress", []) });
        var item = output[0]!.DeepClone().AsObject();
        await SendAsync("response.output_item.added", new JsonObject { ["output_index"] = 0, ["item"] = item.DeepClone() });
        if (item["type"]!.GetValue<string>() == "message")
        {
            var text = item["content"]![0]!["text"]!.GetValue<string>();
            var half = text.Length / 2;
            await SendAsync("response.output_text.delta", new JsonObject { ["item_id"] = item["id"]!.DeepClone(), ["output_index"] = 0, ["content_index"] = 0, ["delta"] = text[..half] });
            if (Hold)
            {
                _held.TrySetResult();
                await _release.Task.WaitAsync(s_timeout, context.RequestAborted);
            }

            await SendAsync("response.output_text.delta", new JsonObject { ["item_id"] = item["id"]!.DeepClone(), ["output_index"] = 0, ["content_index"] = 0, ["delta"] = text[half..] });
            await SendAsync("response.output_text.done", new JsonObject { ["item_id"] = item["id"]!.DeepClone(), ["output_index"] = 0, ["content_index"] = 0, ["text"] = text });
        }

        await SendAsync("response.output_item.done", new JsonObject { ["output_index"] = 0, ["item"] = item });
        await SendAsync("response.completed", new JsonObject { ["response"] = response });
        LastStreamSent = sent.ToString();
    }

    private static JsonObject Message(int number, string text) => new()
    {
        ["type"] = "message",
        ["id"] = $"msg_{number}",
        ["role"] = "assistant",
        ["status"] = "completed",
        ["content"] = new JsonArray(new JsonObject { ["type"] = "output_text", ["text"] = text, ["annotations"] = new JsonArray() }),
    };

    private static JsonObject Response(string id, string status, JsonArray output) => new()
    {
        ["id"] = id,
        ["object"] = "response",
        ["created_at"] = 1,
        ["status"] = status,
        ["model"] = "fake",
        ["previous_response_id"] = null,
        ["output"] = output,
        ["usage"] = new JsonObject { ["input_tokens"] = 5, ["output_tokens"] = 3, ["total_tokens"] = 8 },
    };

    /// <summary>The text of <paramref name="input"/> when it is a string or ends with a user message; else null.</summary>
    private static string? LastUserText(JsonNode? input)
    {
        if (input?.GetValueKind() == JsonValueKind.String)
        {
            return input.GetValue<string>();
        }

        var last = input?.AsArray().LastOrDefault();
        if (last?["role"]?.GetValue<string>() != "user")
        {
            return null;
        }

        return last["content"] switch
        {
            JsonValue text => text.GetValue<string>(),
            JsonArray parts => string.Concat(parts.Select(part => part?["text"]?.GetValue<string>())),
            _ => null,
        };
    }

    private static Task Error(HttpContext context, int status, string message, string type, string? param)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new { error = new { message, type, param, code = (string?)null } }, context.RequestAborted);
    }
}
