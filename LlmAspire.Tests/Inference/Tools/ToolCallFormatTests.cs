using LlmAspire.Inference.Tokenization;
using LlmAspire.Inference.Tools;

namespace LlmAspire.Tests.Inference.Tools;

/// <summary>
/// Which tool format each published chat template implies, and a whole tool loop (functions, an assistant's calls,
/// the tool's result) rendered through the real template: in the family's own shape where the template renders
/// tools, in the generic shape where it does not.
/// </summary>
public sealed class ToolCallFormatTests
{
    private static readonly ChatTool s_weather = new("get_weather", "The weather in a city.", """{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""");

    private static readonly ChatMessage[] s_loop =
    [
        ChatMessage.User("Weather in Paris?"),
        ChatMessage.AssistantCalls([new ChatToolCall("call_abcdefghijklmnopqrstuvwx", "get_weather", """{"city": "Paris"}""")]),
        ChatMessage.Tool("call_abcdefghijklmnopqrstuvwx", "Sunny", "get_weather"),
    ];

    [Theory]
    [InlineData("Qwen-Qwen2.5-7B-Instruct.jinja", "hermes", ToolCallSyntax.Hermes, true, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>")]
    [InlineData("Qwen-Qwen3-0.6B.jinja", "hermes", ToolCallSyntax.Hermes, true, "<tool_response>\nSunny\n</tool_response>")]
    [InlineData("meta-llama-Llama-3.3-70B-Instruct.jinja", "llama3_json", ToolCallSyntax.Llama3Json, true, "\"parameters\": {\"city\": \"Paris\"}")]
    [InlineData("meta-llama-Llama-3.2-3B-Instruct.jinja", "llama3_json", ToolCallSyntax.Llama3Json, true, "<|start_header_id|>ipython<|end_header_id|>")]
    [InlineData("mistralai-Mistral-Nemo-Instruct-2407.jinja", "mistral", ToolCallSyntax.Mistral, true, "[TOOL_CALLS]")]
    [InlineData("microsoft-Phi-4-mini-instruct.jinja", "phi4_mini", ToolCallSyntax.Phi4Mini, false, "<|tool|>[{\"name\":\"get_weather\"")]
    [InlineData("google-gemma-2-2b-it.jinja", "generic", ToolCallSyntax.Hermes, false, "# Tools")]
    [InlineData("microsoft-Phi-3.5-mini-instruct.jinja", "generic", ToolCallSyntax.Hermes, false, "<tool_response>\nSunny\n</tool_response>")]
    public void RealTemplate_ImpliesItsFormat_AndRendersAToolLoop(string file, string name, ToolCallSyntax syntax, bool native, string expected)
    {
        string source = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "LlmAspire.Tests", "Inference", "Tokenization", "Templates", file));
        var template = ChatTemplate.Parse(source, "<s>", "</s>");

        var format = ToolCallFormat.For(template);

        Assert.Equal((name, syntax, native), (format.Name, format.Syntax, format.TemplateRendersTools));
        var (messages, tools) = format.Adapt(s_loop, [s_weather]);
        Assert.Equal(native, tools is not null);
        string prompt = template.Render(messages, tools);
        Assert.Contains(expected, prompt, StringComparison.Ordinal);
        Assert.Contains("get_weather", prompt, StringComparison.Ordinal);
        Assert.Contains("Sunny", prompt, StringComparison.Ordinal);
    }

    [Fact]
    public void Mistral_OpenAICallIds_BecomeTheNineCharacterIdsItsTemplateDemands()
    {
        string source = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "LlmAspire.Tests", "Inference", "Tokenization", "Templates", "mistralai-Mistral-Nemo-Instruct-2407.jinja"));
        var template = ChatTemplate.Parse(source, "<s>", "</s>");
        var format = ToolCallFormat.For(template);

        var (messages, tools) = format.Adapt(s_loop, [s_weather]);
        string prompt = template.Render(messages, tools);

        string id = ToolCallFormat.MistralId("call_abcdefghijklmnopqrstuvwx");
        Assert.Matches("^[A-Za-z0-9]{9}$", id);
        Assert.Contains($"\"id\": \"{id}\"", prompt, StringComparison.Ordinal);
        Assert.ThrowsAny<ArgumentException>(() => template.Render(s_loop, tools)); // the raw OpenAI id is refused by the template itself
    }

    [Fact]
    public void TemplateWithoutSystemTurns_GenericDescriptionOpensTheFirstUserTurn()
    {
        string source = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "LlmAspire.Tests", "Inference", "Tokenization", "Templates", "google-gemma-2-2b-it.jinja"));
        var format = ToolCallFormat.For(ChatTemplate.Parse(source, "<bos>", "<eos>"));

        var (messages, _) = format.Adapt(s_loop, [s_weather]);

        Assert.False(format.SystemTurn);
        Assert.Equal(["user", "assistant", "user"], messages.Select(m => m.Role));
        Assert.StartsWith(ToolCallFormat.GenericInstructions, messages[0].Content, StringComparison.Ordinal);
        Assert.EndsWith("Weather in Paris?", messages[0].Content, StringComparison.Ordinal);
    }

    [Fact]
    public void NoTemplate_GenericFormat_DescribesTheFunctionsInTheSystemTurn()
    {
        var format = ToolCallFormat.For(ChatTemplate.Plain);
        var (messages, tools) = format.Adapt([ChatMessage.System("Be brief."), .. s_loop], [s_weather]);

        Assert.Null(tools);
        Assert.Equal(ChatMessage.SystemRole, messages[0].Role);
        Assert.StartsWith("Be brief.\n\n" + ToolCallFormat.GenericInstructions, messages[0].Content, StringComparison.Ordinal);
        Assert.Equal(["system", "user", "assistant", "user"], messages.Select(m => m.Role));
        Assert.Equal("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>", messages[2].Content);
        Assert.Equal("<tool_response>\nSunny\n</tool_response>", messages[3].Content);
    }
}
