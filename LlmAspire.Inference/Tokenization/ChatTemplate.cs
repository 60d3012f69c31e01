using System.Text;
using System.Text.Json;
using LlmAspire.Inference.Tokenization.Jinja;

namespace LlmAspire.Inference.Tokenization;

/// <summary>
/// Renders chat messages into a prompt with a model's <c>chat_template</c> (Jinja, in tokenizer_config.json), through
/// <see cref="JinjaTemplate"/>: the same text transformers' <c>apply_chat_template</c> and transformers.js produce,
/// tool definitions and tool calls included. A template the interpreter cannot load is a
/// <see cref="NotSupportedException"/> naming the construct and its line. No template at all gives
/// <see cref="Plain"/>: <c>"System: …\nUser: …\nAssistant: …\n"</c> lines ending in <c>"Assistant:"</c>.
/// </summary>
/// <remarks>
/// Templates write BOS themselves (as text, such as <c>&lt;s&gt;</c>), so their output is encoded without adding one,
/// as transformers' <c>apply_chat_template</c> does; only <see cref="Plain"/> is encoded after BOS.
/// <see cref="Encode"/> does this right.
/// </remarks>
public sealed class ChatTemplate
{
    // Markers of the end of a turn in the published templates; one the template writes is a stop token.
    private static readonly string[] TurnEndMarkers = ["<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<|end|>", "<end_of_turn>"];

    private static readonly string[] KnownRoles = [ChatMessage.SystemRole, ChatMessage.UserRole, ChatMessage.AssistantRole, ChatMessage.ToolRole];

    private readonly JinjaTemplate? _jinja;
    private readonly string? _bos;
    private readonly string? _eos;
    private readonly TimeProvider _clock;

    private ChatTemplate(JinjaTemplate? jinja, string? bos, string? eos, IReadOnlyList<string> stopTokens, IReadOnlyList<string> stopSequences, TimeProvider clock)
    {
        _jinja = jinja;
        _bos = bos;
        _eos = eos;
        _clock = clock;
        StopTokens = stopTokens;
        StopSequences = stopSequences;
    }

    /// <summary>The fallback for models without a chat template.</summary>
    public static ChatTemplate Plain { get; } = new(null, null, null, [], ["\nUser:"], TimeProvider.System);

    /// <summary>The Jinja source (null for <see cref="Plain"/>).</summary>
    public string? Source => _jinja?.Source;

    /// <summary>Whether the rendered prompt is encoded after BOS (only <see cref="Plain"/>: templates write their own).</summary>
    public bool EncodeWithBos => _jinja is null;

    /// <summary>
    /// Whether the template reads the <c>tools</c> variable, so that it writes the tool definitions and tool turns
    /// itself; otherwise the caller describes tools in a system message and sends tool results as user turns.
    /// </summary>
    public bool RendersTools => _jinja?.ReadsVariable("tools") ?? false;

    /// <summary>
    /// Special tokens that end an assistant turn (besides EOS): those of <c>&lt;|im_end|&gt;</c>, <c>&lt;|eot_id|&gt;</c>,
    /// <c>&lt;|eom_id|&gt;</c>, <c>&lt;|end|&gt;</c>, <c>&lt;end_of_turn&gt;</c> the template writes, or else its EOS token
    /// when it closes turns with <c>eos_token</c> (Llama 2, Mistral, Zephyr).
    /// </summary>
    public IReadOnlyList<string> StopTokens { get; }

    /// <summary>Plain-text sequences that end an assistant turn (<see cref="Plain"/>: a new "User:" line).</summary>
    public IReadOnlyList<string> StopSequences { get; }

    /// <summary>The template of a tokenizer_config.json (with its BOS and EOS names), or <see cref="Plain"/> when it has none.</summary>
    public static ChatTemplate FromConfig(TokenizerConfig config, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Parse(config.ChatTemplate, config.BosToken, config.EosToken, timeProvider);
    }

    /// <summary>
    /// Loads <paramref name="template"/> (null or blank: <see cref="Plain"/>). <paramref name="timeProvider"/> answers
    /// the template's <c>strftime_now</c> (Llama 3.2 dates its system header; default: the system clock).
    /// </summary>
    /// <exception cref="NotSupportedException">The template uses a construct the interpreter does not implement, or has a syntax error (<see cref="JinjaTemplateException"/>).</exception>
    public static ChatTemplate Parse(string? template, string? bosToken, string? eosToken, TimeProvider? timeProvider = null)
    {
        if (string.IsNullOrWhiteSpace(template))
        {
            return Plain;
        }

        JinjaTemplate jinja = JinjaTemplate.Parse(template);
        List<string> stopTokens = [.. TurnEndMarkers.Where(marker => template.Contains(marker, StringComparison.Ordinal))];
        if (stopTokens.Count == 0 && eosToken is not null && jinja.ReadsVariable("eos_token"))
        {
            stopTokens.Add(eosToken);
        }

        return new ChatTemplate(jinja, bosToken, eosToken, stopTokens, [], timeProvider ?? TimeProvider.System);
    }

    /// <summary>
    /// Renders <paramref name="messages"/> with the functions <paramref name="tools"/> (null or empty: none);
    /// <paramref name="addGenerationPrompt"/> opens the assistant's turn.
    /// </summary>
    /// <exception cref="ArgumentException">A role other than system/user/assistant/tool, or a conversation the template refuses (its <c>raise_exception</c>).</exception>
    public string Render(IReadOnlyList<ChatMessage> messages, IReadOnlyList<ChatTool>? tools = null, bool addGenerationPrompt = true)
    {
        ArgumentNullException.ThrowIfNull(messages);
        foreach (ChatMessage message in messages)
        {
            ArgumentNullException.ThrowIfNull(message, nameof(messages));
            if (!KnownRoles.Contains(message.Role))
            {
                throw new ArgumentException($"Chat role '{message.Role}' is not one of system, user, assistant, tool.", nameof(messages));
            }

            ArgumentNullException.ThrowIfNull(message.Content, nameof(messages));
        }

        if (_jinja is null)
        {
            return RenderPlain(messages, addGenerationPrompt);
        }

        return _jinja.Render(Context(messages, tools, addGenerationPrompt), _clock);
    }

    /// <summary>
    /// Renders and encodes <paramref name="messages"/> for <paramref name="tokenizer"/>, with BOS only where the
    /// template does not write it; <paramref name="maxTokens"/> bounds the work as in <see cref="ITokenizer.Encode(string, bool, int)"/>.
    /// </summary>
    public int[] Encode(ITokenizer tokenizer, IReadOnlyList<ChatMessage> messages, IReadOnlyList<ChatTool>? tools = null, bool addGenerationPrompt = true, int maxTokens = int.MaxValue - 1)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return tokenizer.Encode(Render(messages, tools, addGenerationPrompt), EncodeWithBos, maxTokens);
    }

    /// <summary>
    /// The variables transformers' <c>apply_chat_template</c> gives a template: <c>messages</c> (OpenAI's shape, with
    /// call arguments parsed into objects), <c>tools</c> (or none), <c>add_generation_prompt</c>, <c>bos_token</c>, <c>eos_token</c>.
    /// </summary>
    private Dictionary<string, JinjaValue> Context(IReadOnlyList<ChatMessage> messages, IReadOnlyList<ChatTool>? tools, bool addGenerationPrompt)
    {
        var list = new List<JinjaValue>(messages.Count);
        foreach (ChatMessage message in messages)
        {
            var entries = new OrderedDictionary<string, JinjaValue>(StringComparer.Ordinal)
            {
                ["role"] = JinjaValue.From(message.Role),
                ["content"] = JinjaValue.From(message.Content),
            };
            if (message.ToolCalls is { } calls)
            {
                var callValues = new List<JinjaValue>(calls.Count);
                foreach (ChatToolCall call in calls)
                {
                    callValues.Add(Object(
                        ("id", JinjaValue.From(call.Id)),
                        ("type", JinjaValue.From("function")),
                        ("function", Object(("name", JinjaValue.From(call.Name)), ("arguments", ParseJsonOrString(call.Arguments))))));
                }

                entries["tool_calls"] = JinjaValue.FromList(callValues);
            }

            if (message.ToolCallId is not null)
            {
                entries["tool_call_id"] = JinjaValue.From(message.ToolCallId);
            }

            if (message.Name is not null)
            {
                entries["name"] = JinjaValue.From(message.Name);
            }

            list.Add(JinjaValue.FromObject(entries));
        }

        var context = new Dictionary<string, JinjaValue>(StringComparer.Ordinal)
        {
            ["messages"] = JinjaValue.FromList(list),
            ["tools"] = tools is { Count: > 0 } ? JinjaValue.FromList([.. tools.Select(ToolValue)]) : JinjaValue.Null,
            ["add_generation_prompt"] = JinjaValue.From(addGenerationPrompt),
        };
        if (_bos is not null)
        {
            context["bos_token"] = JinjaValue.From(_bos);
        }

        if (_eos is not null)
        {
            context["eos_token"] = JinjaValue.From(_eos);
        }

        return context;
    }

    private static JinjaValue ToolValue(ChatTool tool)
    {
        var function = new OrderedDictionary<string, JinjaValue>(StringComparer.Ordinal) { ["name"] = JinjaValue.From(tool.Name) };
        if (tool.Description is not null)
        {
            function["description"] = JinjaValue.From(tool.Description);
        }

        if (tool.Parameters is not null)
        {
            function["parameters"] = ParseJsonOrString(tool.Parameters);
        }

        return Object(("type", JinjaValue.From("function")), ("function", JinjaValue.FromObject(function)));
    }

    private static JinjaValue Object(params (string Key, JinjaValue Value)[] entries)
    {
        var map = new OrderedDictionary<string, JinjaValue>(entries.Length, StringComparer.Ordinal);
        foreach ((string key, JinjaValue value) in entries)
        {
            map[key] = value;
        }

        return JinjaValue.FromObject(map);
    }

    /// <summary>JSON text as a value (how vLLM and transformers pass call arguments), or the text itself when it is not JSON.</summary>
    private static JinjaValue ParseJsonOrString(string text)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(text);
            return JinjaJson.FromJson(document.RootElement);
        }
        catch (JsonException)
        {
            return JinjaValue.From(text);
        }
    }

    private static string RenderPlain(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        var text = new StringBuilder();
        foreach (ChatMessage message in messages)
        {
            string role = message.Role switch
            {
                ChatMessage.SystemRole => "System",
                ChatMessage.UserRole => "User",
                _ => "Assistant",
            };
            text.Append(role).Append(": ").Append(message.Content).Append('\n');
        }

        if (addGenerationPrompt)
        {
            text.Append("Assistant:");
        }

        return text.ToString();
    }
}
