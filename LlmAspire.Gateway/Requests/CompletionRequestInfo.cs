using System.Text;
using System.Text.Json;

namespace LlmAspire.Gateway.Requests;

/// <summary>
/// What the gateway reads from an OpenAI completion or chat request, once, for routing, caching and limits.
/// The body itself is kept (buffered) and forwarded unchanged.
/// </summary>
public sealed class CompletionRequestInfo
{
    /// <summary>The request body as received.</summary>
    public required ReadOnlyMemory<byte> Body { get; init; }

    /// <summary><c>/v1/completions</c> or <c>/v1/chat/completions</c>.</summary>
    public required string Path { get; init; }

    /// <summary>The <c>model</c> field, when given.</summary>
    public string? Model { get; init; }

    /// <summary>The <c>stream</c> field.</summary>
    public bool Stream { get; init; }

    /// <summary>The <c>temperature</c> field (OpenAI's default is 1).</summary>
    public double? Temperature { get; init; }

    /// <summary>The <c>seed</c> field.</summary>
    public long? Seed { get; init; }

    /// <summary><c>max_tokens</c> or <c>max_completion_tokens</c>.</summary>
    public int? MaxTokens { get; init; }

    /// <summary><c>n</c> (default 1).</summary>
    public int N { get; init; } = 1;

    /// <summary>The prompt text, or the chat messages' contents joined in order (for prefix affinity and token estimates).</summary>
    public string PromptText { get; init; } = string.Empty;

    /// <summary>True when the output is a function of the request alone: greedy, or seeded.</summary>
    public bool IsDeterministic => Temperature == 0 || Seed is not null;

    /// <summary>Parses <paramref name="body"/>; null when it is not a JSON object (the model server answers that with a 400).</summary>
    public static CompletionRequestInfo? TryParse(string path, ReadOnlyMemory<byte> body)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(body);
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            return new CompletionRequestInfo
            {
                Body = body,
                Path = path,
                Model = root.TryGetProperty("model", out JsonElement model) && model.ValueKind == JsonValueKind.String ? model.GetString() : null,
                Stream = root.TryGetProperty("stream", out JsonElement stream) && stream.ValueKind == JsonValueKind.True,
                Temperature = Number(root, "temperature"),
                Seed = root.TryGetProperty("seed", out JsonElement seed) && seed.ValueKind == JsonValueKind.Number && seed.TryGetInt64(out long s) ? s : null,
                MaxTokens = (int?)(Number(root, "max_completion_tokens") ?? Number(root, "max_tokens")),
                N = (int?)Number(root, "n") ?? 1,
                PromptText = PromptOf(root),
            };
        }
        catch (JsonException)
        {
            return null;
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    private static double? Number(JsonElement root, string name) =>
        root.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double d) ? d : null;

    private static string PromptOf(JsonElement root)
    {
        if (root.TryGetProperty("prompt", out JsonElement prompt))
        {
            return prompt.ValueKind switch
            {
                JsonValueKind.String => prompt.GetString() ?? string.Empty,
                JsonValueKind.Array => string.Concat(prompt.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString())),
                _ => string.Empty,
            };
        }

        if (root.TryGetProperty("messages", out JsonElement messages) && messages.ValueKind == JsonValueKind.Array)
        {
            var text = new StringBuilder();
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

                text.Append('\n');
            }

            return text.ToString();
        }

        return string.Empty;
    }
}
