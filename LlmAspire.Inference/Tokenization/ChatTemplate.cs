using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace LlmAspire.Inference.Tokenization;

/// <summary>
/// Renders chat messages into a prompt the way a model's <c>chat_template</c> (Jinja, in tokenizer_config.json) does,
/// without a Jinja engine: the template's family is recognised by its markers — ChatML (<c>&lt;|im_start|&gt;</c>),
/// Llama 2 (<c>[INST]</c> with <c>&lt;&lt;SYS&gt;&gt;</c>), Llama 3 (<c>&lt;|start_header_id|&gt;</c>), Phi-3
/// (<c>&lt;|user|&gt;</c>, <c>&lt;|end|&gt;</c>, <c>&lt;|assistant|&gt;</c>), Zephyr (<c>&lt;|user|&gt;</c> closed by the EOS
/// token) — and the published variants of each are told apart by the template text (a default system prompt,
/// Llama 3.1's date header, Phi-3's older always-open assistant turn). A template of none of these families is a
/// <see cref="NotSupportedException"/>, never a guess. No template at all gives <see cref="Plain"/>:
/// <c>"System: …\nUser: …\nAssistant: …\n"</c> lines ending in <c>"Assistant:"</c>.
/// </summary>
/// <remarks>
/// Templates write BOS themselves (as text, such as <c>&lt;s&gt;</c>), so their output is encoded without adding one,
/// as transformers' <c>apply_chat_template</c> does; only <see cref="Plain"/> is encoded after BOS.
/// <see cref="Encode"/> does this right.
/// </remarks>
public sealed partial class ChatTemplate
{
    private const string Llama31DefaultDate = "26 Jul 2024";

    // Python's str.isspace() characters (CPython's _PyUnicode_IsWhitespace), which strip() and Jinja's trim remove.
    private static readonly char[] PythonWhitespace =
    [
        '\t', '\n', '\v', '\f', '\r', '\x1C', '\x1D', '\x1E', '\x1F', ' ', '\x85', '\xA0', '\u1680',
        '\u2000', '\u2001', '\u2002', '\u2003', '\u2004', '\u2005', '\u2006', '\u2007', '\u2008', '\u2009', '\u200A',
        '\u2028', '\u2029', '\u202F', '\u205F', '\u3000',
    ];

    private readonly string _bos;
    private readonly string _eos;
    private readonly Func<IReadOnlyList<ChatMessage>, bool, string> _render;

    private ChatTemplate(ChatTemplateFamily family, string? source, string? bos, string? eos, IReadOnlyList<string> stopTokens, IReadOnlyList<string> stopSequences, Func<ChatTemplate, Func<IReadOnlyList<ChatMessage>, bool, string>> render)
    {
        Family = family;
        Source = source;
        _bos = bos ?? string.Empty;
        _eos = eos ?? string.Empty;
        StopTokens = stopTokens;
        StopSequences = stopSequences;
        _render = render(this);
    }

    /// <summary>The fallback for models without a chat template.</summary>
    public static ChatTemplate Plain { get; } = new(ChatTemplateFamily.Plain, null, null, null, [], ["\nUser:"], static t => t.RenderPlain);

    /// <summary>The recognised family.</summary>
    public ChatTemplateFamily Family { get; }

    /// <summary>The Jinja source it was recognised from (null for <see cref="Plain"/>).</summary>
    public string? Source { get; }

    /// <summary>Whether the rendered prompt is encoded after BOS (only <see cref="Plain"/>: templates write their own).</summary>
    public bool EncodeWithBos => Family == ChatTemplateFamily.Plain;

    /// <summary>Special tokens that end an assistant turn (besides EOS): <c>&lt;|im_end|&gt;</c>, <c>&lt;|eot_id|&gt;</c>, <c>&lt;|end|&gt;</c>.</summary>
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
    /// Recognises <paramref name="template"/> (null or blank: <see cref="Plain"/>). <paramref name="timeProvider"/>
    /// dates Llama 3.2's system header, which shows today's date (default: the system clock).
    /// </summary>
    /// <exception cref="NotSupportedException">The template is of no family this class renders.</exception>
    public static ChatTemplate Parse(string? template, string? bosToken, string? eosToken, TimeProvider? timeProvider = null)
    {
        if (string.IsNullOrWhiteSpace(template))
        {
            return Plain;
        }

        bool Has(string marker) => template.Contains(marker, StringComparison.Ordinal);

        if (Has("<|im_start|>") && Has("<|im_end|>"))
        {
            string? defaultSystem = DefaultSystemPattern().Match(template) is { Success: true } m
                ? m.Groups["text"].Value.Replace("\\n", "\n", StringComparison.Ordinal)
                : null;
            // Qwen1.5 leaves the last turn open unless it adds the generation prompt, and never opens a second assistant turn.
            var variant = new ChatMLVariant(
                defaultSystem,
                LastTurnOpenWithoutPrompt: Has("(loop.last and add_generation_prompt) or not loop.last"),
                NoPromptAfterAssistant: Has("messages[-1]['role'] != 'assistant'"));
            return new ChatTemplate(ChatTemplateFamily.ChatML, template, bosToken, eosToken, ["<|im_end|>"], [], t => (messages, generation) => t.RenderChatML(messages, generation, variant));
        }

        if (Has("<|start_header_id|>") && Has("<|end_header_id|>") && Has("<|eot_id|>"))
        {
            string? date = null;
            if (Has("Cutting Knowledge Date"))
            {
                date = Has("strftime_now")
                    ? (timeProvider ?? TimeProvider.System).GetLocalNow().ToString("dd MMM yyyy", CultureInfo.InvariantCulture)
                    : DateStringPattern().Match(template) is { Success: true } d ? d.Groups["date"].Value : Llama31DefaultDate;
            }

            return new ChatTemplate(ChatTemplateFamily.Llama3, template, bosToken, eosToken, ["<|eot_id|>"], [], t => (messages, generation) => t.RenderLlama3(messages, generation, date));
        }

        if (Has("[INST]") && Has("<<SYS>>"))
        {
            return new ChatTemplate(ChatTemplateFamily.Llama2, template, bosToken, eosToken, eosToken is null ? [] : [eosToken], [], static t => t.RenderLlama2);
        }

        bool genericRoles = Has("'<|' + message['role'] + '|>'");
        if (Has("<|end|>") && Has("<|assistant|>") && (Has("<|user|>") || genericRoles))
        {
            var variant = new Phi3Variant(
                Bos: Has("bos_token"),
                GenerationPromptOption: Has("add_generation_prompt"),
                GenericRoles: genericRoles,
                System: genericRoles || Has("<|system|>"),
                SystemOnlyWhenNonEmpty: Has("'system' and message['content']"),
                NoPromptAfterAssistant: Has("messages[-1]['role'] != 'assistant'"),
                EosWithoutPrompt: Has("eos_token"));
            return new ChatTemplate(ChatTemplateFamily.Phi3, template, bosToken, eosToken, ["<|end|>"], [], t => (messages, generation) => t.RenderPhi3(messages, generation, variant));
        }

        if (Has("<|user|>") && Has("<|assistant|>") && Has("eos_token"))
        {
            return new ChatTemplate(ChatTemplateFamily.Zephyr, template, bosToken, eosToken, eosToken is null ? [] : [eosToken], [], static t => t.RenderZephyr);
        }

        string hint = Has("[INST]") ? " It has [INST] but no <<SYS>> (Mistral's format, which differs from Llama 2's)." : string.Empty;
        string start = template.Length <= 160 ? template : template[..160] + "…";
        throw new NotSupportedException(
            $"The chat_template is of no family we render (ChatML <|im_start|>, Llama 2 [INST]+<<SYS>>, Llama 3 <|start_header_id|>, Phi-3 <|user|>+<|end|>, Zephyr <|user|>+eos_token).{hint} It begins: {start}");
    }

    /// <summary>Renders <paramref name="messages"/>; <paramref name="addGenerationPrompt"/> opens the assistant's turn.</summary>
    /// <exception cref="ArgumentException">A role other than system/user/assistant, or an order the template rejects.</exception>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = true)
    {
        ArgumentNullException.ThrowIfNull(messages);
        foreach (ChatMessage message in messages)
        {
            ArgumentNullException.ThrowIfNull(message, nameof(messages));
            if (message.Role is not (ChatMessage.SystemRole or ChatMessage.UserRole or ChatMessage.AssistantRole))
            {
                throw new ArgumentException($"Chat role '{message.Role}' is not one of system, user, assistant.", nameof(messages));
            }

            ArgumentNullException.ThrowIfNull(message.Content, nameof(messages));
        }

        return _render(messages, addGenerationPrompt);
    }

    /// <summary>
    /// Renders and encodes <paramref name="messages"/> for <paramref name="tokenizer"/>, with BOS only where the
    /// template does not write it; <paramref name="maxTokens"/> bounds the work as in <see cref="ITokenizer.Encode(string, bool, int)"/>.
    /// </summary>
    public int[] Encode(ITokenizer tokenizer, IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = true, int maxTokens = int.MaxValue - 1)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return tokenizer.Encode(Render(messages, addGenerationPrompt), EncodeWithBos, maxTokens);
    }

    private string RenderPlain(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
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

    private string RenderChatML(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, ChatMLVariant variant)
    {
        var text = new StringBuilder();
        if (variant.DefaultSystem is not null && (messages.Count == 0 || messages[0].Role != ChatMessage.SystemRole))
        {
            text.Append("<|im_start|>system\n").Append(variant.DefaultSystem).Append("<|im_end|>\n");
        }

        for (int i = 0; i < messages.Count; i++)
        {
            text.Append("<|im_start|>").Append(messages[i].Role).Append('\n').Append(messages[i].Content);
            if (!(variant.LastTurnOpenWithoutPrompt && i == messages.Count - 1 && !addGenerationPrompt))
            {
                text.Append("<|im_end|>\n");
            }
        }

        bool afterAssistant = messages.Count > 0 && messages[^1].Role == ChatMessage.AssistantRole;
        if (addGenerationPrompt && !(variant.NoPromptAfterAssistant && afterAssistant))
        {
            text.Append("<|im_start|>assistant\n");
        }

        return text.ToString();
    }

    private string RenderLlama2(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        // add_generation_prompt changes nothing: a user turn already ends with [/INST].
        string? system = messages.Count > 0 && messages[0].Role == ChatMessage.SystemRole ? messages[0].Content : null;
        int first = system is null ? 0 : 1;
        var text = new StringBuilder();
        for (int i = first; i < messages.Count; i++)
        {
            ChatMessage message = messages[i];
            if ((message.Role == ChatMessage.UserRole) != ((i - first) % 2 == 0))
            {
                throw new ArgumentException("Conversation roles must alternate user/assistant/user/assistant/...", nameof(messages));
            }

            string content = i == first && system is not null ? "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + message.Content : message.Content;
            if (message.Role == ChatMessage.UserRole)
            {
                text.Append(_bos).Append("[INST] ").Append(PythonStrip(content)).Append(" [/INST]");
            }
            else
            {
                text.Append(' ').Append(PythonStrip(content)).Append(' ').Append(_eos);
            }
        }

        return text.ToString();
    }

    private string RenderLlama3(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, string? date)
    {
        var text = new StringBuilder();
        int first = 0;
        if (date is not null)
        {
            // Llama 3.1+: BOS, then a system header with the knowledge cutoff and date, holding the system message if any.
            string system = string.Empty;
            if (messages.Count > 0 && messages[0].Role == ChatMessage.SystemRole)
            {
                system = PythonStrip(messages[0].Content);
                first = 1;
            }

            text.Append(_bos).Append("<|start_header_id|>system<|end_header_id|>\n\n")
                .Append("Cutting Knowledge Date: December 2023\n")
                .Append("Today Date: ").Append(date).Append("\n\n")
                .Append(system).Append("<|eot_id|>");
        }

        for (int i = first; i < messages.Count; i++)
        {
            if (i == 0 && date is null)
            {
                text.Append(_bos); // Llama 3.0: BOS before the first turn
            }

            text.Append("<|start_header_id|>").Append(messages[i].Role).Append("<|end_header_id|>\n\n")
                .Append(PythonStrip(messages[i].Content)).Append("<|eot_id|>");
        }

        if (addGenerationPrompt)
        {
            text.Append("<|start_header_id|>assistant<|end_header_id|>\n\n");
        }

        return text.ToString();
    }

    private string RenderPhi3(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, Phi3Variant variant)
    {
        var text = new StringBuilder();
        if (variant.Bos)
        {
            text.Append(_bos);
        }

        foreach (ChatMessage message in messages)
        {
            if (!variant.GenerationPromptOption && !variant.GenericRoles)
            {
                // Phi-3's first template: every user turn opens the assistant's turn; system turns only where written.
                if (message.Role == ChatMessage.UserRole)
                {
                    text.Append("<|user|>\n").Append(message.Content).Append("<|end|>\n<|assistant|>\n");
                }
                else if (message.Role == ChatMessage.AssistantRole)
                {
                    text.Append(message.Content).Append("<|end|>\n");
                }
                else if (variant.System)
                {
                    text.Append("<|system|>\n").Append(message.Content).Append("<|end|>\n");
                }

                continue;
            }

            if (message.Role == ChatMessage.SystemRole && (!variant.System || (variant.SystemOnlyWhenNonEmpty && message.Content.Length == 0)))
            {
                continue;
            }

            text.Append("<|").Append(message.Role).Append("|>\n").Append(message.Content).Append("<|end|>\n");
        }

        if (variant.GenerationPromptOption)
        {
            if (addGenerationPrompt)
            {
                if (!(variant.NoPromptAfterAssistant && messages.Count > 0 && messages[^1].Role == ChatMessage.AssistantRole))
                {
                    text.Append("<|assistant|>\n");
                }
            }
            else if (variant.EosWithoutPrompt)
            {
                text.Append(_eos);
            }
        }

        return text.ToString();
    }

    private string RenderZephyr(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        var text = new StringBuilder();
        foreach (ChatMessage message in messages)
        {
            text.Append("<|").Append(message.Role).Append("|>\n").Append(message.Content).Append(_eos).Append('\n');
        }

        if (addGenerationPrompt && messages.Count > 0)
        {
            text.Append("<|assistant|>\n");
        }

        return text.ToString();
    }

    /// <summary>Python's <c>str.strip()</c> (and Jinja's <c>trim</c>): Unicode whitespace off both ends.</summary>
    private static string PythonStrip(string text) => text.Trim(PythonWhitespace);

    [GeneratedRegex(@"<\|im_start\|>system(?:\\n|\n)(?<text>(?:(?!<\|im_end\|>)[^'""{}])+)<\|im_end\|>")]
    private static partial Regex DefaultSystemPattern();

    [GeneratedRegex(@"set date_string = ""(?<date>[^""]+)""")]
    private static partial Regex DateStringPattern();

    private sealed record ChatMLVariant(string? DefaultSystem, bool LastTurnOpenWithoutPrompt, bool NoPromptAfterAssistant);

    private sealed record Phi3Variant(bool Bos, bool GenerationPromptOption, bool GenericRoles, bool System, bool SystemOnlyWhenNonEmpty, bool NoPromptAfterAssistant, bool EosWithoutPrompt);
}
