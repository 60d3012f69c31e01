namespace LlmAspire.Inference.Tokenization;

/// <summary>
/// How a model chats: its folder's chat template (tokenizer_config.json's <c>chat_template</c>, or the plain fallback
/// when it has none), the end-of-turn tokens that end an answer besides the end-of-sequence ids, and the stop
/// strings the template implies — or why it cannot chat (a template using a construct the Jinja interpreter does not
/// implement, named with its line). Worked out once, when the model loads.
/// </summary>
public sealed class ChatRenderer
{
    private readonly ITokenizer _tokenizer;

    private ChatRenderer(ITokenizer tokenizer, ChatTemplate? template, IReadOnlySet<int> stopTokenIds, string? unsupportedReason)
    {
        _tokenizer = tokenizer;
        Template = template;
        StopTokenIds = stopTokenIds;
        UnsupportedReason = unsupportedReason;
    }

    /// <summary>The template; null when <see cref="UnsupportedReason"/> says why there is none.</summary>
    public ChatTemplate? Template { get; }

    /// <summary>Whether the model can render a conversation at all.</summary>
    public bool CanChat => Template is not null;

    /// <summary>Why the model cannot chat (the template's construct that is not understood), or null.</summary>
    public string? UnsupportedReason { get; }

    /// <summary>End-of-turn token ids that end an answer besides the model's end-of-sequence ids.</summary>
    public IReadOnlySet<int> StopTokenIds { get; }

    /// <summary>Stop strings the template implies (e.g. the plain template's <c>"\nUser:"</c>).</summary>
    public IReadOnlyList<string> StopSequences => Template?.StopSequences ?? [];

    /// <summary>
    /// Renders <paramref name="messages"/> with the generation prompt and encodes them, stopping past
    /// <paramref name="maxTokens"/> like <see cref="ITokenizer.Encode(string, bool, int)"/>.
    /// </summary>
    /// <exception cref="NotSupportedException">The model cannot chat (<see cref="UnsupportedReason"/>).</exception>
    /// <exception cref="ArgumentException">The template refuses the conversation, e.g. roles that do not alternate.</exception>
    public int[] Render(IReadOnlyList<ChatMessage> messages, int maxTokens) => Render(messages, null, maxTokens);

    /// <summary>
    /// Renders <paramref name="messages"/> and the functions <paramref name="tools"/> (null: none; pass them only
    /// when <see cref="ChatTemplate.RendersTools"/>) with the generation prompt and encodes them, stopping past
    /// <paramref name="maxTokens"/> like <see cref="ITokenizer.Encode(string, bool, int)"/>.
    /// </summary>
    /// <exception cref="NotSupportedException">The model cannot chat (<see cref="UnsupportedReason"/>).</exception>
    /// <exception cref="ArgumentException">The template refuses the conversation, e.g. roles that do not alternate.</exception>
    public int[] Render(IReadOnlyList<ChatMessage> messages, IReadOnlyList<ChatTool>? tools, int maxTokens)
    {
        var template = Template ?? throw new NotSupportedException(UnsupportedReason);
        return template.Encode(_tokenizer, messages, tools, addGenerationPrompt: true, maxTokens);
    }

    /// <summary>The renderer for <paramref name="tokenizer"/>'s configuration (the plain template when it has none).</summary>
    public static ChatRenderer For(ITokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (tokenizer.Config is not { } config)
        {
            return new ChatRenderer(tokenizer, ChatTemplate.Plain, new HashSet<int>(), null);
        }

        ChatTemplate template;
        try
        {
            template = ChatTemplate.FromConfig(config);
        }
        catch (NotSupportedException ex)
        {
            return new ChatRenderer(tokenizer, null, new HashSet<int>(), ex.Message);
        }

        var stopTokens = new HashSet<int>();
        foreach (var token in template.StopTokens)
        {
            if (tokenizer.TryGetTokenId(token, out var id))
            {
                stopTokens.Add(id);
            }
        }

        return new ChatRenderer(tokenizer, template, stopTokens, null);
    }
}
