using LlmAspire.Tests.Inference;
using System.Net;
using System.Text.Json;
using LlmAspire.Tests.AppHost;
using static LlmAspire.Tests.ModelServer.ModelServerHttp;

namespace LlmAspire.Tests.ModelServer.Apis;

/// <summary>Every bad request gets a 4xx in the OpenAI error shape, naming the field and what is wrong with it.</summary>
[Collection(AspireAppCollection.Name)]
public sealed class CompletionsErrorTests(AspireAppFixture fixture)
{
    private const string InvalidRequest = "invalid_request_error";

    public static TheoryData<string, HttpStatusCode, string?, string> BadBodies { get; } = new()
    {
        { """{"prompt": "x",""", HttpStatusCode.BadRequest, null, "invalid_json" },
        { "[1, 2]", HttpStatusCode.BadRequest, null, "invalid_json" },
        { "null", HttpStatusCode.BadRequest, null, "invalid_json" },
        { """{"prompt":"x","max_tokens":"many"}""", HttpStatusCode.BadRequest, "max_tokens", "invalid_json" },
        { """{"prompt":"x","max_tokens":1e40}""", HttpStatusCode.BadRequest, "max_tokens", "invalid_json" },
        { """{"model":"stories260K"}""", HttpStatusCode.BadRequest, "prompt", "missing_required_parameter" },
        { """{"prompt":null}""", HttpStatusCode.BadRequest, "prompt", "missing_required_parameter" },
        { """{"prompt":["a","b"]}""", HttpStatusCode.BadRequest, "prompt", "invalid_type" },
        { """{"prompt":["a batch","of two"]}""", HttpStatusCode.BadRequest, "prompt", "invalid_type" },
        { """{"prompt":42}""", HttpStatusCode.BadRequest, "prompt", "invalid_type" },
        { """{"model":"gpt-4","prompt":"x"}""", HttpStatusCode.NotFound, "model", "model_not_found" },
        { """{"prompt":"x","max_tokens":0}""", HttpStatusCode.BadRequest, "max_tokens", "integer_below_min_value" },
        { """{"prompt":"x","max_tokens":-5}""", HttpStatusCode.BadRequest, "max_tokens", "integer_below_min_value" },
        { """{"prompt":"x","max_tokens":100000}""", HttpStatusCode.BadRequest, "max_tokens", "integer_above_max_value" },
        { """{"prompt":"x","max_tokens":512}""", HttpStatusCode.BadRequest, "max_tokens", "context_length_exceeded" },
        { """{"prompt":"x","temperature":2.5}""", HttpStatusCode.BadRequest, "temperature", "decimal_above_max_value" },
        { """{"prompt":"x","temperature":-0.1}""", HttpStatusCode.BadRequest, "temperature", "decimal_below_min_value" },
        { """{"prompt":"x","top_p":0}""", HttpStatusCode.BadRequest, "top_p", "decimal_below_min_value" },
        { """{"prompt":"x","top_p":1.5}""", HttpStatusCode.BadRequest, "top_p", "decimal_above_max_value" },
        { """{"prompt":"x","stop":["a","b","c","d","e"]}""", HttpStatusCode.BadRequest, "stop", "array_above_max_length" },
        { """{"prompt":"x","stop":""}""", HttpStatusCode.BadRequest, "stop", "invalid_value" },
        { """{"prompt":"x","stop":[1]}""", HttpStatusCode.BadRequest, "stop", "invalid_type" },
        { """{"prompt":"x","n":0}""", HttpStatusCode.BadRequest, "n", "integer_below_min_value" },
        { """{"prompt":"x","n":17}""", HttpStatusCode.BadRequest, "n", "integer_above_max_value" },
        { """{"prompt":"x","logprobs":6}""", HttpStatusCode.BadRequest, "logprobs", "integer_above_max_value" },
        { """{"prompt":"x","logprobs":-1}""", HttpStatusCode.BadRequest, "logprobs", "integer_below_min_value" },
        { """{"prompt":"x","logprobs":true}""", HttpStatusCode.BadRequest, "logprobs", "invalid_json" },
        { """{"prompt":"x","echo":true}""", HttpStatusCode.BadRequest, "echo", "unsupported_value" },
        { """{"prompt":"x","stream_options":{"include_usage":true}}""", HttpStatusCode.BadRequest, "stream_options", "invalid_value" },
    };

    [Stories260KTheory]
    [MemberData(nameof(BadBodies))]
    public async Task Completions_BadBody_AnswersTheOpenAIErrorShape(string json, HttpStatusCode status, string? param, string code)
    {
        using var client = fixture.CreateModelServerClient(0);

        using var response = await PostCompletionAsync(client, json);

        await AssertErrorAsync(response, status, InvalidRequest, param, code);
    }

    [Stories260KFact]
    public async Task Completions_PromptLongerThanTheContext_IsContextLengthExceeded()
    {
        using var client = fixture.CreateModelServerClient(0);
        var prompt = string.Concat(Enumerable.Repeat("Once upon a time ", 200));

        using var response = await PostCompletionAsync(client, JsonSerializer.Serialize(new Dictionary<string, object?> { ["prompt"] = prompt }));

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, InvalidRequest, "prompt", "context_length_exceeded");
    }

    [Stories260KFact]
    public async Task Completions_StreamedBadRequest_AnswersJsonNotAStream()
    {
        using var client = fixture.CreateModelServerClient(0);

        using var response = await PostCompletionAsync(client, """{"prompt":"x","stream":true,"temperature":9}""");

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, InvalidRequest, "temperature", "decimal_above_max_value");
    }

    [Stories260KTheory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    public async Task Completions_NotJson_IsUnsupportedMediaType(string mediaType)
    {
        using var client = fixture.CreateModelServerClient(0);

        using var response = await PostCompletionAsync(client, """{"prompt":"x"}""", mediaType);

        await AssertErrorAsync(response, HttpStatusCode.UnsupportedMediaType, InvalidRequest, null, "unsupported_media_type");
    }

    [Stories260KFact]
    public async Task Completions_BodyOverTheLimit_IsRequestTooLarge()
    {
        using var client = fixture.CreateModelServerClient(0);
        // Twice the default ModelServer:MaxRequestBodyBytes of 1 MiB.
        var json = JsonSerializer.Serialize(new Dictionary<string, object?> { ["prompt"] = new string('a', 2 << 20) });

        using var response = await PostCompletionAsync(client, json);

        await AssertErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, InvalidRequest, null, "request_too_large");
    }

    [Stories260KTheory]
    [InlineData("POST", "/v1/embeddings")]
    [InlineData("GET", "/v1/nothing/here")]
    [InlineData("POST", "/v1/engines/stories260K/completions")]
    public async Task V1_UnknownRoute_IsNotFoundInTheErrorShape(string method, string path)
    {
        using var client = fixture.CreateModelServerClient(0);
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative));

        using var response = await client.SendAsync(request).WaitAsync(RequestTimeout);

        await AssertErrorAsync(response, HttpStatusCode.NotFound, InvalidRequest, null, "unknown_url");
    }

    [Stories260KFact]
    public async Task Completions_Get_IsMethodNotAllowedInTheErrorShape()
    {
        using var client = fixture.CreateModelServerClient(0);

        using var response = await client.GetAsync(CompletionsUri).WaitAsync(RequestTimeout);

        await AssertErrorAsync(response, HttpStatusCode.MethodNotAllowed, InvalidRequest, null, "method_not_allowed");
    }
}
