using System.Net;
using System.Text;
using System.Text.Json;
using static LlmAspire.Tests.ModelServer.ModelServerHttp;

namespace LlmAspire.Tests.ModelServer.Apis;

/// <summary>Raw HTTP against <c>/v1/responses</c>: the response object, and the stream read as named SSE events.</summary>
internal static class ResponsesHttp
{
    public static readonly Uri ResponsesUri = new("/v1/responses", UriKind.Relative);

    /// <summary>One SSE event of a Responses stream: its <c>event:</c> name and its <c>data:</c> parsed.</summary>
    public sealed record SseEvent(string Name, JsonElement Data)
    {
        public string Type => Data.GetProperty("type").GetString()!;
    }

    /// <summary>Posts <paramref name="json"/> to <c>/v1/responses</c>, asserts 200 and returns the response object.</summary>
    public static Task<JsonDocument> CreateAsync(HttpClient client, string json) => CompleteAsync(client, ResponsesUri, json);

    /// <summary>
    /// Posts a streamed request, asserts 200 with <c>text/event-stream</c>, and returns its events in order; asserts
    /// each is exactly one <c>event:</c> line, one <c>data:</c> line and a blank line, as OpenAI sends them.
    /// </summary>
    public static async Task<IReadOnlyList<SseEvent>> StreamEventsAsync(HttpClient client, string json)
    {
        using var response = await PostAsync(client, ResponsesUri, json, completion: HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            Assert.Fail($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync().WaitAsync(RequestTimeout)}");
        }

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = new List<SseEvent>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync().WaitAsync(RequestTimeout));
        while (await reader.ReadLineAsync().WaitAsync(RequestTimeout) is { } line)
        {
            Assert.StartsWith("event: ", line, StringComparison.Ordinal);
            var data = await reader.ReadLineAsync().WaitAsync(RequestTimeout);
            Assert.NotNull(data);
            Assert.StartsWith("data: ", data, StringComparison.Ordinal);
            Assert.Equal("", await reader.ReadLineAsync().WaitAsync(RequestTimeout));
            using var document = JsonDocument.Parse(data["data: ".Length..]);
            events.Add(new SseEvent(line["event: ".Length..], document.RootElement.Clone()));
        }

        return events;
    }

    /// <summary>The text of a response's message items, joined.</summary>
    public static string OutputText(JsonElement response)
    {
        var text = new StringBuilder();
        foreach (var item in response.GetProperty("output").EnumerateArray().Where(item => item.GetProperty("type").GetString() == "message"))
        {
            foreach (var part in item.GetProperty("content").EnumerateArray())
            {
                text.Append(part.GetProperty("text").GetString());
            }
        }

        return text.ToString();
    }
}
