using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LlmAspire.Inference.Tokenization;

namespace LlmAspire.Inference.Tools;

/// <summary>
/// How a model is told about functions and how it calls them, recognised from its chat template: Hermes/Qwen
/// (<c>&lt;tool_call&gt;</c>), Llama 3.1/3.2 (JSON calls; <c>&lt;|python_tag|&gt;</c>), Mistral (<c>[TOOL_CALLS]</c>) and
/// Phi-4-mini (<c>&lt;|tool|&gt;</c> … <c>functools[…]</c>). Where the template renders <c>tools</c> itself the functions
/// and the tool turns go to it as they are. A model with no tool format of its own — no template, or one that never
/// mentions tools — gets the <see cref="Generic"/> format: the functions described in the system message (see
/// <see cref="GenericInstructions"/>), calls written as Hermes blocks, earlier calls shown as those blocks in the
/// assistant's turns and tool results as <c>&lt;tool_response&gt;</c> blocks in user turns.
/// </summary>
public sealed record ToolCallFormat(string Name, ToolCallSyntax Syntax, bool TemplateRendersTools)
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ChatTemplate, ToolCallFormat> s_formats = new();

    /// <summary>The instructions the generic format adds to the system message, before the functions (one JSON object per line).</summary>
    public const string GenericInstructions =
        "# Tools\nYou may call these functions (JSON signatures):\n";

    /// <summary>How the generic format asks for calls, after the functions.</summary>
    public const string GenericCallInstructions =
        "\nTo call one, answer with a block per call:\n<tool_call>\n{\"name\": <name>, \"arguments\": <object>}\n</tool_call>";

    /// <summary>The format of models with no tool format of their own.</summary>
    public static ToolCallFormat Generic { get; } = new("generic", ToolCallSyntax.Hermes, false);

    /// <summary>
    /// Whether the functions' description may go in a system turn; false for templates that refuse system turns
    /// (Gemma 2), where it opens the first user turn instead.
    /// </summary>
    public bool SystemTurn { get; init; } = true;

    /// <summary>The format <paramref name="template"/> implies (null or a template with no tool markers: <see cref="Generic"/>), worked out once per template.</summary>
    public static ToolCallFormat For(ChatTemplate? template) =>
        template is null ? Generic : s_formats.GetValue(template, static t => Recognise(t) with { SystemTurn = AcceptsSystemTurn(t) });

    private static bool AcceptsSystemTurn(ChatTemplate template)
    {
        try
        {
            template.Render([ChatMessage.System("s"), ChatMessage.User("u")]);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static ToolCallFormat Recognise(ChatTemplate? template)
    {
        string? source = template?.Source;
        if (string.IsNullOrEmpty(source))
        {
            return Generic;
        }

        bool Has(string marker) => source.Contains(marker, StringComparison.Ordinal);
        bool rendersTools = template!.RendersTools;
        if (Has("<tool_call>"))
        {
            return new ToolCallFormat("hermes", ToolCallSyntax.Hermes, rendersTools);
        }

        if (Has("[TOOL_CALLS]"))
        {
            return new ToolCallFormat("mistral", ToolCallSyntax.Mistral, rendersTools);
        }

        if (Has("<|python_tag|>") || (Has("<|start_header_id|>") && Has("ipython")))
        {
            return new ToolCallFormat("llama3_json", ToolCallSyntax.Llama3Json, rendersTools);
        }

        if (Has("<|tool|>"))
        {
            // Phi-4-mini reads the functions from the system message's own "tools" field, which our messages lack:
            // they are written into its content the way the template would write them.
            return new ToolCallFormat("phi4_mini", ToolCallSyntax.Phi4Mini, false);
        }

        return Generic;
    }

    /// <summary>A parser for answers in this format.</summary>
    public ChatOutputParser CreateParser() => new ToolCallParser(Syntax);

    /// <summary>
    /// The conversation and functions to render: as they are where the template renders tools (Mistral's call ids
    /// shortened to the nine letters and digits its template demands); otherwise the functions described in the
    /// system message and calls and results written as text in this format.
    /// </summary>
    public (IReadOnlyList<ChatMessage> Messages, IReadOnlyList<ChatTool>? Tools) Adapt(IReadOnlyList<ChatMessage> messages, IReadOnlyList<ChatTool> tools)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(tools);
        bool hasToolTurns = messages.Any(m => m.ToolCalls is { Count: > 0 } || m.Role == ChatMessage.ToolRole);
        if (tools.Count == 0 && !hasToolTurns)
        {
            return (messages, null);
        }

        if (TemplateRendersTools)
        {
            return (Syntax == ToolCallSyntax.Mistral ? [.. messages.Select(ShortenIds)] : messages, tools.Count > 0 ? tools : null);
        }

        var result = new List<ChatMessage>();
        string? description = tools.Count > 0 ? Describe(tools) : null;
        int first = 0;
        if (description is not null && !SystemTurn)
        {
            // No system turn: the description opens the first user turn (a system message, if any, is refused by the template as it would be without tools).
            int user = messages.ToList().FindIndex(m => m.Role == ChatMessage.UserRole);
            if (user >= 0)
            {
                messages = [.. messages.Take(user), ChatMessage.User(description + "\n\n" + messages[user].Content), .. messages.Skip(user + 1)];
                description = null;
            }
        }

        if (description is not null)
        {
            if (messages.Count > 0 && messages[0].Role == ChatMessage.SystemRole)
            {
                string content = messages[0].Content;
                result.Add(ChatMessage.System(content.Length == 0 ? description : content + "\n\n" + description));
                first = 1;
            }
            else
            {
                result.Add(ChatMessage.System(description));
            }
        }

        for (int i = first; i < messages.Count; i++)
        {
            ChatMessage message = messages[i];
            if (message.Role == ChatMessage.ToolRole)
            {
                // Consecutive results go in one user turn, as Qwen's template groups them.
                var text = new StringBuilder();
                for (; i < messages.Count && messages[i].Role == ChatMessage.ToolRole; i++)
                {
                    text.Append(text.Length == 0 ? string.Empty : "\n").Append("<tool_response>\n").Append(messages[i].Content).Append("\n</tool_response>");
                }

                i--;
                result.Add(ChatMessage.User(text.ToString()));
            }
            else if (message.ToolCalls is { Count: > 0 } calls)
            {
                string written = WriteCalls(calls);
                result.Add(ChatMessage.Assistant(message.Content.Length == 0 ? written : message.Content + "\n" + written));
            }
            else
            {
                result.Add(message);
            }
        }

        return (result, null);
    }

    private string Describe(IReadOnlyList<ChatTool> tools)
    {
        var signatures = new StringBuilder();
        foreach (ChatTool tool in tools)
        {
            signatures.Append(signatures.Length == 0 ? string.Empty : "\n").Append(Signature(tool));
        }

        return Syntax == ToolCallSyntax.Phi4Mini
            ? "<|tool|>[" + signatures.Replace("\n", ", ") + "]<|/tool|>"
            : GenericInstructions + signatures + GenericCallInstructions;
    }

    /// <summary>A function as JSON: <c>{"name","description","parameters"}</c> (Phi-4-mini's own shape; compact for the generic format).</summary>
    private static string Signature(ChatTool tool)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString("name", tool.Name);
            if (tool.Description is not null)
            {
                writer.WriteString("description", tool.Description);
            }

            if (tool.Parameters is not null)
            {
                writer.WritePropertyName("parameters");
                using var parameters = JsonDocument.Parse(tool.Parameters);
                parameters.RootElement.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private string WriteCalls(IReadOnlyList<ChatToolCall> calls)
    {
        IEnumerable<string> objects = calls.Select(c => $"{{\"name\": {JsonSerializer.Serialize(c.Name, ToolJsonContext.Default.String)}, \"arguments\": {ArgumentsJson(c.Arguments)}}}");
        return Syntax == ToolCallSyntax.Phi4Mini
            ? "functools[" + string.Join(", ", objects) + "]"
            : string.Join("\n", objects.Select(o => "<tool_call>\n" + o + "\n</tool_call>"));
    }

    /// <summary>The arguments as JSON: the text itself when it is JSON, else the text as a JSON string.</summary>
    private static string ArgumentsJson(string arguments)
    {
        try
        {
            using var document = JsonDocument.Parse(arguments);
            return arguments;
        }
        catch (JsonException)
        {
            return JsonSerializer.Serialize(arguments, ToolJsonContext.Default.String);
        }
    }

    private static ChatMessage ShortenIds(ChatMessage message) => message switch
    {
        { ToolCalls: { Count: > 0 } calls } => message with { ToolCalls = [.. calls.Select(c => c with { Id = MistralId(c.Id) })] },
        { ToolCallId: { } id } => message with { ToolCallId = MistralId(id) },
        _ => message,
    };

    /// <summary>Nine letters and digits derived from <paramref name="id"/> (Mistral's templates refuse other ids).</summary>
    internal static string MistralId(string id)
    {
        if (id.Length == 9 && id.All(char.IsAsciiLetterOrDigit))
        {
            return id;
        }

        const string Alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(id));
        return new string([.. hash.Take(9).Select(b => Alphabet[b % Alphabet.Length])]);
    }
}
