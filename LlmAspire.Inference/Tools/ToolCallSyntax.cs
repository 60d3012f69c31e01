namespace LlmAspire.Inference.Tools;

/// <summary>How a model family writes function calls in its answer.</summary>
public enum ToolCallSyntax
{
    /// <summary>
    /// Hermes / Qwen2.5 / Qwen3 (and the generic format for models with no tool format of their own): one block per
    /// call, <c>&lt;tool_call&gt;\n{"name": "f", "arguments": {…}}\n&lt;/tool_call&gt;</c>, after optional text.
    /// </summary>
    Hermes,

    /// <summary>Llama 3.1/3.2 JSON calls: the whole answer is <c>{"name": "f", "parameters": {…}}</c>, several joined by <c>"; "</c>.</summary>
    Llama3Json,

    /// <summary>Mistral: <c>[TOOL_CALLS]</c> (a control token) then a JSON array <c>[{"name": "f", "arguments": {…}}, …]</c>.</summary>
    Mistral,

    /// <summary>Phi-4-mini: <c>functools[{"name": "f", "arguments": {…}}, …]</c> after optional text.</summary>
    Phi4Mini,
}
