using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace LlmAspire.Tests.ModelServer;

/// <summary>Raw HTTP against one model server: JSON bodies as written on the wire, SSE read line by line.</summary>
internal static class ModelServerHttp
{
    /// <summary>The bound on every await against the running servers.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromMinutes(1);

    public static readonly Uri CompletionsUri = new("/v1/completions", UriKind.Relative);

    public static readonly Uri ChatCompletionsUri = new("/v1/chat/completions", UriKind.Relative);

    /// <summary>stories260K's end-of-sequence id (llama2.c's tok512: BOS 1, EOS 2); a logit_bias of -100 on it makes a generation run its whole budget.</summary>
    public const int EosTokenId = 2;

    /// <summary>A <c>logit_bias</c> that bans <see cref="EosTokenId"/>.</summary>
    public static IReadOnlyDictionary<string, object?> NoEos { get; } = new Dictionary<string, object?> { ["2"] = -100 };

    /// <summary>"Once upon a time": its greedy continuation is known (../shared/models/stories260K/README.md).</summary>
    public const string StoryPrompt = "Once upon a time";

    /// <summary>The known greedy continuation of <see cref="StoryPrompt"/>, 60 tokens.</summary>
    public const string KnownContinuation =
        ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\nLily";

    /// <summary>Serializes a request body with the wire names given as dictionary keys.</summary>
    public static string Json(IReadOnlyDictionary<string, object?> body) => JsonSerializer.Serialize(body);

    public static Task<HttpResponseMessage> PostCompletionAsync(
        HttpClient client, string json, string mediaType = "application/json", HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead) =>
        PostAsync(client, CompletionsUri, json, mediaType, completion);

    public static async Task<HttpResponseMessage> PostAsync(
        HttpClient client,
        Uri uri,
        string json,
        string mediaType = "application/json",
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead,
        CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Content = new StringContent(json, Encoding.UTF8, new MediaTypeHeaderValue(mediaType)),
        };
        return await client.SendAsync(request, completion, cancellationToken).WaitAsync(RequestTimeout, cancellationToken);
    }

    /// <summary>Posts <paramref name="json"/> to <c>/v1/completions</c>, asserts 200 and returns the body.</summary>
    public static Task<JsonDocument> CompleteAsync(HttpClient client, string json) => CompleteAsync(client, CompletionsUri, json);

    /// <summary>Posts <paramref name="json"/> to <c>/v1/chat/completions</c>, asserts 200 and returns the body.</summary>
    public static Task<JsonDocument> ChatAsync(HttpClient client, string json) => CompleteAsync(client, ChatCompletionsUri, json);

    /// <summary>Posts <paramref name="json"/> to <paramref name="uri"/>, asserts 200 and returns the body.</summary>
    public static async Task<JsonDocument> CompleteAsync(HttpClient client, Uri uri, string json)
    {
        using var response = await PostAsync(client, uri, json);
        var body = await response.Content.ReadAsStringAsync().WaitAsync(RequestTimeout);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body);
    }

    /// <summary>Posts a streamed request to <c>/v1/completions</c>, asserts 200 with <c>text/event-stream</c> and returns the <c>data:</c> payloads in order.</summary>
    public static Task<IReadOnlyList<string>> StreamAsync(HttpClient client, string json) => StreamAsync(client, CompletionsUri, json);

    /// <summary>Posts a streamed request to <paramref name="uri"/>, asserts 200 with <c>text/event-stream</c> and returns the <c>data:</c> payloads in order.</summary>
    public static async Task<IReadOnlyList<string>> StreamAsync(HttpClient client, Uri uri, string json)
    {
        using var response = await PostAsync(client, uri, json, completion: HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            Assert.Fail($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync().WaitAsync(RequestTimeout)}");
        }

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);

        var events = new List<string>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync().WaitAsync(RequestTimeout));
        var expectBlank = false;
        while (await reader.ReadLineAsync().WaitAsync(RequestTimeout) is { } line)
        {
            if (expectBlank)
            {
                Assert.Equal("", line);
                expectBlank = false;
                continue;
            }

            // Each event is exactly one "data: " line followed by a blank line, as OpenAI sends them.
            Assert.StartsWith("data: ", line, StringComparison.Ordinal);
            events.Add(line["data: ".Length..]);
            expectBlank = true;
        }

        return events;
    }

    /// <summary>Reads an error response and asserts its status and every field of the OpenAI error shape.</summary>
    public static async Task AssertErrorAsync(
        HttpResponseMessage response, HttpStatusCode status, string type, string? param, string? code)
    {
        var body = await response.Content.ReadAsStringAsync().WaitAsync(RequestTimeout);
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);

        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        Assert.Equal(["error"], root.EnumerateObject().Select(property => property.Name));
        var error = root.GetProperty("error");
        Assert.Equal(["message", "type", "param", "code"], error.EnumerateObject().Select(property => property.Name));
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.Equal(type, error.GetProperty("type").GetString());
        AssertStringOrNull(param, error.GetProperty("param"));
        AssertStringOrNull(code, error.GetProperty("code"));
    }

    /// <summary>The string value of a property that may be JSON null.</summary>
    public static string? StringOrNull(JsonElement element) =>
        element.ValueKind == JsonValueKind.Null ? null : element.GetString();

    private static void AssertStringOrNull(string? expected, JsonElement actual)
    {
        if (expected is null)
        {
            Assert.Equal(JsonValueKind.Null, actual.ValueKind);
        }
        else
        {
            Assert.Equal(expected, actual.GetString());
        }
    }
}
