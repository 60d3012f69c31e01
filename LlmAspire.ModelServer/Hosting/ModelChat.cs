using LlmAspire.Inference;
using LlmAspire.Inference.Tokenization;

namespace LlmAspire.ModelServer.Hosting;

/// <summary>
/// How the served model chats: the chat template of its folder (tokenizer_config.json's <c>chat_template</c>, or the
/// plain fallback when it has none) and the template's end-of-turn tokens, or why it cannot chat (a template of no
/// family the server renders). Worked out once, when the model is ready.
/// </summary>
/// <param name="Template">The template; null when <paramref name="Unsupported"/> says why there is none.</param>
/// <param name="StopTokenIds">End-of-turn token ids that end a chat completion besides the model's end-of-sequence ids.</param>
/// <param name="Unsupported">Why the model cannot chat, or null.</param>
internal sealed record ModelChat(ChatTemplate? Template, IReadOnlySet<int> StopTokenIds, string? Unsupported)
{
    public static ModelChat For(LanguageModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Tokenizer is not HuggingFaceTokenizer tokenizer)
        {
            return new ModelChat(ChatTemplate.Plain, new HashSet<int>(), null);
        }

        ChatTemplate template;
        try
        {
            template = ChatTemplate.FromConfig(tokenizer.Config);
        }
        catch (NotSupportedException ex)
        {
            return new ModelChat(null, new HashSet<int>(), $"The model {model.Id} cannot serve chat completions: {ex.Message} Use /v1/completions with a prompt instead.");
        }

        var stopTokens = new HashSet<int>();
        foreach (var token in template.StopTokens)
        {
            if (tokenizer.TryGetTokenId(token, out var id))
            {
                stopTokens.Add(id);
            }
        }

        return new ModelChat(template, stopTokens, null);
    }
}
