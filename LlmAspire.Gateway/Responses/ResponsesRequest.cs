using System.Buffers;
using System.Text.Json;
using LlmAspire.OpenAIApi.Errors;

namespace LlmAspire.Gateway.Responses;

/// <summary>
/// What the gateway reads from a <c>POST /v1/responses</c> body — <c>store</c>, <c>previous_response_id</c> and the
/// shape of <c>input</c> — and the rewrite that makes a stateful request stateless for the model server: the earlier
/// turns become input items in front of this request's own. Every other field is the model server's to check.
/// </summary>
internal sealed class ResponsesRequest
{
    private ResponsesRequest(string? previousResponseId, bool store)
    {
        PreviousResponseId = previousResponseId;
        Store = store;
    }

    /// <summary>The <c>previous_response_id</c> field, when given.</summary>
    public string? PreviousResponseId { get; }

    /// <summary>The <c>store</c> field; OpenAI's default is true.</summary>
    public bool Store { get; }

    /// <summary>Reads <paramref name="root"/> (a JSON object); the error says which field has the wrong type.</summary>
    public static (ResponsesRequest? Request, OpenAIError? Error) Parse(JsonElement root)
    {
        var store = true;
        if (root.TryGetProperty("store", out var storeValue))
        {
            switch (storeValue.ValueKind)
            {
                case JsonValueKind.True or JsonValueKind.Null:
                    break;
                case JsonValueKind.False:
                    store = false;
                    break;
                default:
                    return (null, WrongType("store", "a boolean", storeValue));
            }
        }

        string? previous = null;
        if (root.TryGetProperty("previous_response_id", out var previousValue) && previousValue.ValueKind != JsonValueKind.Null)
        {
            if (previousValue.ValueKind != JsonValueKind.String)
            {
                return (null, WrongType("previous_response_id", "a string", previousValue));
            }

            previous = previousValue.GetString();
            if (string.IsNullOrEmpty(previous))
            {
                return (null, OpenAIError.Invalid(
                    "Invalid 'previous_response_id': empty string. Expected the id of a stored response.", "previous_response_id", "empty_string"));
            }
        }

        if (root.TryGetProperty("input", out var input))
        {
            switch (input.ValueKind)
            {
                case JsonValueKind.String:
                    break;
                case JsonValueKind.Array:
                    var index = 0;
                    foreach (var item in input.EnumerateArray())
                    {
                        if (item.ValueKind != JsonValueKind.Object)
                        {
                            return (null, WrongType($"input[{index}]", "an object", item));
                        }

                        index++;
                    }

                    break;
                default:
                    return (null, WrongType("input", "a string or an array of input items", input));
            }
        }

        return (new ResponsesRequest(previous, store), null);
    }

    /// <summary>
    /// The conversation as input items, a JSON array: <paramref name="previous"/>'s input items, then its output items
    /// as input (assistant messages with their <c>output_text</c>, function calls as they were made; other items such
    /// as reasoning are the model server's own and are left out), then this request's input (a string becomes a user
    /// message).
    /// </summary>
    public static byte[] Conversation(JsonElement root, StoredResponse? previous)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            if (previous is not null)
            {
                using var input = JsonDocument.Parse(previous.Input);
                foreach (var item in input.RootElement.EnumerateArray())
                {
                    item.WriteTo(writer);
                }

                using var response = JsonDocument.Parse(previous.Response);
                if (response.RootElement.TryGetProperty("output", out var output) && output.ValueKind == JsonValueKind.Array)
                {
                    foreach (var item in output.EnumerateArray())
                    {
                        WriteOutputAsInput(item, writer);
                    }
                }
            }

            if (root.TryGetProperty("input", out var current))
            {
                if (current.ValueKind == JsonValueKind.String)
                {
                    writer.WriteStartObject();
                    writer.WriteString("type", "message");
                    writer.WriteString("role", "user");
                    writer.WriteStartArray("content");
                    writer.WriteStartObject();
                    writer.WriteString("type", "input_text");
                    writer.WriteString("text", current.GetString());
                    writer.WriteEndObject();
                    writer.WriteEndArray();
                    writer.WriteEndObject();
                }
                else if (current.ValueKind == JsonValueKind.Array)
                {
                    foreach (var item in current.EnumerateArray())
                    {
                        item.WriteTo(writer);
                    }
                }
            }

            writer.WriteEndArray();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The body with <c>input</c> set to <paramref name="conversation"/> and <c>previous_response_id</c> removed; every other field as sent.</summary>
    public static byte[] Rewrite(JsonElement root, ReadOnlySpan<byte> conversation)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            var wroteInput = false;
            foreach (var property in root.EnumerateObject())
            {
                if (property.NameEquals("previous_response_id"))
                {
                    continue;
                }

                if (property.NameEquals("input"))
                {
                    writer.WritePropertyName("input");
                    writer.WriteRawValue(conversation, skipInputValidation: true);
                    wroteInput = true;
                    continue;
                }

                property.WriteTo(writer);
            }

            if (!wroteInput)
            {
                writer.WritePropertyName("input");
                writer.WriteRawValue(conversation, skipInputValidation: true);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// <paramref name="response"/> (a response object) with its <c>previous_response_id</c> set: the model server
    /// answered a stateless request, so its own object names none.
    /// </summary>
    public static byte[] WithPreviousResponseId(ReadOnlySpan<byte> response, string previousResponseId)
    {
        using var document = JsonDocument.Parse(response.ToArray());
        var buffer = new ArrayBufferWriter<byte>(response.Length + previousResponseId.Length + 32);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            var wrote = false;
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.NameEquals("previous_response_id"))
                {
                    writer.WriteString("previous_response_id", previousResponseId);
                    wrote = true;
                    continue;
                }

                property.WriteTo(writer);
            }

            if (!wrote)
            {
                writer.WriteString("previous_response_id", previousResponseId);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteOutputAsInput(JsonElement item, Utf8JsonWriter writer)
    {
        if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            return;
        }

        if (type.ValueEquals("message"))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "message");
            writer.WriteString("role", "assistant");
            writer.WriteStartArray("content");
            if (item.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array)
            {
                foreach (var part in content.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.Object
                        && part.TryGetProperty("type", out var partType) && partType.ValueEquals("output_text")
                        && part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
                    {
                        writer.WriteStartObject();
                        writer.WriteString("type", "output_text");
                        writer.WritePropertyName("text");
                        text.WriteTo(writer);
                        writer.WriteEndObject();
                    }
                }
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        else if (type.ValueEquals("function_call"))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "function_call");
            foreach (var name in (ReadOnlySpan<string>)["call_id", "name", "arguments"])
            {
                if (item.TryGetProperty(name, out var value))
                {
                    writer.WritePropertyName(name);
                    value.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
        }
    }

    private static OpenAIError WrongType(string param, string expected, JsonElement value) =>
        OpenAIError.Invalid($"Invalid type for '{param}': expected {expected}, but got {KindName(value.ValueKind)} instead.", param, "invalid_type");

    private static string KindName(JsonValueKind kind) => kind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };
}
