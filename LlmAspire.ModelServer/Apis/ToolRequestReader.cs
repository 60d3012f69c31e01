using System.Text.Json;
using System.Text.RegularExpressions;
using LlmAspire.Inference.Constraints;
using LlmAspire.Inference.Tokenization;
using LlmAspire.Inference.Tools;
using LlmAspire.OpenAIApi.Errors;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LlmAspire.ModelServer.Apis;

/// <summary>
/// Reads OpenAI's function-calling fields of a chat request: <c>tools</c> (functions only; each name
/// <c>^[a-zA-Z0-9_-]{1,64}$</c>, unique, its <c>parameters</c> a JSON Schema the grammar engine compiles — an
/// unsupported keyword is named in the 400), <c>tool_choice</c> (<c>none</c>, <c>auto</c>, <c>required</c> or a
/// function of <c>tools</c>) and <c>parallel_tool_calls</c>; and the calls of assistant turns in the history.
/// </summary>
internal static partial class ToolRequestReader
{
    public static JsonHttpResult<OpenAIErrorResponse>? ReadTools(JsonElement? value, out IReadOnlyList<ChatTool> tools)
    {
        tools = [];
        if (value is null or { ValueKind: JsonValueKind.Null })
        {
            return null;
        }

        if (value.Value.ValueKind != JsonValueKind.Array)
        {
            return OpenAIErrors.BadRequest("Invalid 'tools': expected an array of tools.", "tools", "invalid_type");
        }

        var list = new List<ChatTool>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        int index = 0;
        foreach (JsonElement tool in value.Value.EnumerateArray())
        {
            string param = $"tools[{index}]";
            if (tool.ValueKind != JsonValueKind.Object || !tool.TryGetProperty("type", out JsonElement type) || type.ValueKind != JsonValueKind.String)
            {
                return OpenAIErrors.BadRequest($"Invalid '{param}': expected an object with 'type' and 'function'.", param, "invalid_type");
            }

            if (!type.ValueEquals("function"))
            {
                return OpenAIErrors.BadRequest($"Invalid '{param}.type': '{type.GetString()}'. This server supports tools of type 'function' only.", $"{param}.type", "unsupported_value");
            }

            if (!tool.TryGetProperty("function", out JsonElement function) || function.ValueKind != JsonValueKind.Object)
            {
                return OpenAIErrors.BadRequest($"Missing required parameter: '{param}.function'.", $"{param}.function", "missing_required_parameter");
            }

            if (ReadFunction(function, $"{param}.function", out ChatTool? read) is { } error)
            {
                return error;
            }

            if (!names.Add(read!.Name))
            {
                return OpenAIErrors.BadRequest($"Invalid '{param}.function.name': the function name '{read.Name}' is used twice.", $"{param}.function.name", "invalid_value");
            }

            list.Add(read);
            index++;
        }

        tools = list;
        return null;
    }

    /// <summary>A function's <c>name</c>, <c>description</c>, <c>parameters</c> and <c>strict</c> (also the Responses API's flat tool shape).</summary>
    public static JsonHttpResult<OpenAIErrorResponse>? ReadFunction(JsonElement function, string param, out ChatTool? tool)
    {
        tool = null;
        if (!function.TryGetProperty("name", out JsonElement name) || name.ValueKind != JsonValueKind.String)
        {
            return OpenAIErrors.BadRequest($"Missing required parameter: '{param}.name'.", $"{param}.name", "missing_required_parameter");
        }

        if (!NamePattern().IsMatch(name.GetString()!))
        {
            return OpenAIErrors.BadRequest(
                $"Invalid '{param}.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]{{1,64}}$'.", $"{param}.name", "invalid_value");
        }

        string? description = null;
        if (function.TryGetProperty("description", out JsonElement d) && d.ValueKind != JsonValueKind.Null)
        {
            if (d.ValueKind != JsonValueKind.String)
            {
                return OpenAIErrors.BadRequest($"Invalid '{param}.description': expected a string.", $"{param}.description", "invalid_type");
            }

            description = d.GetString();
        }

        string? parameters = null;
        if (function.TryGetProperty("parameters", out JsonElement p) && p.ValueKind != JsonValueKind.Null)
        {
            if (p.ValueKind != JsonValueKind.Object)
            {
                return OpenAIErrors.BadRequest($"Invalid '{param}.parameters': expected a JSON Schema object.", $"{param}.parameters", "invalid_type");
            }

            if (p.TryGetProperty("type", out JsonElement schemaType) && !(schemaType.ValueKind == JsonValueKind.String && schemaType.ValueEquals("object")))
            {
                return OpenAIErrors.BadRequest($"Invalid '{param}.parameters': a function's parameters must be a JSON Schema of type 'object'.", $"{param}.parameters", "invalid_value");
            }

            parameters = p.GetRawText();
            try
            {
                JsonSchemaGrammar.FromSchema(p);
            }
            catch (GrammarException ex)
            {
                return OpenAIErrors.BadRequest($"Invalid '{param}.parameters': {ex.Message}", $"{param}.parameters", "invalid_value");
            }
        }

        bool strict = function.TryGetProperty("strict", out JsonElement s) && s.ValueKind == JsonValueKind.True;
        tool = new ChatTool(name.GetString()!, description, parameters, strict);
        return null;
    }

    public static JsonHttpResult<OpenAIErrorResponse>? ReadToolChoice(JsonElement? value, IReadOnlyList<ChatTool> tools, out ToolChoice choice)
    {
        choice = tools.Count > 0 ? ToolChoice.Auto : ToolChoice.None;
        if (value is null or { ValueKind: JsonValueKind.Null })
        {
            return null;
        }

        JsonElement v = value.Value;
        if (v.ValueKind == JsonValueKind.String)
        {
            switch (v.GetString())
            {
                case "none":
                    choice = ToolChoice.None;
                    return null;
                case "auto":
                    choice = ToolChoice.Auto;
                    break;
                case "required":
                    choice = ToolChoice.Required;
                    break;
                default:
                    return OpenAIErrors.BadRequest(
                        $"Invalid 'tool_choice': '{v.GetString()}'. Expected 'none', 'auto', 'required' or an object naming a function.", "tool_choice", "invalid_value");
            }
        }
        else if (v.ValueKind == JsonValueKind.Object
                 && v.TryGetProperty("function", out JsonElement f) && f.ValueKind == JsonValueKind.Object
                 && f.TryGetProperty("name", out JsonElement n) && n.ValueKind == JsonValueKind.String)
        {
            string name = n.GetString()!;
            if (!tools.Any(t => t.Name == name))
            {
                return OpenAIErrors.BadRequest(
                    $"Invalid 'tool_choice': function '{name}' is not among the request's tools.", "tool_choice.function.name", "invalid_value");
            }

            choice = ToolChoice.Named(name);
        }
        else
        {
            return OpenAIErrors.BadRequest(
                "Invalid 'tool_choice': expected 'none', 'auto', 'required' or {\"type\": \"function\", \"function\": {\"name\": …}}.", "tool_choice", "invalid_type");
        }

        if (tools.Count == 0)
        {
            return OpenAIErrors.BadRequest("Invalid 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.", "tool_choice", "invalid_value");
        }

        return null;
    }

    /// <summary>The <c>tool_calls</c> of an assistant turn.</summary>
    public static JsonHttpResult<OpenAIErrorResponse>? ReadToolCalls(JsonElement value, string param, out IReadOnlyList<ChatToolCall> calls)
    {
        calls = [];
        if (value.ValueKind != JsonValueKind.Array)
        {
            return OpenAIErrors.BadRequest($"Invalid '{param}': expected an array of tool calls.", param, "invalid_type");
        }

        var list = new List<ChatToolCall>();
        int index = 0;
        foreach (JsonElement call in value.EnumerateArray())
        {
            string p = $"{param}[{index++}]";
            if (call.ValueKind != JsonValueKind.Object
                || !call.TryGetProperty("id", out JsonElement id) || id.ValueKind != JsonValueKind.String)
            {
                return OpenAIErrors.BadRequest($"Missing required parameter: '{p}.id'.", $"{p}.id", "missing_required_parameter");
            }

            if (!call.TryGetProperty("function", out JsonElement function) || function.ValueKind != JsonValueKind.Object
                || !function.TryGetProperty("name", out JsonElement name) || name.ValueKind != JsonValueKind.String)
            {
                return OpenAIErrors.BadRequest($"Missing required parameter: '{p}.function.name'.", $"{p}.function.name", "missing_required_parameter");
            }

            if (!function.TryGetProperty("arguments", out JsonElement arguments) || arguments.ValueKind != JsonValueKind.String)
            {
                return OpenAIErrors.BadRequest($"Missing required parameter: '{p}.function.arguments' (a JSON string).", $"{p}.function.arguments", "missing_required_parameter");
            }

            list.Add(new ChatToolCall(id.GetString()!, name.GetString()!, arguments.GetString()!));
        }

        calls = list;
        return null;
    }

    [GeneratedRegex("^[a-zA-Z0-9_-]{1,64}$")]
    private static partial Regex NamePattern();
}
