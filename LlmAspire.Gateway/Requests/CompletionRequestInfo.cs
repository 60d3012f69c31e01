using System.Text;
using System.Text.Json;
using LlmAspire.OpenAIApi.Requests;

namespace LlmAspire.Gateway.Requests;

/// <summary>
/// What the gateway reads from an OpenAI completion, chat or responses request, once, for routing, caching and limits.
/// The body itself is kept (buffered) and forwarded unchanged.
/// </summary>
public sealed class CompletionRequestInfo
{
    /// <summary>The path of completions.</summary>
    public const string CompletionsPath = "/v1/completions";

    /// <summary>The path of chat completions.</summary>
    public const string ChatCompletionsPath = "/v1/chat/completions";

    /// <summary>The path of responses (OpenAI's Responses API).</summary>
    public const string ResponsesPath = "/v1/responses";

    /// <summary>The request body as received, less a leading byte-order mark.</summary>
    public required ReadOnlyMemory<byte> Body { get; init; }

    /// <summary><see cref="CompletionsPath"/>, <see cref="ChatCompletionsPath"/> or <see cref="ResponsesPath"/>.</summary>
    public required string Path { get; init; }

    /// <summary>The <c>model</c> field, when given.</summary>
    public string? Model { get; init; }

    /// <summary>The <c>stream</c> field.</summary>
    public bool Stream { get; init; }

    /// <summary>The <c>temperature</c> field (OpenAI's default is 1).</summary>
    public double? Temperature { get; init; }

    /// <summary>The <c>seed</c> field.</summary>
    public long? Seed { get; init; }

    /// <summary><c>max_tokens</c>, <c>max_completion_tokens</c> or (responses) <c>max_output_tokens</c>.</summary>
    public int? MaxTokens { get; init; }

    /// <summary><c>n</c> (default 1).</summary>
    public int N { get; init; } = 1;

    /// <summary>
    /// The prompt text, or the chat messages' contents joined in order, or a responses request's instructions and input
    /// items (for prefix affinity and token estimates).
    /// </summary>
    public string PromptText { get; init; } = string.Empty;

    /// <summary>True when the output is a function of the request alone: greedy, or seeded.</summary>
    public bool IsDeterministic => Temperature == 0 || Seed is not null;

    /// <summary>
    /// Parses <paramref name="body"/>; null when it fails <see cref="OpenAIJsonBody.Validate"/> (the gateway answers
    /// that with the model server's 400 before anything reads a field).
    /// </summary>
    public static CompletionRequestInfo? TryParse(string path, ReadOnlyMemory<byte> body) =>
        OpenAIJsonBody.Validate(body.Span) is null ? Parse(path, body) : null;

    /// <summary>Parses a body that passed <see cref="OpenAIJsonBody.Validate"/>: a JSON object whose strings all read.</summary>
    internal static CompletionRequestInfo Parse(string path, ReadOnlyMemory<byte> body)
    {
        body = OpenAIJsonBody.WithoutByteOrderMark(body);
        using JsonDocument document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = OpenAIJsonBody.MaxDepth });
        JsonElement root = document.RootElement;
        return new CompletionRequestInfo
        {
            Body = body,
            Path = path,
            Model = root.TryGetProperty("model", out JsonElement model) && model.ValueKind == JsonValueKind.String ? model.GetString() : null,
            Stream = root.TryGetProperty("stream", out JsonElement stream) && stream.ValueKind == JsonValueKind.True,
            Temperature = root.TryGetProperty("temperature", out JsonElement temperature) && temperature.ValueKind == JsonValueKind.Number && temperature.TryGetDouble(out double t) ? t : null,
            Seed = root.TryGetProperty("seed", out JsonElement seed) && seed.ValueKind == JsonValueKind.Number && seed.TryGetInt64(out long s) ? s : null,
            MaxTokens = Integer(root, "max_completion_tokens") ?? Integer(root, "max_tokens") ?? Integer(root, "max_output_tokens"),
            N = Integer(root, "n") ?? 1,
            PromptText = PromptOf(root),
        };
    }

    /// <summary>An integer field; null when absent or not an int (the model server refuses such a value).</summary>
    private static int? Integer(JsonElement root, string name) =>
        root.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int i) ? i : null;

    private static string PromptOf(JsonElement root)
    {
        if (root.TryGetProperty("prompt", out JsonElement prompt))
        {
            return prompt.ValueKind switch
            {
                JsonValueKind.String => prompt.GetString() ?? string.Empty,
                // A token-id prompt ([1, 5, 9] or [[1, 5, 9]]) stands for its ids' text, so prefix affinity still groups shared prefixes.
                JsonValueKind.Array => string.Join(',', Flatten(prompt).Select(e => e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetRawText())),
                _ => string.Empty,
            };
        }

        if (root.TryGetProperty("messages", out JsonElement messages) && messages.ValueKind == JsonValueKind.Array)
        {
            var text = new StringBuilder();
            AppendMessages(messages, text);
            return text.ToString();
        }

        if (root.TryGetProperty("input", out JsonElement input))
        {
            var text = new StringBuilder();
            if (root.TryGetProperty("instructions", out JsonElement instructions) && instructions.ValueKind == JsonValueKind.String)
            {
                text.Append("system: ").Append(instructions.GetString()).Append('\n');
            }

            if (input.ValueKind == JsonValueKind.String)
            {
                text.Append("user: ").Append(input.GetString());
            }
            else if (input.ValueKind == JsonValueKind.Array)
            {
                AppendMessages(input, text);
            }

            return text.ToString();
        }

        return string.Empty;
    }

    /// <summary>
    /// Chat messages or responses input items as <c>role: text</c> lines; a function call's arguments and a call
    /// output's text count as its text.
    /// </summary>
    private static void AppendMessages(JsonElement messages, StringBuilder text)
    {
        foreach (JsonElement message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            if (message.TryGetProperty("role", out JsonElement role) && role.ValueKind == JsonValueKind.String)
            {
                text.Append(role.GetString()).Append(": ");
            }

            if (message.TryGetProperty("content", out JsonElement content))
            {
                if (content.ValueKind == JsonValueKind.String)
                {
                    text.Append(content.GetString());
                }
                else if (content.ValueKind == JsonValueKind.Array)
                {
                    foreach (JsonElement part in content.EnumerateArray())
                    {
                        if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out JsonElement t) && t.ValueKind == JsonValueKind.String)
                        {
                            text.Append(t.GetString());
                        }
                    }
                }
            }

            foreach (var field in (ReadOnlySpan<string>)["arguments", "output"])
            {
                if (message.TryGetProperty(field, out JsonElement value) && value.ValueKind == JsonValueKind.String)
                {
                    text.Append(value.GetString());
                }
            }

            text.Append('\n');
        }
    }

    private static IEnumerable<JsonElement> Flatten(JsonElement array) =>
        array.EnumerateArray().SelectMany(e => e.ValueKind == JsonValueKind.Array ? e.EnumerateArray() : (IEnumerable<JsonElement>)[e])
            .Where(e => e.ValueKind is JsonValueKind.String or JsonValueKind.Number);
}
