using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using LlmAspire.OpenAIApi;
using LlmAspire.OpenAIApi.Chat;
using LlmAspire.OpenAIApi.Errors;
using LlmAspire.OpenAIApi.Responses;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LlmAspire.ModelServer.Apis;

/// <summary>
/// Translates a <c>/v1/responses</c> request into the chat request it means, so that chat's checks, rendering and
/// output parsing serve both: <c>instructions</c> become a system message first; <c>input</c> a user message (a string)
/// or messages (message items; consecutive <c>function_call</c> items one assistant message with <c>tool_calls</c>;
/// each <c>function_call_output</c> a <c>tool</c> message); flat function tools chat's nested ones; <c>tool_choice</c>
/// and <c>text.format</c> chat's shapes; <c>max_output_tokens</c> the completion budget. What only the Responses API
/// has is checked here with its own parameter names; what chat refuses later is renamed back into the request's terms
/// (<see cref="ParamMap"/>). The stateful fields are refused: the model server keeps no responses.
/// </summary>
internal static partial class ResponsesRequestReader
{
    /// <summary>The parameters of the request the chat request's parameters came from.</summary>
    /// <param name="Messages">The chat message at each index came from this parameter (<c>instructions</c>, <c>input</c>, <c>input[3]</c>).</param>
    internal sealed record ParamMap(IReadOnlyList<string> Messages)
    {
        /// <summary>The Responses parameter a chat parameter came from.</summary>
        public string Map(string chatParam)
        {
            if (MessageParam().Match(chatParam) is { Success: true } message
                && int.TryParse(message.Groups[1].ValueSpan, out var index) && index < Messages.Count)
            {
                // The item's own fields are named as chat names them; the index is the input's.
                return Messages[index] + chatParam[message.Length..];
            }

            if (chatParam == "messages")
            {
                return "input";
            }

            if (chatParam.StartsWith("response_format.json_schema", StringComparison.Ordinal))
            {
                return "text.format" + chatParam["response_format.json_schema".Length..];
            }

            if (chatParam.StartsWith("response_format", StringComparison.Ordinal))
            {
                return "text.format" + chatParam["response_format".Length..];
            }

            if (chatParam == "max_completion_tokens")
            {
                return "max_output_tokens";
            }

            return ToolParam().Replace(chatParam, "$1");
        }

        /// <summary><paramref name="error"/> with its parameter, and the parameter where its message names it, mapped.</summary>
        public JsonHttpResult<OpenAIErrorResponse> Map(JsonHttpResult<OpenAIErrorResponse> error)
        {
            if (error.Value?.Error is not { Param: { } param } inner)
            {
                return error;
            }

            var mapped = Map(param);
            return mapped == param
                ? error
                : OpenAIErrors.Create(error.StatusCode ?? StatusCodes.Status400BadRequest, inner with { Param = mapped, Message = inner.Message.Replace($"'{param}", $"'{mapped}", StringComparison.Ordinal) });
        }
    }

    /// <summary>The chat request <paramref name="request"/> means, and where its parameters came from; or the error.</summary>
    public static JsonHttpResult<OpenAIErrorResponse>? TryRead(ResponsesRequest request, out ChatCompletionRequest? chat, out ParamMap? map)
    {
        chat = null;
        map = null;
        if (Refuse(request) is { } refused)
        {
            return refused;
        }

        var messages = new JsonArray();
        var sources = new List<string>();
        if (ReadInstructions(request.Instructions, out var instructions) is { } instructionsError)
        {
            return instructionsError;
        }

        if (instructions is not null)
        {
            messages.Add(new JsonObject { ["role"] = "system", ["content"] = instructions });
            sources.Add("instructions");
        }

        if (ReadInput(request.Input, messages, sources) is { } inputError)
        {
            return inputError;
        }

        var body = new JsonObject();

        // The fields both APIs share carry over under their own names (model, sampling, stop, vLLM's extensions).
        var node = JsonSerializer.SerializeToNode(request, OpenAIJsonContext.Default.ResponsesRequest)!.AsObject();
        foreach (var property in OpenAIJsonContext.Default.ChatCompletionRequest.Properties)
        {
            if (property.Name is not ("tools" or "max_tokens" or "stream_options")
                && node[property.Name] is { } value)
            {
                body[property.Name] = value.DeepClone();
            }
        }

        body["messages"] = messages;
        if (request.MaxOutputTokens is { } maxOutputTokens)
        {
            body["max_completion_tokens"] = maxOutputTokens;
        }

        if (ReadTools(request.Tools, out var tools) is { } toolsError)
        {
            return toolsError;
        }

        if (tools is not null)
        {
            body["tools"] = tools;
        }

        if (ReadToolChoice(request.ToolChoice, out var toolChoice) is { } toolChoiceError)
        {
            return toolChoiceError;
        }

        if (toolChoice is not null)
        {
            body["tool_choice"] = toolChoice;
        }

        if (request.ParallelToolCalls is { } parallel)
        {
            body["parallel_tool_calls"] = parallel;
        }

        if (ReadTextFormat(request.Text, out var format) is { } formatError)
        {
            return formatError;
        }

        if (format is not null)
        {
            body["response_format"] = format;
        }

        chat = JsonSerializer.Deserialize(body, OpenAIJsonContext.Default.ChatCompletionRequest);
        map = new ParamMap(sources);
        return null;
    }

    /// <summary>The request's <c>text.format</c>, as the response echoes it; null when absent.</summary>
    public static JsonElement? TextFormat(ResponsesRequest request) =>
        request.Text is { ValueKind: JsonValueKind.Object } text && text.TryGetProperty("format", out var format) && format.ValueKind == JsonValueKind.Object
            ? format
            : null;

    private static JsonHttpResult<OpenAIErrorResponse>? Refuse(ResponsesRequest request)
    {
        if (request.PreviousResponseId is { ValueKind: not JsonValueKind.Null })
        {
            return OpenAIErrors.BadRequest(
                "previous_response_id needs the gateway, which stores responses: this model server keeps none. Send the request through the gateway, or send the whole conversation as 'input'.",
                "previous_response_id",
                "unsupported_parameter");
        }

        if (request.Conversation is { ValueKind: not JsonValueKind.Null })
        {
            return OpenAIErrors.BadRequest(
                "conversation needs the gateway, which stores responses: this model server keeps none. Send the whole conversation as 'input'.",
                "conversation",
                "unsupported_parameter");
        }

        if (request.Background == true)
        {
            return OpenAIErrors.BadRequest(
                "Background responses are not supported: this server answers while the request waits (or streams).", "background", "unsupported_parameter");
        }

        if (request.N is { } n && n != 1)
        {
            return OpenAIErrors.BadRequest(
                $"Invalid 'n': {n}. A response has one output; send several requests for several answers.", "n", "unsupported_value");
        }

        if (request.MaxTokens is not null)
        {
            return OpenAIErrors.BadRequest("Unsupported parameter: 'max_tokens'. The Responses API's budget is 'max_output_tokens'.", "max_tokens", "unsupported_parameter");
        }

        if (request.MaxOutputTokens is < 1 and var few)
        {
            return OpenAIErrors.BelowMinimum("max_output_tokens", "integer", ">= 1", few);
        }

        return null;
    }

    private static JsonHttpResult<OpenAIErrorResponse>? ReadInstructions(JsonElement? value, out string? instructions)
    {
        instructions = null;
        if (value is null or { ValueKind: JsonValueKind.Null })
        {
            return null;
        }

        if (value.Value.ValueKind != JsonValueKind.String)
        {
            return OpenAIErrors.BadRequest("Invalid 'instructions': expected a string.", "instructions", "invalid_type");
        }

        instructions = value.Value.GetString();
        return null;
    }

    private static JsonHttpResult<OpenAIErrorResponse>? ReadInput(JsonElement? value, JsonArray messages, List<string> sources)
    {
        if (value is null or { ValueKind: JsonValueKind.Null })
        {
            return OpenAIErrors.BadRequest("Missing required parameter: 'input'.", "input", "missing_required_parameter");
        }

        if (value.Value.ValueKind == JsonValueKind.String)
        {
            messages.Add(new JsonObject { ["role"] = "user", ["content"] = value.Value.GetString() });
            sources.Add("input");
            return null;
        }

        if (value.Value.ValueKind != JsonValueKind.Array)
        {
            return OpenAIErrors.BadRequest("Invalid 'input': expected a string or an array of input items.", "input", "invalid_type");
        }

        if (value.Value.GetArrayLength() == 0)
        {
            return OpenAIErrors.BadRequest(
                "Invalid 'input': empty array. Expected an array with minimum length 1, but got an empty array instead.", "input", "empty_array");
        }

        var index = 0;
        foreach (var item in value.Value.EnumerateArray())
        {
            var param = $"input[{index++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                return OpenAIErrors.BadRequest($"Invalid '{param}': expected an input item object.", param, "invalid_type");
            }

            string? type = "message";
            if (item.TryGetProperty("type", out var typeValue) && typeValue.ValueKind != JsonValueKind.Null)
            {
                type = typeValue.ValueKind == JsonValueKind.String ? typeValue.GetString() : null;
            }

            var error = type switch
            {
                "message" => ReadMessage(item, param, messages, sources),
                "function_call" => ReadFunctionCall(item, param, messages, sources),
                "function_call_output" => ReadFunctionCallOutput(item, param, messages, sources),
                _ => OpenAIErrors.BadRequest(
                    $"Invalid '{param}.type': '{(typeValue.ValueKind == JsonValueKind.String ? typeValue.GetString() : typeValue.GetRawText())}'. "
                    + "This server accepts input items of type 'message', 'function_call' and 'function_call_output' (stored items need the gateway).",
                    $"{param}.type",
                    "unsupported_value"),
            };
            if (error is not null)
            {
                return error;
            }
        }

        return null;
    }

    private static JsonHttpResult<OpenAIErrorResponse>? ReadMessage(JsonElement item, string param, JsonArray messages, List<string> sources)
    {
        if (!item.TryGetProperty("role", out var roleValue) || roleValue.ValueKind != JsonValueKind.String)
        {
            return OpenAIErrors.BadRequest($"Missing required parameter: '{param}.role'.", $"{param}.role", "missing_required_parameter");
        }

        var role = roleValue.GetString();
        if (role is not ("user" or "assistant" or "system" or "developer"))
        {
            return OpenAIErrors.BadRequest(
                $"Invalid '{param}.role': '{role}'. Supported values are 'user', 'assistant', 'system' and 'developer'.", $"{param}.role", "invalid_value");
        }

        if (!item.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
        {
            return OpenAIErrors.BadRequest($"Missing required parameter: '{param}.content'.", $"{param}.content", "missing_required_parameter");
        }

        if (ReadText(content, $"{param}.content", out var text) is { } error)
        {
            return error;
        }

        messages.Add(new JsonObject { ["role"] = role, ["content"] = text });
        sources.Add(param);
        return null;
    }

    /// <summary>
    /// Appends the call to the assistant message it belongs to: the one just before when that is an assistant turn (the
    /// calls and text of one answer), else a new one.
    /// </summary>
    private static JsonHttpResult<OpenAIErrorResponse>? ReadFunctionCall(JsonElement item, string param, JsonArray messages, List<string> sources)
    {
        if (RequiredString(item, param, "call_id", out var callId) is { } noId)
        {
            return noId;
        }

        if (RequiredString(item, param, "name", out var name) is { } noName)
        {
            return noName;
        }

        if (RequiredString(item, param, "arguments", out var arguments) is { } noArguments)
        {
            return noArguments;
        }

        var call = new JsonObject
        {
            ["id"] = callId,
            ["type"] = "function",
            ["function"] = new JsonObject { ["name"] = name, ["arguments"] = arguments },
        };
        if (messages.Count > 0 && messages[^1] is JsonObject last && (string?)last["role"] == "assistant")
        {
            if (last["tool_calls"] is JsonArray calls)
            {
                calls.Add(call);
            }
            else
            {
                last["tool_calls"] = new JsonArray(call);
            }

            return null;
        }

        messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = "", ["tool_calls"] = new JsonArray(call) });
        sources.Add(param);
        return null;
    }

    private static JsonHttpResult<OpenAIErrorResponse>? ReadFunctionCallOutput(JsonElement item, string param, JsonArray messages, List<string> sources)
    {
        if (RequiredString(item, param, "call_id", out var callId) is { } missing)
        {
            return missing;
        }

        if (!item.TryGetProperty("output", out var output) || output.ValueKind == JsonValueKind.Null)
        {
            return OpenAIErrors.BadRequest($"Missing required parameter: '{param}.output'.", $"{param}.output", "missing_required_parameter");
        }

        if (ReadText(output, $"{param}.output", out var text) is { } error)
        {
            return error;
        }

        messages.Add(new JsonObject { ["role"] = "tool", ["tool_call_id"] = callId, ["content"] = text });
        sources.Add(param);
        return null;
    }

    /// <summary>A string, or an array of text parts (<c>input_text</c>, <c>output_text</c>) joined with newlines as chat joins its parts.</summary>
    private static JsonHttpResult<OpenAIErrorResponse>? ReadText(JsonElement value, string param, out string? text)
    {
        text = null;
        if (value.ValueKind == JsonValueKind.String)
        {
            text = value.GetString();
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            return OpenAIErrors.BadRequest($"Invalid '{param}': expected a string or an array of text parts.", param, "invalid_type");
        }

        var builder = new StringBuilder();
        var index = 0;
        foreach (var part in value.EnumerateArray())
        {
            var partParam = $"{param}[{index}]";
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                return OpenAIErrors.BadRequest($"Invalid '{partParam}': expected an object with 'type' and 'text'.", partParam, "invalid_type");
            }

            if (type.GetString() is not ("input_text" or "output_text"))
            {
                return OpenAIErrors.BadRequest(
                    $"Invalid '{partParam}.type': '{type.GetString()}'. This server serves a text-only model: only 'input_text' and 'output_text' parts are supported.",
                    $"{partParam}.type",
                    "unsupported_value");
            }

            if (!part.TryGetProperty("text", out var partText) || partText.ValueKind != JsonValueKind.String)
            {
                return OpenAIErrors.BadRequest($"Missing required parameter: '{partParam}.text'.", $"{partParam}.text", "missing_required_parameter");
            }

            if (index > 0)
            {
                builder.Append('\n');
            }

            builder.Append(partText.GetString());
            index++;
        }

        text = builder.ToString();
        return null;
    }

    /// <summary>Function tools in chat's shape; any other tool type is refused by name.</summary>
    private static JsonHttpResult<OpenAIErrorResponse>? ReadTools(JsonElement? value, out JsonArray? tools)
    {
        tools = null;
        if (value is null or { ValueKind: JsonValueKind.Null })
        {
            return null;
        }

        if (value.Value.ValueKind != JsonValueKind.Array)
        {
            return OpenAIErrors.BadRequest("Invalid 'tools': expected an array of tools.", "tools", "invalid_type");
        }

        tools = [];
        var index = 0;
        foreach (var tool in value.Value.EnumerateArray())
        {
            var param = $"tools[{index++}]";
            if (tool.ValueKind != JsonValueKind.Object || !tool.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                return OpenAIErrors.BadRequest($"Invalid '{param}': expected an object with a 'type'.", param, "invalid_type");
            }

            if (!type.ValueEquals("function"))
            {
                return OpenAIErrors.BadRequest(
                    $"Invalid '{param}.type': '{type.GetString()}'. This server runs no hosted tools: only tools of type 'function' are supported.",
                    $"{param}.type",
                    "unsupported_value");
            }

            var function = new JsonObject();
            foreach (var field in (ReadOnlySpan<string>)["name", "description", "parameters", "strict"])
            {
                if (tool.TryGetProperty(field, out var fieldValue))
                {
                    function[field] = JsonNode.Parse(fieldValue.GetRawText());
                }
            }

            tools.Add(new JsonObject { ["type"] = "function", ["function"] = function });
        }

        return null;
    }

    private static JsonHttpResult<OpenAIErrorResponse>? ReadToolChoice(JsonElement? value, out JsonNode? choice)
    {
        choice = null;
        if (value is null or { ValueKind: JsonValueKind.Null })
        {
            return null;
        }

        if (value.Value.ValueKind == JsonValueKind.String)
        {
            var mode = value.Value.GetString();
            if (mode is not ("none" or "auto" or "required"))
            {
                return OpenAIErrors.BadRequest(
                    $"Invalid 'tool_choice': '{mode}'. Supported values are 'none', 'auto', 'required' and {{\"type\": \"function\", \"name\": ...}}.", "tool_choice", "invalid_value");
            }

            choice = mode;
            return null;
        }

        if (value.Value.ValueKind != JsonValueKind.Object
            || !value.Value.TryGetProperty("type", out var type)
            || !type.ValueEquals("function"))
        {
            return OpenAIErrors.BadRequest(
                "Invalid 'tool_choice': expected 'none', 'auto', 'required' or {\"type\": \"function\", \"name\": ...} (this server runs no hosted tools).", "tool_choice", "invalid_value");
        }

        if (!value.Value.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
        {
            return OpenAIErrors.BadRequest("Missing required parameter: 'tool_choice.name'.", "tool_choice.name", "missing_required_parameter");
        }

        choice = new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = name.GetString() } };
        return null;
    }

    /// <summary><c>text.format</c> as chat's <c>response_format</c> (its checks are chat's, renamed back by <see cref="ParamMap"/>).</summary>
    private static JsonHttpResult<OpenAIErrorResponse>? ReadTextFormat(JsonElement? text, out JsonNode? format)
    {
        format = null;
        if (text is null or { ValueKind: JsonValueKind.Null })
        {
            return null;
        }

        if (text.Value.ValueKind != JsonValueKind.Object)
        {
            return OpenAIErrors.BadRequest("Invalid 'text': expected an object with a 'format'.", "text", "invalid_type");
        }

        if (!text.Value.TryGetProperty("format", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            return OpenAIErrors.BadRequest(
                "Invalid 'text.format': expected an object with a 'type' of 'text', 'json_object' or 'json_schema'.", "text.format", "invalid_type");
        }

        if (!type.ValueEquals("json_schema"))
        {
            format = new JsonObject { ["type"] = type.GetString() };
            return null;
        }

        var schema = new JsonObject();
        foreach (var field in (ReadOnlySpan<string>)["name", "description", "schema", "strict"])
        {
            if (value.TryGetProperty(field, out var fieldValue))
            {
                schema[field] = JsonNode.Parse(fieldValue.GetRawText());
            }
        }

        format = new JsonObject { ["type"] = "json_schema", ["json_schema"] = schema };
        return null;
    }

    private static JsonHttpResult<OpenAIErrorResponse>? RequiredString(JsonElement item, string param, string field, out string? value)
    {
        value = null;
        if (!item.TryGetProperty(field, out var element) || element.ValueKind != JsonValueKind.String)
        {
            return OpenAIErrors.BadRequest($"Missing required parameter: '{param}.{field}' (a string).", $"{param}.{field}", "missing_required_parameter");
        }

        value = element.GetString();
        return null;
    }

    [GeneratedRegex(@"^messages\[(\d+)\]")]
    private static partial Regex MessageParam();

    [GeneratedRegex(@"^(tools\[\d+\])\.function")]
    private static partial Regex ToolParam();
}
