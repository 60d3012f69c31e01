using System.ClientModel;
using System.Text;
using System.Text.Json;
using LlmAspire.Tests.AppHost;
using LlmAspire.Tests.Inference;
using LlmAspire.Tests.Node;
using OpenAI.Responses;

// The client's Responses surface is marked for evaluation (OPENAI001); these tests exist to track it.
#pragma warning disable OPENAI001

namespace LlmAspire.Tests.ModelServer.Apis;

/// <summary>
/// The official OpenAI clients used unmodified against a model server's <c>/v1/responses</c> — the .NET
/// <see cref="ResponsesClient"/> and the openai npm client (its stream helper rebuilds the response from our events
/// and fails on any out of place): they parse our response object and our stream of named events, and both carry the
/// same greedy answer and usage.
/// </summary>
[Collection(AspireAppCollection.Name)]
public sealed class ResponsesClientTests(AspireAppFixture fixture)
{
    private const int MaxTokens = 12;

    [Stories260KFact]
    public async Task ResponsesClient_CreateResponse_AndStreamed_ParseTheSameAnswer()
    {
        var client = CreateClient();

        ResponseResult response = await client.CreateResponseAsync(Options(streaming: false)).WaitAsync(ModelServerHttp.RequestTimeout);

        Assert.StartsWith("resp_", response.Id, StringComparison.Ordinal);
        Assert.Equal(AspireAppFixture.ModelId, response.Model);
        Assert.Equal("Tell a story.", Assert.Single(Assert.IsAssignableFrom<MessageResponseItem>(Assert.Single(response.Instructions)).Content).Text);
        var text = response.GetOutputText();
        Assert.False(string.IsNullOrEmpty(text));
        var message = Assert.IsAssignableFrom<MessageResponseItem>(Assert.Single(response.OutputItems));
        Assert.Equal(text, Assert.Single(message.Content).Text);
        Assert.InRange(response.Usage.OutputTokenCount, 1, MaxTokens);
        Assert.True(response.Usage.InputTokenCount > 0);
        Assert.Equal(response.Usage.InputTokenCount + response.Usage.OutputTokenCount, response.Usage.TotalTokenCount);
        Assert.Equal(response.Usage.OutputTokenCount == MaxTokens ? ResponseStatus.Incomplete : ResponseStatus.Completed, response.Status);

        var deltas = new StringBuilder();
        var types = new List<string>();
        ResponseResult? final = null;
        await foreach (var update in await client.CreateResponseStreamingAsync(Options(streaming: true)).WaitAsync(ModelServerHttp.RequestTimeout))
        {
            types.Add(update.GetType().Name);
            switch (update)
            {
                case StreamingResponseOutputTextDeltaUpdate delta:
                    deltas.Append(delta.Delta);
                    break;
                case StreamingResponseCompletedUpdate completed:
                    final = completed.Response;
                    break;
                case StreamingResponseIncompleteUpdate incomplete:
                    final = incomplete.Response;
                    break;
            }
        }

        Assert.Equal(nameof(StreamingResponseCreatedUpdate), types[0]);
        Assert.Equal(nameof(StreamingResponseInProgressUpdate), types[1]);
        Assert.Contains(nameof(StreamingResponseOutputItemAddedUpdate), types);
        Assert.Contains(nameof(StreamingResponseContentPartAddedUpdate), types);
        Assert.Contains(nameof(StreamingResponseOutputTextDoneUpdate), types);
        Assert.Contains(nameof(StreamingResponseOutputItemDoneUpdate), types);
        Assert.NotNull(final);
        Assert.Equal(text, deltas.ToString());
        Assert.Equal(text, final.GetOutputText());
        Assert.Equal(response.Status, final.Status);
        Assert.Equal(response.Usage.OutputTokenCount, final.Usage.OutputTokenCount);
        Assert.Equal(response.Usage.InputTokenCount, final.Usage.InputTokenCount);
    }

    [Stories260KFact]
    public async Task OpenAINpmClient_ParsesTheResponseTheStreamHelperAndTheRawStream()
    {
        using var server = fixture.CreateModelServerClient(0);
        var request = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["baseURL"] = new Uri(server.BaseAddress!, "/v1").ToString(),
            ["model"] = AspireAppFixture.ModelId,
            ["input"] = "Hello",
            ["instructions"] = "Tell a story.",
            ["max_output_tokens"] = MaxTokens,
        });

        using var result = JsonDocument.Parse(await NodePeers.RunAsync("responses.mjs", request).WaitAsync(TimeSpan.FromMinutes(3)));

        var parsed = result.RootElement;
        var text = parsed.GetProperty("text").GetString();
        Assert.False(string.IsNullOrEmpty(text));
        Assert.StartsWith("resp_", parsed.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal(text, parsed.GetProperty("helperText").GetString());
        Assert.Equal(text, parsed.GetProperty("helperDeltas").GetString());
        Assert.Equal(text, parsed.GetProperty("deltas").GetString());
        Assert.Equal(text, parsed.GetProperty("finalText").GetString());
        var status = parsed.GetProperty("status").GetString();
        Assert.Equal(status, parsed.GetProperty("helperStatus").GetString());
        Assert.Equal(status, parsed.GetProperty("finalStatus").GetString());
        Assert.Equal(
            parsed.GetProperty("usage").GetProperty("output_tokens").GetInt32(),
            parsed.GetProperty("helperUsage").GetProperty("output_tokens").GetInt32());
        var types = parsed.GetProperty("types").EnumerateArray().Select(type => type.GetString()).ToList();
        Assert.Equal(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"], types.Take(4));
        Assert.Equal(status == "completed" ? "response.completed" : "response.incomplete", types[^1]);
    }

    private static CreateResponseOptions Options(bool streaming)
    {
        var options = new CreateResponseOptions
        {
            Model = AspireAppFixture.ModelId,
            Instructions = "Tell a story.",
            MaxOutputTokenCount = MaxTokens,
            Temperature = 0,
            StreamingEnabled = streaming,
        };
        options.InputItems.Add(ResponseItem.CreateUserMessageItem("Hello"));
        return options;
    }

    private ResponsesClient CreateClient()
    {
        using var server = fixture.CreateModelServerClient(0);
        var options = new ResponsesClientOptions
        {
            Endpoint = new Uri(server.BaseAddress!, "/v1"),
            NetworkTimeout = ModelServerHttp.RequestTimeout,
        };
        return new ResponsesClient(new ApiKeyCredential("unused"), options);
    }
}
