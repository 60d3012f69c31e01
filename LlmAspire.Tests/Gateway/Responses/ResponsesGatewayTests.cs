using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LlmAspire.Tests.Gateway.Caching;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LlmAspire.Tests.Gateway.Responses;

/// <summary>
/// The gateway's side of the Responses API, through an in-process gateway over real HTTP in front of a stateless fake
/// model server, with its memory store or a real <c>redis-server</c>: what is stored and for whom, how
/// <c>previous_response_id</c> becomes input, what GET, DELETE and input_items answer, and what never leaves a trace.
/// </summary>
public sealed class ResponsesGatewayTests
{
    private const string KeyA = "sk-test-key-a";
    private const string KeyB = "sk-test-key-b";

    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Post_ThenGet_ReturnsTheStoredResponseObject(bool redis)
    {
        await using var setup = await Setup.StartAsync(redis);
        using var client = setup.Gateway.CreateClient();

        var (post, posted) = await PostAsync(client, Request("hello there"));
        var id = posted.RootElement.GetProperty("id").GetString()!;
        var (get, got) = await SendAsync(client, HttpMethod.Get, $"/v1/responses/{id}");

        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal("application/json", get.Content.Headers.ContentType?.MediaType);
        Assert.Equal(posted.RootElement.GetRawText(), got.RootElement.GetRawText());
        Assert.Equal("BYPASS", Assert.Single(post.Headers.GetValues("X-Cache")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PreviousResponseId_RebuildsTheConversationInOrder_AndIsNotForwarded(bool redis)
    {
        await using var setup = await Setup.StartAsync(redis);
        using var client = setup.Gateway.CreateClient();

        var first = await PostIdAsync(client, Request("call tool", instructions: "Answer in French."));
        var second = await PostIdAsync(client, new JsonObject
        {
            ["model"] = "fake",
            ["previous_response_id"] = first,
            ["input"] = new JsonArray(new JsonObject { ["type"] = "function_call_output", ["call_id"] = "call_1", ["output"] = "sunny" }),
        });
        var third = await PostIdAsync(client, Request("thanks", previous: second));

        var received = setup.Backend.Received.ToArray();
        Assert.Equal(3, received.Length);
        using var forwarded = JsonDocument.Parse(received[2]);
        Assert.False(forwarded.RootElement.TryGetProperty("previous_response_id", out _));
        Assert.False(forwarded.RootElement.TryGetProperty("instructions", out _));
        var expected = """
            [{"type":"message","role":"user","content":[{"type":"input_text","text":"call tool"}]},
             {"type":"function_call","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"},
             {"type":"function_call_output","call_id":"call_1","output":"sunny"},
             {"type":"message","role":"assistant","content":[{"type":"output_text","text":"reply 2"}]},
             {"type":"message","role":"user","content":[{"type":"input_text","text":"thanks"}]}]
            """;
        Assert.True(
            JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(forwarded.RootElement.GetProperty("input").GetRawText())),
            forwarded.RootElement.GetProperty("input").GetRawText());
        using (var firstForwarded = JsonDocument.Parse(received[0]))
        {
            // Without previous_response_id the body goes on exactly as sent.
            Assert.Equal("call tool", firstForwarded.RootElement.GetProperty("input").GetString());
        }

        var (ascending, ascendingBody) = await SendAsync(client, HttpMethod.Get, $"/v1/responses/{third}/input_items?order=asc");
        var (_, descendingBody) = await SendAsync(client, HttpMethod.Get, $"/v1/responses/{third}/input_items");
        var (_, thirdStored) = await SendAsync(client, HttpMethod.Get, $"/v1/responses/{third}");
        Assert.Equal(HttpStatusCode.OK, ascending.StatusCode);
        Assert.Equal("list", ascendingBody.RootElement.GetProperty("object").GetString());
        Assert.False(ascendingBody.RootElement.GetProperty("has_more").GetBoolean());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(ascendingBody.RootElement.GetProperty("data").GetRawText())));
        Assert.Equal(
            JsonNode.Parse(expected)!.AsArray().Reverse().Select(item => item!.ToJsonString()),
            descendingBody.RootElement.GetProperty("data").EnumerateArray().Select(item => JsonNode.Parse(item.GetRawText())!.ToJsonString()));
        Assert.Equal(second, thirdStored.RootElement.GetProperty("previous_response_id").GetString());
    }

    [Fact]
    public async Task AnotherApiKey_GetsNotFound_OnGetDeleteInputItemsAndPreviousResponseId()
    {
        await using var setup = await Setup.StartAsync(redis: true, new() { ["Gateway:Auth:Keys:0"] = KeyA, ["Gateway:Auth:Keys:1"] = KeyB });
        using var owner = setup.Gateway.CreateClient(KeyA);
        using var other = setup.Gateway.CreateClient(KeyB);
        var id = await PostIdAsync(owner, Request("mine"));

        var (get, getBody) = await SendAsync(other, HttpMethod.Get, $"/v1/responses/{id}");
        var (items, _) = await SendAsync(other, HttpMethod.Get, $"/v1/responses/{id}/input_items");
        var (delete, _) = await SendAsync(other, HttpMethod.Delete, $"/v1/responses/{id}");
        var (follow, followBody) = await PostAsync(other, Request("continue", previous: id));
        var (ownerGet, _) = await SendAsync(owner, HttpMethod.Get, $"/v1/responses/{id}");

        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        AssertError(getBody, $"No response found with id '{id}'.", null, "response_not_found");
        Assert.Equal(HttpStatusCode.NotFound, items.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, delete.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, follow.StatusCode);
        AssertError(followBody, $"Previous response with id '{id}' not found.", "previous_response_id", "previous_response_not_found");
        Assert.Equal(HttpStatusCode.OK, ownerGet.StatusCode);
        Assert.Single(setup.Backend.Received);
    }

    [Fact]
    public async Task StoreFalse_IsNotStored()
    {
        await using var setup = await Setup.StartAsync(redis: false);
        using var client = setup.Gateway.CreateClient();

        var request = Request("ephemeral");
        request["store"] = false;
        var id = await PostIdAsync(client, request);
        var (get, _) = await SendAsync(client, HttpMethod.Get, $"/v1/responses/{id}");
        var (follow, _) = await PostAsync(client, Request("again", previous: id));

        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, follow.StatusCode);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StoredResponse_ExpiresAfterTimeToLive(bool redis)
    {
        await using var setup = await Setup.StartAsync(redis, new() { ["Gateway:Responses:TimeToLive"] = "00:00:01" });
        using var client = setup.Gateway.CreateClient();

        var id = await PostIdAsync(client, Request("short-lived"));
        var (fresh, _) = await SendAsync(client, HttpMethod.Get, $"/v1/responses/{id}");
        var stored = DateTime.UtcNow;
        var status = fresh.StatusCode;
        while (status == HttpStatusCode.OK && DateTime.UtcNow - stored < TimeSpan.FromSeconds(15))
        {
            await Task.Delay(100);
            status = (await SendAsync(client, HttpMethod.Get, $"/v1/responses/{id}")).Response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ResponseOverMaxStoredBytes_ReachesTheClientWhole_AndReferencesToItSayWhy(bool stream)
    {
        await using var setup = await Setup.StartAsync(redis: true, new() { ["Gateway:Responses:MaxStoredBytes"] = "16384" });
        using var client = setup.Gateway.CreateClient();

        var (post, text) = await PostRawAsync(client, Request("big", stream: stream));
        var id = stream ? CompletedResponse(text).GetProperty("id").GetString()! : JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
        var (get, getBody) = await SendAsync(client, HttpMethod.Get, $"/v1/responses/{id}");
        var (follow, followBody) = await PostAsync(client, Request("more", previous: id));

        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Assert.Contains(new string('x', FakeResponsesServer.BigTextLength), text, StringComparison.Ordinal);
        if (stream)
        {
            Assert.Equal(setup.Backend.LastStreamSent, text);
        }

        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal("response_not_stored", getBody.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.NotFound, follow.StatusCode);
        Assert.Equal("previous_response_not_stored", followBody.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("previous_response_id", followBody.RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Contains("16384", followBody.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StreamedResponse_ClientSeesEveryEventAsItComes_AndTheCompletedResponseIsStored()
    {
        await using var setup = await Setup.StartAsync(redis: true);
        setup.Backend.Hold = true;
        using var client = setup.Gateway.CreateClient();

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = Json(Request("tell me", stream: true)) };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(s_timeout);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync().WaitAsync(s_timeout));
        var received = new StringBuilder();
        while (!received.ToString().Contains("response.output_text.delta", StringComparison.Ordinal))
        {
            var line = await reader.ReadLineAsync().WaitAsync(s_timeout);
            Assert.NotNull(line);
            received.Append(line).Append('\n');
        }

        // The server is holding the rest back: the first events came through before the response was complete.
        await setup.Backend.Held.WaitAsync(s_timeout);
        var id = JsonDocument.Parse(received.ToString().Split('\n').First(line => line.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..])
            .RootElement.GetProperty("response").GetProperty("id").GetString()!;
        var (pending, _) = await SendAsync(client, HttpMethod.Get, $"/v1/responses/{id}");
        setup.Backend.Release();
        received.Append(await reader.ReadToEndAsync().WaitAsync(s_timeout));
        var (stored, storedBody) = await SendAsync(client, HttpMethod.Get, $"/v1/responses/{id}");

        Assert.Equal(HttpStatusCode.NotFound, pending.StatusCode);
        Assert.Equal(setup.Backend.LastStreamSent, received.ToString());
        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(CompletedResponse(received.ToString()).GetRawText()), JsonNode.Parse(storedBody.RootElement.GetRawText())));
        Assert.Equal("completed", storedBody.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Delete_ThenGet_IsNotFound()
    {
        await using var setup = await Setup.StartAsync(redis: true);
        using var client = setup.Gateway.CreateClient();
        var id = await PostIdAsync(client, Request("forget me"));

        var (delete, deleted) = await SendAsync(client, HttpMethod.Delete, $"/v1/responses/{id}");
        var (get, _) = await SendAsync(client, HttpMethod.Get, $"/v1/responses/{id}");
        var (again, _) = await SendAsync(client, HttpMethod.Delete, $"/v1/responses/{id}");

        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        Assert.True(JsonNode.DeepEquals(
            new JsonObject { ["id"] = id, ["object"] = "response", ["deleted"] = true }, JsonNode.Parse(deleted.RootElement.GetRawText())));
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task TwoGateways_OverOneRedis_ShareStoredResponses_AndDeletes()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await using var backend = await FakeResponsesServer.StartAsync();
        // Nothing here is about Redis being slow: a write that missed the default 500 ms under the suite's start-up
        // load (CI, once) left the entry in the first gateway's memory only, and the second answered 404.
        var patient = new Dictionary<string, string?> { ["Gateway:Redis:OperationTimeout"] = "00:00:05" };
        await using var first = await TestGateway.StartAsync([backend.Url], redis.ConnectionString, patient);
        await using var second = await TestGateway.StartAsync([backend.Url], redis.ConnectionString, patient);
        using var firstClient = first.CreateClient();
        using var secondClient = second.CreateClient();

        var id = await PostIdAsync(firstClient, Request("shared"));
        var (shared, _) = await SendAsync(secondClient, HttpMethod.Get, $"/v1/responses/{id}");
        var (follow, _) = await PostAsync(secondClient, Request("continued", previous: id));
        await SendAsync(secondClient, HttpMethod.Delete, $"/v1/responses/{id}");
        var (afterDelete, _) = await SendAsync(firstClient, HttpMethod.Get, $"/v1/responses/{id}");

        Assert.Equal(HttpStatusCode.OK, shared.StatusCode);
        Assert.Equal(HttpStatusCode.OK, follow.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, afterDelete.StatusCode);
    }

    [Fact]
    public async Task RedisDown_ConversationContinuesFromThisGatewaysMemory()
    {
        await using var setup = await Setup.StartAsync(redis: true);
        using var client = setup.Gateway.CreateClient();
        await setup.StopRedisAsync();

        var id = await PostIdAsync(client, Request("while redis is down"));
        var (get, _) = await SendAsync(client, HttpMethod.Get, $"/v1/responses/{id}");
        var (follow, _) = await PostAsync(client, Request("and after", previous: id));

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(HttpStatusCode.OK, follow.StatusCode);
        using var forwarded = JsonDocument.Parse(setup.Backend.Received.Last());
        Assert.Equal(3, forwarded.RootElement.GetProperty("input").GetArrayLength());
    }

    [Fact]
    public async Task RetryOnAnotherServer_SendsTheRewrittenBody()
    {
        await using var busy = await FakeResponsesServer.StartAsync();
        await using var live = await FakeResponsesServer.StartAsync();
        await using var gateway = await TestGateway.StartAsync([], redis: null, new Dictionary<string, string?>
        {
            ["Gateway:ModelServers:0"] = "a-busy",
            ["Gateway:ModelServers:1"] = "b-live",
            ["services:a-busy:http:0"] = busy.Url,
            ["services:b-live:http:0"] = live.Url,
            ["Gateway:LoadBalancingPolicy"] = "FirstAlphabetical",
            ["Gateway:HealthCheckInterval"] = "01:00:00",
        });
        using var client = gateway.CreateClient();
        var first = await PostIdAsync(client, Request("first turn"));
        busy.Unavailable = true;

        var (retried, _) = await PostAsync(client, Request("second turn", previous: first));

        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.Equal("a-busy", Assert.Single(retried.Headers.GetValues("x-llmaspire-retried-from")));
        var toBusy = busy.Received.Last();
        var toLive = live.Received.Last();
        Assert.Equal(toBusy, toLive);
        using var forwarded = JsonDocument.Parse(toLive);
        Assert.False(forwarded.RootElement.TryGetProperty("previous_response_id", out _));
        Assert.Equal(3, forwarded.RootElement.GetProperty("input").GetArrayLength());
    }

    [Fact]
    public async Task BadRequests_Are4xxInOpenAIShape_AndNeverReachTheModelServer()
    {
        await using var setup = await Setup.StartAsync(redis: false);
        using var client = setup.Gateway.CreateClient();

        var cases = new (string Body, HttpStatusCode Status, string? Param, string Code)[]
        {
            ("{not json", HttpStatusCode.BadRequest, null, "invalid_json"),
            ("""{"model":"fake","input":5}""", HttpStatusCode.BadRequest, "input", "invalid_type"),
            ("""{"model":"fake","input":["text"]}""", HttpStatusCode.BadRequest, "input[0]", "invalid_type"),
            ("""{"model":"fake","input":"x","store":"yes"}""", HttpStatusCode.BadRequest, "store", "invalid_type"),
            ("""{"model":"fake","input":"x","previous_response_id":7}""", HttpStatusCode.BadRequest, "previous_response_id", "invalid_type"),
            ("""{"model":"fake","input":"x","previous_response_id":""}""", HttpStatusCode.BadRequest, "previous_response_id", "empty_string"),
            ("""{"model":"fake","input":"x","previous_response_id":"resp_nope"}""", HttpStatusCode.NotFound, "previous_response_id", "previous_response_not_found"),
        };
        foreach (var (body, status, param, code) in cases)
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            using var response = await client.PostAsync(new Uri("/v1/responses", UriKind.Relative), content).WaitAsync(s_timeout);
            using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync().WaitAsync(s_timeout));
            Assert.True(status == response.StatusCode, body);
            var fields = error.RootElement.GetProperty("error");
            Assert.Equal(param, fields.GetProperty("param").GetString());
            Assert.Equal(code, fields.GetProperty("code").GetString());
            Assert.Equal("invalid_request_error", fields.GetProperty("type").GetString());
            Assert.False(string.IsNullOrEmpty(fields.GetProperty("message").GetString()));
        }

        var (unknown, unknownBody) = await SendAsync(client, HttpMethod.Get, "/v1/responses/resp_nope");
        var (badOrder, badOrderBody) = await SendAsync(client, HttpMethod.Get, "/v1/responses/resp_nope/input_items?order=sideways");
        var (_, notFoundFollow) = await PostAsync(client, Request("x", previous: "resp_nope"));

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        AssertError(unknownBody, "No response found with id 'resp_nope'.", null, "response_not_found");
        Assert.Equal(HttpStatusCode.BadRequest, badOrder.StatusCode);
        Assert.Equal("order", badOrderBody.RootElement.GetProperty("error").GetProperty("param").GetString());
        AssertError(notFoundFollow, "Previous response with id 'resp_nope' not found.", "previous_response_id", "previous_response_not_found");
        Assert.Empty(setup.Backend.Received);
    }

    [Fact]
    public async Task Logs_NeverHoldPromptOrResponseText()
    {
        const string Secret = "zebra-quartz-7731";
        var logs = new CapturingLoggerProvider();
        await using var setup = await Setup.StartAsync(
            redis: true,
            new() { ["Logging:LogLevel:Default"] = "Trace", ["Gateway:Responses:MaxStoredBytes"] = "16384" },
            services => services.AddSingleton<ILoggerProvider>(logs));
        using var client = setup.Gateway.CreateClient();

        var first = await PostIdAsync(client, Request($"my secret is {Secret}", instructions: $"never say {Secret}"));
        await PostIdAsync(client, Request($"repeat {Secret}", previous: first));
        await PostRawAsync(client, Request($"stream {Secret}", stream: true));
        await PostRawAsync(client, Request("big", stream: true));
        await PostAsync(client, Request($"{Secret}", previous: "resp_nope"));
        await SendAsync(client, HttpMethod.Get, $"/v1/responses/{first}/input_items");

        var lines = logs.Lines.ToArray();
        Assert.Contains(lines, line => line.Contains("ResponsesMiddleware", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, line => line.Contains(Secret, StringComparison.Ordinal) || line.Contains("reply 1", StringComparison.Ordinal));
    }

    private static JsonObject Request(string input, string? previous = null, bool stream = false, string? instructions = null)
    {
        var request = new JsonObject { ["model"] = "fake", ["input"] = input };
        if (instructions is not null)
        {
            request["instructions"] = instructions;
        }

        if (previous is not null)
        {
            request["previous_response_id"] = previous;
        }

        if (stream)
        {
            request["stream"] = true;
        }

        return request;
    }

    private static StringContent Json(JsonObject body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    private static async Task<(HttpResponseMessage Response, string Text)> PostRawAsync(HttpClient client, JsonObject body)
    {
        using var content = Json(body);
        var response = await client.PostAsync(new Uri("/v1/responses", UriKind.Relative), content).WaitAsync(s_timeout);
        return (response, await response.Content.ReadAsStringAsync().WaitAsync(s_timeout));
    }

    private static async Task<(HttpResponseMessage Response, JsonDocument Body)> PostAsync(HttpClient client, JsonObject body)
    {
        var (response, text) = await PostRawAsync(client, body);
        return (response, JsonDocument.Parse(text));
    }

    private static async Task<string> PostIdAsync(HttpClient client, JsonObject body)
    {
        var (response, document) = await PostAsync(client, body);
        Assert.True(response.StatusCode == HttpStatusCode.OK, document.RootElement.GetRawText());
        return document.RootElement.GetProperty("id").GetString()!;
    }

    private static async Task<(HttpResponseMessage Response, JsonDocument Body)> SendAsync(HttpClient client, HttpMethod method, string path)
    {
        using var request = new HttpRequestMessage(method, path);
        var response = await client.SendAsync(request).WaitAsync(s_timeout);
        return (response, JsonDocument.Parse(await response.Content.ReadAsStringAsync().WaitAsync(s_timeout)));
    }

    /// <summary>The <c>response</c> of the <c>response.completed</c> event of an SSE text.</summary>
    private static JsonElement CompletedResponse(string events) =>
        events.Split('\n')
            .Where(line => line.StartsWith("data: ", StringComparison.Ordinal))
            .Select(line => JsonDocument.Parse(line["data: ".Length..]).RootElement)
            .Single(data => data.GetProperty("type").GetString() == "response.completed")
            .GetProperty("response");

    private static void AssertError(JsonDocument body, string message, string? param, string code)
    {
        var error = body.RootElement.GetProperty("error");
        Assert.Equal(message, error.GetProperty("message").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
    }

    /// <summary>A fake model server, optionally a redis-server of its own, and a gateway in front.</summary>
    private sealed class Setup : IAsyncDisposable
    {
        private RedisServerProcess? _redis;

        public required FakeResponsesServer Backend { get; init; }

        public TestGateway Gateway { get; private set; } = null!;

        public static async Task<Setup> StartAsync(
            bool redis, Dictionary<string, string?>? settings = null, Action<IServiceCollection>? configureServices = null)
        {
            var setup = new Setup { Backend = await FakeResponsesServer.StartAsync() };
            try
            {
                setup._redis = redis ? await RedisServerProcess.StartAsync() : null;
                setup.Gateway = await TestGateway.StartAsync([setup.Backend.Url], setup._redis?.ConnectionString, settings, configureServices);
                return setup;
            }
            catch
            {
                await setup.DisposeAsync();
                throw;
            }
        }

        public Task StopRedisAsync() => _redis!.StopAsync();

        public async ValueTask DisposeAsync()
        {
            if (Gateway is not null)
            {
                await Gateway.DisposeAsync();
            }

            if (_redis is not null)
            {
                await _redis.DisposeAsync();
            }

            await Backend.DisposeAsync();
        }
    }
}
