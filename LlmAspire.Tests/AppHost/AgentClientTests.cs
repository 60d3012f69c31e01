extern alias JsonEverything;

using System.ClientModel;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using JsonEverything::Json.Schema;
using LlmAspire.Tests.Inference;
using LlmAspire.Tests.ModelServer;
using LlmAspire.Tests.Node;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Responses;
using AIChatMessage = Microsoft.Extensions.AI.ChatMessage;
using OpenAIChatFinishReason = OpenAI.Chat.ChatFinishReason;

// The client's Responses surface is marked for evaluation (OPENAI001).
#pragma warning disable OPENAI001

namespace LlmAspire.Tests.AppHost;

/// <summary>
/// The clients agents are built with, unmodified, against the AppHost's gateway (stories260K behind it, so the
/// generic tool format and a 512-token context — hence the one-letter functions): the OpenAI .NET SDK's tools and
/// JSON-schema output, Microsoft.Extensions.AI's <c>UseFunctionInvocation()</c> running a whole tool loop and
/// <c>GetResponseAsync&lt;T&gt;</c> returning a typed object, and the <c>openai</c> npm client streaming tool calls.
/// </summary>
[Collection(AspireAppCollection.Name)]
public sealed class AgentClientTests(AspireAppFixture fixture)
{
    private const string WeatherParameters = """{"type":"object","properties":{"c":{"type":"string","enum":["Paris","Oslo"]}},"required":["c"],"additionalProperties":false}""";

    /// <summary>The cities the weather function knows (an enum, so the model's argument is bounded).</summary>
    [JsonConverter(typeof(JsonStringEnumConverter<City>))]
    public enum City
    {
        Paris,
        Oslo,
    }

    /// <summary>The sky the typed answer reports.</summary>
    [JsonConverter(typeof(JsonStringEnumConverter<Sky>))]
    public enum Sky
    {
        Sunny,
        Rainy,
    }

    [Stories260KFact]
    public async Task OpenAISdk_RequiredTool_ReturnsAValidCallWithFinishReasonToolCalls()
    {
        var chat = CreateChatClient();
        var options = new ChatCompletionOptions
        {
            Tools = { ChatTool.CreateFunctionTool("w", "The weather", BinaryData.FromString(WeatherParameters)) },
            ToolChoice = ChatToolChoice.CreateRequiredChoice(),
            AllowParallelToolCalls = false,
            Temperature = 1,
        };

        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Weather?")], options).WaitAsync(ModelServerHttp.RequestTimeout);

        Assert.Equal(OpenAIChatFinishReason.ToolCalls, completion.FinishReason);
        ChatToolCall call = Assert.Single(completion.ToolCalls);
        Assert.Equal("w", call.FunctionName);
        Assert.StartsWith("call_", call.Id, StringComparison.Ordinal);
        AssertValid(WeatherParameters, call.FunctionArguments.ToString());
    }

    [Stories260KFact]
    public async Task OpenAISdk_StreamedToolCall_AssemblesFromTheUpdates()
    {
        var chat = CreateChatClient();
        var options = new ChatCompletionOptions
        {
            Tools = { ChatTool.CreateFunctionTool("w", null, BinaryData.FromString(WeatherParameters)) },
            ToolChoice = ChatToolChoice.CreateFunctionChoice("w"),
            AllowParallelToolCalls = false,
            Temperature = 1,
        };

        var arguments = new StringBuilder();
        string? name = null, id = null;
        OpenAIChatFinishReason? finish = null;
        await foreach (StreamingChatCompletionUpdate update in chat.CompleteChatStreamingAsync([new UserChatMessage("Weather?")], options))
        {
            foreach (StreamingChatToolCallUpdate piece in update.ToolCallUpdates)
            {
                name ??= piece.FunctionName;
                id ??= piece.ToolCallId;
                arguments.Append(piece.FunctionArgumentsUpdate?.ToString());
            }

            finish ??= update.FinishReason;
        }

        Assert.Equal(OpenAIChatFinishReason.ToolCalls, finish);
        Assert.Equal("w", name);
        Assert.StartsWith("call_", id, StringComparison.Ordinal);
        AssertValid(WeatherParameters, arguments.ToString());
    }

    [Stories260KFact]
    public async Task OpenAISdk_JsonSchemaResponseFormat_ContentValidates()
    {
        const string Schema = """{"type":"object","properties":{"sky":{"enum":["sunny","rainy"]},"windy":{"type":"boolean"}},"required":["sky","windy"],"additionalProperties":false}""";
        var chat = CreateChatClient();
        var options = new ChatCompletionOptions
        {
            ResponseFormat = OpenAI.Chat.ChatResponseFormat.CreateJsonSchemaFormat("forecast", BinaryData.FromString(Schema), jsonSchemaIsStrict: true),
            Temperature = 1,
        };

        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Forecast?")], options).WaitAsync(ModelServerHttp.RequestTimeout);

        Assert.Equal(OpenAIChatFinishReason.Stop, completion.FinishReason);
        AssertValid(Schema, completion.Content[0].Text);
    }

    [Stories260KFact]
    public async Task ExtensionsAI_UseFunctionInvocation_RunsTheWholeToolLoop()
    {
        var invocations = new List<City>();
        IChatClient client = CreateChatClient().AsIChatClient().AsBuilder().UseFunctionInvocation().Build();
        var weather = AIFunctionFactory.Create(
            (City c) =>
            {
                invocations.Add(c);
                return "Sunny";
            },
            new AIFunctionFactoryOptions { Name = "w", Description = "The weather" });
        var options = new ChatOptions { Tools = [weather], ToolMode = ChatToolMode.RequireAny, Temperature = 0, AllowMultipleToolCalls = false };

        ChatResponse response = await client.GetResponseAsync([new AIChatMessage(ChatRole.User, "Weather?")], options).WaitAsync(ModelServerHttp.RequestTimeout);

        // call → the function ran → its result went back → the model answered in text.
        Assert.True(invocations.Count == 1, string.Join(" | ", response.Messages.Select(m => $"{m.Role}: {string.Join(", ", m.Contents.Select(c => c.GetType().Name + " " + c))} {m.Text}")));
        var call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("w", call.Name);
        var result = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>());
        Assert.Equal(call.CallId, result.CallId);
        Assert.Equal("Sunny", result.Result?.ToString());
        Assert.Equal(ChatRole.Assistant, response.Messages[^1].Role);
        Assert.False(string.IsNullOrWhiteSpace(response.Messages[^1].Text), "the loop did not end with a text answer");
    }

    [Stories260KFact]
    public async Task ExtensionsAI_GetResponseAsyncOfT_ReturnsATypedObject()
    {
        IChatClient client = CreateChatClient().AsIChatClient();

        ChatResponse<Forecast> response = await client.GetResponseAsync<Forecast>(
            [new AIChatMessage(ChatRole.User, "Forecast?")], new ChatOptions { Temperature = 1 }).WaitAsync(ModelServerHttp.RequestTimeout);

        Assert.True(response.TryGetResult(out Forecast? forecast), $"not a Forecast: {response.Text}");
        Assert.True(Enum.IsDefined(forecast!.Sky));
    }

    [Stories260KFact]
    public async Task OpenAINpm_StreamedToolCalls_AssembleIntoValidCalls()
    {
        using var gateway = fixture.CreateGatewayClient();
        string output = await NodePeers.RunAsync("openai-client.mjs", JsonSerializer.Serialize(new
        {
            scenario = "chat-stream-tools",
            baseURL = new Uri(gateway.BaseAddress!, "/v1").ToString(),
            model = AspireAppFixture.ModelId,
            parameters = JsonDocument.Parse(WeatherParameters).RootElement,
        }));

        using JsonDocument result = JsonDocument.Parse(output);
        Assert.Equal("tool_calls", result.RootElement.GetProperty("finish_reason").GetString());
        var calls = result.RootElement.GetProperty("tool_calls").EnumerateArray().ToList();
        Assert.NotEmpty(calls);
        foreach (JsonElement call in calls)
        {
            Assert.StartsWith("call_", call.GetProperty("id").GetString(), StringComparison.Ordinal);
            Assert.Equal("w", call.GetProperty("name").GetString());
            AssertValid(WeatherParameters, call.GetProperty("arguments").GetString()!);
        }
    }

    [Stories260KFact]
    public async Task OpenAISdk_Responses_ToolLoopThroughTheGateway_StoredContinuedFetchedAndDeleted()
    {
        using var gateway = fixture.CreateGatewayClient();
        var client = new ResponsesClient(
            new ApiKeyCredential("unused"),
            new ResponsesClientOptions { Endpoint = new Uri(gateway.BaseAddress!, "/v1"), NetworkTimeout = ModelServerHttp.RequestTimeout });
        var first = new CreateResponseOptions
        {
            Model = AspireAppFixture.ModelId,
            Tools = { ResponseTool.CreateFunctionTool("w", BinaryData.FromString(WeatherParameters), strictModeEnabled: true, functionDescription: "The weather") },
            ToolChoice = ResponseToolChoice.CreateRequiredChoice(),
            ParallelToolCallsEnabled = false,
            Temperature = 1,
        };
        first.InputItems.Add(ResponseItem.CreateUserMessageItem("Weather?"));

        ResponseResult called = await client.CreateResponseAsync(first).WaitAsync(ModelServerHttp.RequestTimeout);

        var call = Assert.IsType<FunctionCallResponseItem>(Assert.Single(called.OutputItems));
        Assert.Equal("w", call.FunctionName);
        AssertValid(WeatherParameters, call.FunctionArguments.ToString());

        // The next turn names only the previous response and the tool's output: the gateway rebuilds the rest.
        var second = new CreateResponseOptions { Model = AspireAppFixture.ModelId, PreviousResponseId = called.Id, Temperature = 0, MaxOutputTokenCount = 8 };
        second.InputItems.Add(ResponseItem.CreateFunctionCallOutputItem(call.CallId, "Sunny"));
        ResponseResult answered = await client.CreateResponseAsync(second).WaitAsync(ModelServerHttp.RequestTimeout);

        Assert.False(string.IsNullOrEmpty(answered.GetOutputText()));
        var items = new List<ResponseItem>();
        await foreach (ResponseItem item in client.GetResponseInputItemsAsync(answered.Id))
        {
            items.Add(item);
        }

        // The stored conversation: the user's turn, the model's call, the tool's output (newest first, as OpenAI lists them).
        Assert.Contains(items, i => i is MessageResponseItem);
        Assert.Equal(call.CallId, Assert.Single(items.OfType<FunctionCallResponseItem>()).CallId);
        Assert.Equal("Sunny", Assert.Single(items.OfType<FunctionCallOutputResponseItem>()).FunctionOutput);
        ResponseResult fetched = await client.GetResponseAsync(called.Id).WaitAsync(ModelServerHttp.RequestTimeout);
        Assert.Equal(call.CallId, Assert.IsType<FunctionCallResponseItem>(Assert.Single(fetched.OutputItems)).CallId);
        await client.DeleteResponseAsync(called.Id).WaitAsync(ModelServerHttp.RequestTimeout);
        var gone = await Assert.ThrowsAsync<ClientResultException>(() => client.GetResponseAsync(called.Id).WaitAsync(ModelServerHttp.RequestTimeout));
        Assert.Equal(404, gone.Status);
    }

    [Stories260KFact]
    public async Task OpenAINpm_ResponsesCreate_StreamedToolCallThenContinuedByPreviousResponseId()
    {
        using var gateway = fixture.CreateGatewayClient();
        string output = await NodePeers.RunAsync("openai-client.mjs", JsonSerializer.Serialize(new
        {
            scenario = "responses-tool-loop",
            baseURL = new Uri(gateway.BaseAddress!, "/v1").ToString(),
            model = AspireAppFixture.ModelId,
            parameters = JsonDocument.Parse(WeatherParameters).RootElement,
        }));

        using JsonDocument result = JsonDocument.Parse(output);
        JsonElement root = result.RootElement;
        Assert.Equal("function_call", root.GetProperty("streamed_item_type").GetString());
        Assert.Equal(root.GetProperty("final_arguments").GetString(), root.GetProperty("delta_arguments").GetString());
        AssertValid(WeatherParameters, root.GetProperty("final_arguments").GetString()!);
        Assert.StartsWith("resp_", root.GetProperty("continued_id").GetString(), StringComparison.Ordinal);
        Assert.Equal("completed", root.GetProperty("continued_status").GetString(), ignoreCase: false);
        Assert.Contains("function_call_output", root.GetProperty("input_item_types").EnumerateArray().Select(e => e.GetString()));
    }

    private ChatClient CreateChatClient()
    {
        using var gateway = fixture.CreateGatewayClient();
        var options = new OpenAIClientOptions { Endpoint = new Uri(gateway.BaseAddress!, "/v1"), NetworkTimeout = ModelServerHttp.RequestTimeout };
        return new OpenAIClient(new ApiKeyCredential("unused"), options).GetChatClient(AspireAppFixture.ModelId);
    }

    private static void AssertValid(string schema, string json)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        Assert.True(JsonSchema.FromText(schema).Evaluate(document.RootElement).IsValid, $"{json} does not validate against {schema}");
    }

    /// <summary>The typed answer of <see cref="ExtensionsAI_GetResponseAsyncOfT_ReturnsATypedObject"/>: an enum and a boolean, so its size is bounded.</summary>
    public sealed record Forecast(Sky Sky, bool Windy);
}
