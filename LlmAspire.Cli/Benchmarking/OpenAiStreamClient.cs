using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LlmAspire.Cli.Benchmarking;

/// <summary>Which OpenAI endpoint <c>bench serve</c> drives.</summary>
public enum BenchEndpoint
{
    /// <summary><c>/v1/completions</c>: the prompt as is; content in <c>choices[0].text</c>.</summary>
    Completions,

    /// <summary><c>/v1/chat/completions</c>: the prompt as one user message; content in <c>choices[0].delta.content</c>.</summary>
    Chat,
}

/// <summary>
/// Sends one benchmark request to an OpenAI-compatible server and times it. Streamed (the default): server-sent events
/// are read line by line, every non-empty content chunk is timestamped, <c>stream_options.include_usage</c> asks for
/// exact token counts (without a usage chunk the content chunks are counted). Not streamed: TTFT is the whole latency.
/// A prompt's own <see cref="BenchPrompt.Stream"/> overrides <paramref name="stream"/>.
/// </summary>
public sealed class OpenAiStreamClient(HttpClient http, BenchEndpoint endpoint, string? model, string? apiKey, double temperature, bool stream = true)
{
    public async Task<RequestOutcome> SendAsync(BenchPrompt prompt, long runStartTimestamp, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        bool streamed = prompt.Stream ?? stream;
        var body = new JsonObject
        {
            ["max_tokens"] = prompt.MaxTokens,
            ["temperature"] = temperature,
            ["stream"] = streamed,
        };
        if (model is not null)
        {
            body["model"] = model;
        }

        if (streamed)
        {
            body["stream_options"] = new JsonObject { ["include_usage"] = true };
        }

        string path;
        if (endpoint == BenchEndpoint.Chat)
        {
            path = "v1/chat/completions";
            body["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt.Text });
        }
        else
        {
            path = "v1/completions";
            body["prompt"] = prompt.Text;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        if (apiKey is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        long start = Stopwatch.GetTimestamp();
        double startMs = Stopwatch.GetElapsedTime(runStartTimestamp, start).TotalMilliseconds;
        bool started = false;
        RequestOutcome Failure(string error) => new()
        {
            Success = false, StartMs = startMs, MaxTokens = prompt.MaxTokens, Error = error, LatencyMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds,
            Stream = streamed, StreamStarted = started,
        };
        // HttpClient.Timeout bounds only the wait for the headers here: bound the whole stream with it too.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (http.Timeout != Timeout.InfiniteTimeSpan)
        {
            timeout.CancelAfter(http.Timeout);
        }

        CancellationToken token = timeout.Token;
        try
        {
            using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
            string? cache = response.Headers.TryGetValues("X-Cache", out IEnumerable<string>? values) ? values.FirstOrDefault() : null;
            if (!response.IsSuccessStatusCode)
            {
                string text = await response.Content.ReadAsStringAsync(token);
                return Failure($"HTTP {(int)response.StatusCode}: {ErrorMessage(text)}");
            }

            if (!streamed)
            {
                string text = await response.Content.ReadAsStringAsync(token);
                double latency = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                using JsonDocument document = JsonDocument.Parse(text);
                (int promptTokens, int completionTokens)? usage = Usage(document.RootElement);
                return new RequestOutcome
                {
                    Success = true, StartMs = startMs, TtftMs = latency, LatencyMs = latency, MaxTokens = prompt.MaxTokens, Cache = cache,
                    UsageReported = usage is not null,
                    PromptTokens = usage?.promptTokens ?? prompt.EstimatedInputTokens,
                    OutputTokens = usage?.completionTokens ?? 0,
                };
            }

            // The answer began: nothing upstream can send this stream again elsewhere, so a failure from here on breaks it.
            started = true;
            await using Stream content = await response.Content.ReadAsStreamAsync(token);
            using var reader = new StreamReader(content, Encoding.UTF8);
            double? ttft = null;
            double last = 0;
            var gaps = new List<double>();
            int chunks = 0;
            (int promptTokens, int completionTokens)? reported = null;
            bool done = false;
            while (await reader.ReadLineAsync(token) is { } line)
            {
                if (!line.StartsWith("data:", StringComparison.Ordinal))
                {
                    continue;
                }

                string data = line[5..].Trim();
                if (data == "[DONE]")
                {
                    done = true;
                    break;
                }

                double now = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                using JsonDocument document = JsonDocument.Parse(data);
                JsonElement root = document.RootElement;
                if (root.TryGetProperty("error", out JsonElement error) && error.ValueKind == JsonValueKind.Object)
                {
                    return Failure("stream error: " + (error.TryGetProperty("message", out JsonElement m) ? m.GetString() : error.GetRawText()));
                }

                if (Usage(root) is { } usage)
                {
                    reported = usage;
                }

                if (!string.IsNullOrEmpty(Content(root)))
                {
                    chunks++;
                    if (ttft is null)
                    {
                        ttft = now;
                    }
                    else
                    {
                        gaps.Add(now - last);
                    }

                    last = now;
                }
            }

            double end = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (!done)
            {
                return Failure("stream ended without data: [DONE]");
            }

            if (ttft is null)
            {
                return Failure("no content in the stream");
            }

            return new RequestOutcome
            {
                Success = true, StartMs = startMs, TtftMs = ttft.Value, LatencyMs = end, ChunkGapsMs = gaps, MaxTokens = prompt.MaxTokens, Cache = cache, Stream = true,
                UsageReported = reported is not null,
                PromptTokens = reported?.promptTokens ?? prompt.EstimatedInputTokens,
                OutputTokens = reported?.completionTokens ?? chunks,
            };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            return Failure($"timed out after {http.Timeout.TotalSeconds:F0} s");
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or IOException)
        {
            return Failure($"{ex.GetType().Name}: {ex.Message}");
        }
    }

    private static string? Content(JsonElement chunk)
    {
        if (!chunk.TryGetProperty("choices", out JsonElement choices) || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
        {
            return null;
        }

        JsonElement choice = choices[0];
        if (choice.TryGetProperty("text", out JsonElement text) && text.ValueKind == JsonValueKind.String)
        {
            return text.GetString();
        }

        return choice.TryGetProperty("delta", out JsonElement delta) && delta.ValueKind == JsonValueKind.Object
            && delta.TryGetProperty("content", out JsonElement content) && content.ValueKind == JsonValueKind.String
            ? content.GetString() : null;
    }

    private static (int PromptTokens, int CompletionTokens)? Usage(JsonElement root) =>
        root.TryGetProperty("usage", out JsonElement usage) && usage.ValueKind == JsonValueKind.Object
            && usage.TryGetProperty("prompt_tokens", out JsonElement p) && usage.TryGetProperty("completion_tokens", out JsonElement c)
            ? (p.GetInt32(), c.GetInt32()) : null;

    private static string ErrorMessage(string body)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(body);
            if (document.RootElement.TryGetProperty("error", out JsonElement error))
            {
                return error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out JsonElement m) ? m.GetString() ?? body : error.ToString();
            }
        }
        catch (JsonException)
        {
        }

        return body.Length > 200 ? body[..200] : body;
    }
}
