using LlmAspire.Tests.Inference;
using System.ClientModel;
using System.Text;
using LlmAspire.Tests.AppHost;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using AIChatFinishReason = Microsoft.Extensions.AI.ChatFinishReason;
using AIChatMessage = Microsoft.Extensions.AI.ChatMessage;
using OpenAIChatFinishReason = OpenAI.Chat.ChatFinishReason;

namespace LlmAspire.Tests.ModelServer.Apis;

/// <summary>
/// The official OpenAI .NET client, and Microsoft.Extensions.AI's <see cref="IChatClient"/> over it, used unmodified
/// against the gateway: they parse every response and stream of ours.
/// </summary>
[Collection(AspireAppCollection.Name)]
public sealed class OpenAIClientTests(AspireAppFixture fixture)
{
    private const int MaxTokens = 12;

    private static readonly ChatCompletionOptions s_greedy = new() { MaxOutputTokenCount = MaxTokens, Temperature = 0 };

    [Stories260KFact]
    public async Task OpenAIClient_CompleteChat_ReturnsTheAssistantMessageWithUsage()
    {
        var chat = CreateChatClient();

        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Hello")], s_greedy).WaitAsync(ModelServerHttp.RequestTimeout);

        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.Equal(AspireAppFixture.ModelId, completion.Model);
        Assert.StartsWith("chatcmpl-", completion.Id, StringComparison.Ordinal);
        var text = Assert.Single(completion.Content).Text;
        Assert.False(string.IsNullOrEmpty(text));
        Assert.InRange(completion.Usage.OutputTokenCount, 1, MaxTokens);
        Assert.True(completion.Usage.InputTokenCount > 0);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
        Assert.NotNull(completion.Usage.InputTokenDetails);
        Assert.Equal(completion.Usage.OutputTokenCount == MaxTokens ? OpenAIChatFinishReason.Length : OpenAIChatFinishReason.Stop, completion.FinishReason);
    }

    [Stories260KFact]
    public async Task OpenAIClient_CompleteChatStreaming_StreamsTheSameTextWithUsage()
    {
        var chat = CreateChatClient();
        List<OpenAI.Chat.ChatMessage> messages = [new SystemChatMessage("Tell a story."), new UserChatMessage("Hello")];
        ChatCompletion whole = await chat.CompleteChatAsync(messages, s_greedy).WaitAsync(ModelServerHttp.RequestTimeout);

        var (text, finishReason, usage, roles) = await CollectAsync(chat.CompleteChatStreamingAsync(messages, s_greedy)).WaitAsync(ModelServerHttp.RequestTimeout);

        Assert.Equal(whole.Content[0].Text, text);
        Assert.Equal(whole.FinishReason, finishReason);
        Assert.Equal([ChatMessageRole.Assistant], roles);
        Assert.NotNull(usage);
        Assert.Equal(whole.Usage.OutputTokenCount, usage.OutputTokenCount);
        Assert.Equal(whole.Usage.InputTokenCount, usage.InputTokenCount);
    }

    [Stories260KFact]
    public async Task ChatClientAbstraction_GetResponse_ReturnsTextFinishReasonAndUsage()
    {
        IChatClient client = CreateChatClient().AsIChatClient();

        var response = await client.GetResponseAsync(
            [new AIChatMessage(ChatRole.System, "Tell a story."), new AIChatMessage(ChatRole.User, "Hello")],
            new ChatOptions { MaxOutputTokens = MaxTokens, Temperature = 0 }).WaitAsync(ModelServerHttp.RequestTimeout);

        Assert.False(string.IsNullOrEmpty(response.Text));
        Assert.Equal(ChatRole.Assistant, Assert.Single(response.Messages).Role);
        Assert.Equal(AspireAppFixture.ModelId, response.ModelId);
        Assert.NotNull(response.Usage);
        Assert.InRange(response.Usage.OutputTokenCount ?? 0, 1, MaxTokens);
        Assert.True(response.Usage.InputTokenCount > 0);
        Assert.Equal(response.Usage.OutputTokenCount == MaxTokens ? AIChatFinishReason.Length : AIChatFinishReason.Stop, response.FinishReason);
    }

    [Stories260KFact]
    public async Task ChatClientAbstraction_GetStreamingResponse_MatchesTheNonStreamedResponse()
    {
        IChatClient client = CreateChatClient().AsIChatClient();
        List<AIChatMessage> messages = [new(ChatRole.User, "Once upon a time")];
        var options = new ChatOptions { MaxOutputTokens = MaxTokens, Temperature = 0 };
        var whole = await client.GetResponseAsync(messages, options).WaitAsync(ModelServerHttp.RequestTimeout);

        var streamed = await client.GetStreamingResponseAsync(messages, options).ToChatResponseAsync().WaitAsync(ModelServerHttp.RequestTimeout);

        Assert.Equal(whole.Text, streamed.Text);
        Assert.Equal(whole.FinishReason, streamed.FinishReason);
        Assert.Equal(whole.Usage?.OutputTokenCount, streamed.Usage?.OutputTokenCount);
    }

    private ChatClient CreateChatClient()
    {
        using var gateway = fixture.CreateGatewayClient();
        var options = new OpenAIClientOptions
        {
            Endpoint = new Uri(gateway.BaseAddress!, "/v1"),
            NetworkTimeout = ModelServerHttp.RequestTimeout,
        };
        return new OpenAIClient(new ApiKeyCredential("unused"), options).GetChatClient(AspireAppFixture.ModelId);
    }

    private static async Task<(string Text, OpenAIChatFinishReason? FinishReason, ChatTokenUsage? Usage, List<ChatMessageRole> Roles)> CollectAsync(
        AsyncCollectionResult<StreamingChatCompletionUpdate> updates)
    {
        var text = new StringBuilder();
        OpenAIChatFinishReason? finishReason = null;
        ChatTokenUsage? usage = null;
        var roles = new List<ChatMessageRole>();
        await foreach (var update in updates)
        {
            if (update.Role is { } role)
            {
                roles.Add(role);
            }

            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            finishReason ??= update.FinishReason;
            usage ??= update.Usage;
        }

        return (text.ToString(), finishReason, usage, roles);
    }
}
