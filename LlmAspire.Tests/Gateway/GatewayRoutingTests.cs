using System.Net;
using System.Text.Json;
using LlmAspire.Tests.Gateway.Routing;
using static LlmAspire.Tests.Gateway.Routing.InProcessGateway;

namespace LlmAspire.Tests.Gateway;

/// <summary>Choosing the cluster by the body's <c>model</c>, and the gateway's own <c>/v1/models</c>, against fake servers in process.</summary>
public sealed class GatewayRoutingTests
{
    [Fact]
    public async Task Completions_ModelInTheBody_GoesToThatModelsServers()
    {
        await using var small = await FakeModelServer.StartAsync("small-0", "small");
        await using var big = await FakeModelServer.StartAsync("big-0", "big");
        await using var gateway = await StartAsync(
            new Dictionary<string, string?>
            {
                ["Gateway:DefaultModel"] = "small",
                ["Gateway:Models:small:Servers:0"] = "small-0",
                ["Gateway:Models:big:Servers:0"] = "big-0",
            },
            small,
            big);
        using var client = gateway.CreateClient();

        Assert.Equal("big-0", await ServerOfAsync(client, "big"));
        Assert.Equal("small-0", await ServerOfAsync(client, "small"));
        Assert.Equal("small-0", await ServerOfAsync(client, model: null));
        Assert.Equal("big-0", await ServerOfAsync(client, "big", path: "/v1/chat/completions"));
        Assert.Equal(2, big.Requests.Count);
        Assert.Equal(2, small.Requests.Count);
    }

    [Fact]
    public async Task Completions_UnknownModel_Is404ModelNotFoundAtTheGateway()
    {
        await using var small = await FakeModelServer.StartAsync("small-0", "small");
        await using var gateway = await StartAsync(
            new Dictionary<string, string?> { ["Gateway:Models:small:Servers:0"] = "small-0" },
            small);
        using var client = gateway.CreateClient();

        using var response = await client.PostAsync(new Uri("/v1/completions", UriKind.Relative), Completion("gpt-5")).WaitAsync(TestTimeout);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync().WaitAsync(TestTimeout));
        var detail = error.RootElement.GetProperty("error");
        Assert.Equal("The model 'gpt-5' does not exist.", detail.GetProperty("message").GetString());
        Assert.Equal("invalid_request_error", detail.GetProperty("type").GetString());
        Assert.Equal("model", detail.GetProperty("param").GetString());
        Assert.Equal("model_not_found", detail.GetProperty("code").GetString());
        Assert.Empty(small.Requests);
    }

    [Fact]
    public async Task Completions_ServerListWithoutAModelName_LearnsTheModelFromTheServers()
    {
        await using var server = await FakeModelServer.StartAsync("modelserver-0", "stories260K");
        await using var gateway = await StartAsync(
            new Dictionary<string, string?> { ["Gateway:ModelServers:0"] = "modelserver-0" },
            server);
        using var client = gateway.CreateClient();

        Assert.Equal("modelserver-0", await ServerOfAsync(client, "stories260K"));
        using var unknown = await client.PostAsync(new Uri("/v1/completions", UriKind.Relative), Completion("other")).WaitAsync(TestTimeout);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Completions_ServersCannotBeAsked_ForwardsToTheDefaultClusterToAnswer()
    {
        // The only server is down: the gateway cannot learn its model, so it does not refuse any; the proxy answers 502.
        using var closed = FakeModelServer.ReserveClosedUrl();
        await using var gateway = await StartAsync(
            new Dictionary<string, string?> { ["Gateway:ModelServers:0"] = "modelserver-0" },
            [("modelserver-0", closed.Url)]);
        using var client = gateway.CreateClient();

        using var response = await client.PostAsync(new Uri("/v1/completions", UriKind.Relative), Completion("anything")).WaitAsync(TestTimeout);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
    }

    [Fact]
    public async Task Models_AtTheGateway_ListsEveryModelOfEveryCluster()
    {
        await using var small = await FakeModelServer.StartAsync("small-0", "small", "small-instruct");
        await using var big = await FakeModelServer.StartAsync("big-0", "big");
        using var offline = FakeModelServer.ReserveClosedUrl();
        await using var gateway = await StartAsync(
            new Dictionary<string, string?>
            {
                ["Gateway:Models:small:Servers:0"] = "small-0",
                ["Gateway:Models:big:Servers:0"] = "big-0",
                ["Gateway:Models:offline:Servers:0"] = "offline-0",
            },
            [(small.Name, small.Url), (big.Name, big.Url), ("offline-0", offline.Url)]);
        using var client = gateway.CreateClient();

        using var list = JsonDocument.Parse(await client.GetStringAsync(new Uri("/v1/models", UriKind.Relative)).WaitAsync(TestTimeout));
        Assert.Equal("list", list.RootElement.GetProperty("object").GetString());
        var models = list.RootElement.GetProperty("data").EnumerateArray().ToDictionary(
            model => model.GetProperty("id").GetString()!,
            model => model.GetProperty("owned_by").GetString());
        Assert.Equal(["big", "offline", "small", "small-instruct"], models.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("fake", models["small-instruct"]);
        Assert.Equal("llmaspire", models["offline"]);
        Assert.All(list.RootElement.GetProperty("data").EnumerateArray(), model => Assert.Equal("model", model.GetProperty("object").GetString()));

        // A model only the servers list routes to their cluster too.
        Assert.Equal("small-0", await ServerOfAsync(client, "small-instruct"));

        using var card = JsonDocument.Parse(await client.GetStringAsync(new Uri("/v1/models/big", UriKind.Relative)).WaitAsync(TestTimeout));
        Assert.Equal("big", card.RootElement.GetProperty("id").GetString());
        using var missing = await client.GetAsync(new Uri("/v1/models/none", UriKind.Relative)).WaitAsync(TestTimeout);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("model_not_found", await missing.Content.ReadAsStringAsync().WaitAsync(TestTimeout), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Completions_ClusterHeader_IsNotForwarded()
    {
        await using var server = await FakeModelServer.StartAsync("modelserver-0", "m");
        await using var gateway = await StartAsync(new Dictionary<string, string?> { ["Gateway:ModelServers:0"] = "modelserver-0" }, server);
        using var client = gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/completions", UriKind.Relative)) { Content = Completion("m") };
        request.Headers.Add("X-LlmAspire-Cluster", "modelservers");

        using var response = await client.SendAsync(request).WaitAsync(TestTimeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(server.Requests.TryDequeue(out var forwarded));
        Assert.False(forwarded.Headers.ContainsKey("X-LlmAspire-Cluster"));
    }

    /// <summary>Posts a completion and returns the <c>x-llmaspire-server</c> header, checking the body agrees.</summary>
    private static async Task<string> ServerOfAsync(HttpClient client, string? model, string path = "/v1/completions")
    {
        using var response = await client.PostAsync(new Uri(path, UriKind.Relative), Completion(model)).WaitAsync(TestTimeout);
        var body = await response.Content.ReadAsStringAsync().WaitAsync(TestTimeout);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        var header = Assert.Single(response.Headers.GetValues("x-llmaspire-server"));
        using var json = JsonDocument.Parse(body);
        Assert.Equal(header, json.RootElement.GetProperty("server").GetString());
        return header;
    }
}
