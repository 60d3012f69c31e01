using LlmAspire.Tests.Inference;
using System.Net;
using System.Text.Json;
using LlmAspire.Tests.AppHost;
using static LlmAspire.Tests.ModelServer.ModelServerHttp;

namespace LlmAspire.Tests.ModelServer.Apis;

/// <summary><c>GET /v1/models</c> and <c>GET /v1/models/{id}</c> on each model server.</summary>
[Collection(AspireAppCollection.Name)]
public sealed class ModelsApiTests(AspireAppFixture fixture)
{
    [Stories260KTheory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task Models_List_HoldsTheServedModelInTheOpenAIShape(int index)
    {
        using var client = fixture.CreateModelServerClient(index);

        using var response = await client.GetAsync(new Uri("/v1/models", UriKind.Relative)).WaitAsync(RequestTimeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync().WaitAsync(RequestTimeout));
        var root = document.RootElement;
        Assert.Equal(["object", "data"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("list", root.GetProperty("object").GetString());
        var model = Assert.Single(root.GetProperty("data").EnumerateArray());
        AssertModelCard(model);
    }

    [Stories260KFact]
    public async Task Models_GetById_ReturnsTheModelCard()
    {
        using var client = fixture.CreateModelServerClient(0);

        using var response = await client.GetAsync(new Uri($"/v1/models/{AspireAppFixture.ModelId}", UriKind.Relative)).WaitAsync(RequestTimeout);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync().WaitAsync(RequestTimeout));
        AssertModelCard(document.RootElement);
    }

    [Stories260KTheory]
    [InlineData("gpt-4")]
    [InlineData("stories260k")]
    [InlineData("org/stories260K")]
    public async Task Models_GetUnknownId_IsModelNotFound(string id)
    {
        using var client = fixture.CreateModelServerClient(0);

        using var response = await client.GetAsync(new Uri($"/v1/models/{id}", UriKind.Relative)).WaitAsync(RequestTimeout);

        await AssertErrorAsync(response, HttpStatusCode.NotFound, "invalid_request_error", "model", "model_not_found");
    }

    private static void AssertModelCard(JsonElement model)
    {
        Assert.Equal(["id", "object", "created", "owned_by", "max_model_len"], model.EnumerateObject().Select(p => p.Name));
        Assert.Equal(AspireAppFixture.ModelId, model.GetProperty("id").GetString());
        Assert.Equal("model", model.GetProperty("object").GetString());
        Assert.True(model.GetProperty("created").GetInt64() > 1_600_000_000);
        Assert.Equal("llmaspire", model.GetProperty("owned_by").GetString());
        // stories260K's context, as vLLM reports it.
        Assert.Equal(512, model.GetProperty("max_model_len").GetInt32());
    }
}
