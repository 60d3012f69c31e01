using System.Text;
using LlmAspire.Inference.Tokenization;

namespace LlmAspire.Inference.Tools;

/// <summary>
/// Reads one assistant answer as it is generated and splits it into content and function calls. Feed it the
/// answer's text in pieces (<see cref="Push"/>), then <see cref="Finish"/>; each returns the events the new text
/// settles (text that may still turn out to open a call is held back until it is settled). After
/// <see cref="Finish"/>, <see cref="Content"/> and <see cref="ToolCalls"/> hold the whole message. This base class
/// is the one for answers without tools: everything is content.
/// </summary>
public class ChatOutputParser
{
    private readonly StringBuilder _content = new();
    private readonly List<ChatToolCall> _calls = [];

    /// <summary>The message's content so far (null when the message is only calls).</summary>
    public string? Content => _content.Length == 0 && _calls.Count > 0 ? null : _content.ToString();

    /// <summary>The calls read so far.</summary>
    public IReadOnlyList<ChatToolCall> ToolCalls => _calls;

    /// <summary>Reads more of the answer.</summary>
    public virtual IReadOnlyList<ChatOutputEvent> Push(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0)
        {
            return [];
        }

        _content.Append(text);
        return [new ContentDelta(text)];
    }

    /// <summary>Ends the answer: settles whatever was held back.</summary>
    public virtual IReadOnlyList<ChatOutputEvent> Finish() => [];

    /// <summary>Records content the subclass settled.</summary>
    protected void AddContent(string text) => _content.Append(text);

    /// <summary>Records a call the subclass settled.</summary>
    protected void AddCall(ChatToolCall call) => _calls.Add(call);
}
