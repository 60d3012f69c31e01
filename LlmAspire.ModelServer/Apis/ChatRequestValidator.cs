using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using LlmAspire.Inference.Tokenization;
using LlmAspire.Inference.Tools;
using LlmAspire.OpenAIApi;
using LlmAspire.OpenAIApi.Chat;
using LlmAspire.OpenAIApi.Completions;
using LlmAspire.OpenAIApi.Errors;
using LlmAspire.OpenAIApi.Models;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LlmAspire.ModelServer.Apis;

/// <summary>
/// Checks a chat completion request (see <see cref="SamplingValidator"/> for the shared fields): <c>messages</c> from
/// system (or developer), user and assistant, each a string or an array of text parts; <c>max_completion_tokens</c>
/// (or the older <c>max_tokens</c>); <c>logprobs</c> with <c>top_logprobs</c> (0-20); <c>response_format</c>
/// (<see cref="StructuredOutputReader"/>); <c>tools</c>, <c>tool_choice</c>, <c>parallel_tool_calls</c>, assistant turns
/// with <c>tool_calls</c> and <c>tool</c> turns (<see cref="ToolRequestReader"/>). Images and audio are refused with a
/// message saying so, never silently ignored.
/// </summary>
internal static class ChatRequestValidator
{
    public const int MaxTopLogprobs = 20;

    /// <summary>The checks that need no model.</summary>
    public static bool TryValidate(
        ChatCompletionRequest request,
        int maxSequences,
        [NotNullWhen(true)] out ChatSettings? settings,
        [NotNullWhen(false)] out JsonHttpResult<OpenAIErrorResponse>? error)
    {
        settings = null;
        error = ReadMessages(request.Messages, out var messages);
        if (error is not null)
        {
            return false;
        }

        if (request.MaxCompletionTokens is < 1 and var maxCompletionTokens)
        {
            error = OpenAIErrors.BelowMinimum("max_completion_tokens", "integer", ">= 1", maxCompletionTokens);
            return false;
        }

        error = SamplingValidator.Validate(request, maxSequences, out var sampling)
            ?? SamplingValidator.ValidateLogprobCount("top_logprobs", request.TopLogprobs, MaxTopLogprobs);
        if (error is not null)
        {
            return false;
        }

        if (request.TopLogprobs > 0 && request.Logprobs != true)
        {
            error = OpenAIErrors.BadRequest("Invalid 'top_logprobs': 'logprobs' must be true when 'top_logprobs' is set.", "top_logprobs", "invalid_value");
            return false;
        }

        error = ToolRequestReader.ReadTools(request.Tools, out var tools);
        var toolChoice = ToolChoice.None;
        error ??= ToolRequestReader.ReadToolChoice(request.ToolChoice, tools, out toolChoice);
        if (error is not null)
        {
            return false;
        }

        if (StructuredOutputReader.ReadResponseFormat(request.ResponseFormat, out var format) is { } formatError)
        {
            error = formatError;
            return false;
        }

        if (format is not null && sampling!.Constraint is { } guided)
        {
            error = OpenAIErrors.BadRequest($"Only one structured-output constraint may be given; this request has 'response_format' and '{guided.Param}'.", guided.Param, "invalid_value");
            return false;
        }

        var (budget, budgetParam) = request.MaxCompletionTokens is { } completion
            ? (completion, "max_completion_tokens")
            : (request.MaxTokens, "max_tokens");
        settings = new ChatSettings(format is null ? sampling! : sampling! with { Constraint = format }, messages!, budget, budgetParam, request.Logprobs == true, request.TopLogprobs ?? 0)
        {
            Tools = tools,
            ToolChoice = toolChoice,
            ParallelToolCalls = request.ParallelToolCalls ?? true,
        };
        return true;
    }

    private static JsonHttpResult<OpenAIErrorResponse>? ReadMessages(JsonElement? value, out IReadOnlyList<ChatMessage>? messages)
    {
        messages = null;
        if (value is null or { ValueKind: JsonValueKind.Null })
        {
            return OpenAIErrors.BadRequest("Missing required parameter: 'messages'.", "messages", "missing_required_parameter");
        }

        if (value.Value.ValueKind != JsonValueKind.Array)
        {
            return OpenAIErrors.BadRequest("Invalid 'messages': expected an array of messages.", "messages", "invalid_type");
        }

        if (value.Value.GetArrayLength() == 0)
        {
            return OpenAIErrors.BadRequest(
                "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", "messages", "empty_array");
        }

        var result = new List<ChatMessage>();
        var index = 0;
        foreach (var item in value.Value.EnumerateArray())
        {
            var param = $"messages[{index}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                return OpenAIErrors.BadRequest($"Invalid '{param}': expected an object with 'role' and 'content'.", param, "invalid_type");
            }

            if (ReadRole(item, param, out var role) is { } roleError)
            {
                return roleError;
            }

            IReadOnlyList<ChatToolCall>? calls = null;
            if (item.TryGetProperty("tool_calls", out var toolCalls) && toolCalls.ValueKind != JsonValueKind.Null)
            {
                if (role != ChatMessage.AssistantRole)
                {
                    return OpenAIErrors.BadRequest($"Invalid '{param}.tool_calls': only assistant messages carry tool calls.", $"{param}.tool_calls", "invalid_value");
                }

                if (ToolRequestReader.ReadToolCalls(toolCalls, $"{param}.tool_calls", out var read) is { } callsError)
                {
                    return callsError;
                }

                calls = read.Count > 0 ? read : null;
            }

            string? toolCallId = null;
            if (role == ChatMessage.ToolRole)
            {
                if (!item.TryGetProperty("tool_call_id", out var id) || id.ValueKind != JsonValueKind.String)
                {
                    return OpenAIErrors.BadRequest($"Missing required parameter: '{param}.tool_call_id'.", $"{param}.tool_call_id", "missing_required_parameter");
                }

                toolCallId = id.GetString();
            }

            string? content;
            if (calls is not null && (!item.TryGetProperty("content", out var maybe) || maybe.ValueKind == JsonValueKind.Null))
            {
                content = string.Empty; // an assistant turn that only calls functions
            }
            else if (ReadContent(item, param, out content) is { } contentError)
            {
                return contentError;
            }

            string? name = item.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
            result.Add(new ChatMessage(role!, content!) { ToolCalls = calls, ToolCallId = toolCallId, Name = role == ChatMessage.ToolRole ? name : null });
            index++;
        }

        messages = result;
        return null;
    }

    private static JsonHttpResult<OpenAIErrorResponse>? ReadRole(JsonElement message, string param, out string? role)
    {
        role = null;
        if (!message.TryGetProperty("role", out var value) || value.ValueKind != JsonValueKind.String)
        {
            return OpenAIErrors.BadRequest($"Missing required parameter: '{param}.role'.", $"{param}.role", "missing_required_parameter");
        }

        role = value.GetString() switch
        {
            ChatMessage.SystemRole or "developer" => ChatMessage.SystemRole,
            ChatMessage.UserRole => ChatMessage.UserRole,
            ChatMessage.AssistantRole => ChatMessage.AssistantRole,
            ChatMessage.ToolRole => ChatMessage.ToolRole,
            _ => null,
        };

        return role is not null
            ? null
            : OpenAIErrors.BadRequest(
                $"Invalid '{param}.role': '{value.GetString()}'. This server accepts the roles system, developer, user, assistant and tool (the deprecated 'function' role: use 'tool').",
                $"{param}.role",
                "invalid_value");
    }

    private static JsonHttpResult<OpenAIErrorResponse>? ReadContent(JsonElement message, string param, out string? content)
    {
        content = null;
        if (!message.TryGetProperty("content", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return OpenAIErrors.BadRequest($"Missing required parameter: '{param}.content'.", $"{param}.content", "missing_required_parameter");
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            content = value.GetString();
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            return OpenAIErrors.BadRequest(
                $"Invalid '{param}.content': expected a string or an array of text parts.", $"{param}.content", "invalid_type");
        }

        // Text parts are joined with newlines, as vLLM joins them.
        var text = new StringBuilder();
        var index = 0;
        foreach (var part in value.EnumerateArray())
        {
            var partParam = $"{param}.content[{index}]";
            if (part.ValueKind != JsonValueKind.Object
                || !part.TryGetProperty("type", out var type)
                || type.ValueKind != JsonValueKind.String)
            {
                return OpenAIErrors.BadRequest(
                    $"Invalid '{partParam}': expected an object with 'type' and 'text'.", partParam, "invalid_type");
            }

            if (!type.ValueEquals("text"))
            {
                return OpenAIErrors.BadRequest(
                    $"Invalid '{partParam}.type': '{type.GetString()}'. This server serves a text-only model: only content parts of type 'text' are supported.",
                    $"{partParam}.type",
                    "unsupported_value");
            }

            if (!part.TryGetProperty("text", out var partText) || partText.ValueKind != JsonValueKind.String)
            {
                return OpenAIErrors.BadRequest($"Missing required parameter: '{partParam}.text'.", $"{partParam}.text", "missing_required_parameter");
            }

            if (index > 0)
            {
                text.Append('\n');
            }

            text.Append(partText.GetString());
            index++;
        }

        content = text.ToString();
        return null;
    }
}
