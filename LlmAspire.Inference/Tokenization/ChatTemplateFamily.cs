namespace LlmAspire.Inference.Tokenization;

/// <summary>The chat formats <see cref="ChatTemplate"/> renders.</summary>
public enum ChatTemplateFamily
{
    /// <summary>No chat_template: "System: …\nUser: …\nAssistant:" lines, encoded after BOS.</summary>
    Plain,

    /// <summary><c>&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n</c> (Qwen, many fine-tunes).</summary>
    ChatML,

    /// <summary><c>&lt;s&gt;[INST] &lt;&lt;SYS&gt;&gt;…&lt;&lt;/SYS&gt;&gt; … [/INST]</c> (Llama 2 chat).</summary>
    Llama2,

    /// <summary><c>&lt;|start_header_id|&gt;role&lt;|end_header_id|&gt;\n\ncontent&lt;|eot_id|&gt;</c> (Llama 3, 3.1, 3.2).</summary>
    Llama3,

    /// <summary><c>&lt;|user|&gt;\ncontent&lt;|end|&gt;\n</c> (Phi-3, Phi-3.5).</summary>
    Phi3,

    /// <summary><c>&lt;|user|&gt;\ncontent&lt;/s&gt;\n</c> (Zephyr, TinyLlama chat).</summary>
    Zephyr,
}
