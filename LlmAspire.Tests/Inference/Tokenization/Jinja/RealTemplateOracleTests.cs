using System.Text.Json.Nodes;
using LlmAspire.Inference.Tokenization;

namespace LlmAspire.Tests.Inference.Tokenization.Jinja;

/// <summary>
/// The published chat templates in Templates/ (Llama 3.2/3.3, Qwen2.5, Qwen3, Mistral-Nemo, Phi-3.5, Phi-4-mini and
/// llama.cpp's tool-calling variant of it,
/// Gemma 2/3) rendered through <see cref="ChatTemplate"/> for many conversations — with and without tools, tool calls
/// and results, unicode and padded content, both generation-prompt settings — must equal <c>@huggingface/jinja</c>'s
/// rendering byte for byte, and raise where it raises. The oracle gets the context as transformers builds it,
/// written here independently of <see cref="ChatTemplate"/>'s own.
/// </summary>
public sealed class RealTemplateOracleTests
{
    private static readonly (string File, string? Bos, string? Eos)[] Templates =
    [
        ("meta-llama-Llama-3.2-3B-Instruct.jinja", "<|begin_of_text|>", "<|eot_id|>"),
        ("meta-llama-Llama-3.3-70B-Instruct.jinja", "<|begin_of_text|>", "<|eot_id|>"),
        ("Qwen-Qwen2.5-7B-Instruct.jinja", null, "<|im_end|>"),
        ("Qwen-Qwen3-0.6B.jinja", null, "<|im_end|>"),
        ("mistralai-Mistral-Nemo-Instruct-2407.jinja", "<s>", "</s>"),
        ("microsoft-Phi-3.5-mini-instruct.jinja", "<s>", "<|endoftext|>"),
        ("microsoft-Phi-4-mini-instruct.jinja", "<|endoftext|>", "<|endoftext|>"),
        ("llama-cpp-microsoft-Phi-4-mini-instruct.jinja", "<|endoftext|>", "<|endoftext|>"),
        ("google-gemma-2-2b-it.jinja", "<bos>", "<eos>"),
        ("google-gemma-3-it.jinja", "<bos>", "<eos>"),
    ];

    private static readonly ChatTool[] Tools =
    [
        new("get_weather", "Current weather for a place.", """{"type": "object", "properties": {"location": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}, "country": {"type": "string", "enum": ["FR", "DE"]}}, "required": ["city"]}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}, "days": {"type": "integer", "minimum": 1, "maximum": 7}}, "required": ["location"]}"""),
        new("search", null, """{"type": "object", "properties": {"query": {"type": "string"}, "filters": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "value": {"type": ["string", "number", "boolean", "null"]}}}}, "limit": {"type": "number", "default": 2.5}}}"""),
    ];

    private static readonly ChatToolCall WeatherCall = new("call12345", "get_weather", """{"location": {"city": "Paris", "country": "FR"}, "unit": "celsius", "days": 3}""");

    private static readonly ChatToolCall SearchCall = new("call67890", "search", """{"query": "café ☕", "filters": [{"field": "open", "value": true}], "limit": 2.5}""");

    private static readonly Lazy<Task<Dictionary<string, List<Case>>>> Rendered = new(RenderAllAsync);

    public static TheoryData<string> TemplateFiles => [.. Templates.Select(static t => t.File)];

    private static IEnumerable<(string Name, ChatMessage[] Messages, ChatTool[]? Tools)> Conversations()
    {
        yield return ("user only", [ChatMessage.User("Hello!")], null);
        yield return ("system and user", [ChatMessage.System("You are terse."), ChatMessage.User("Hi")], null);
        yield return ("multi-turn", [ChatMessage.System("Be kind."), ChatMessage.User("Hello"), ChatMessage.Assistant("Hi there"), ChatMessage.User("Who are you?")], null);
        yield return ("ends with assistant", [ChatMessage.User("Hello"), ChatMessage.Assistant("  I am an assistant  ")], null);
        yield return ("unicode and whitespace", [ChatMessage.System("  Système: réponds en français 🇫🇷\n"), ChatMessage.User("\n  Ça va? 日本語 \"quotes\" \\ back  \t"), ChatMessage.Assistant(" Très bien ✓ "), ChatMessage.User("Et toi?\n\n")], null);
        yield return ("not alternating", [ChatMessage.User("a"), ChatMessage.User("b")], null);
        yield return ("no messages", [], null);
        yield return ("tools, user", [ChatMessage.User("Weather in Paris?")], Tools);
        yield return ("tools, system and user", [ChatMessage.System("Use tools when needed."), ChatMessage.User("Weather in Paris?")], Tools);
        yield return ("tools, call and result", [
            ChatMessage.System("Use tools."),
            ChatMessage.User("Weather in Paris?"),
            ChatMessage.AssistantCalls([WeatherCall]),
            ChatMessage.Tool("call12345", """{"temperature": 21, "sky": "clear"}""", "get_weather"),
        ], Tools);
        yield return ("tools, call, result and answer", [
            ChatMessage.User("Weather in Paris?"),
            ChatMessage.AssistantCalls([WeatherCall], "Let me check."),
            ChatMessage.Tool("call12345", "21 degrees"),
            ChatMessage.Assistant("It is 21 °C and clear."),
            ChatMessage.User("Thanks! And search for cafés?"),
        ], Tools);
        yield return ("tools, two calls", [
            ChatMessage.User("Weather and cafés?"),
            ChatMessage.AssistantCalls([WeatherCall, SearchCall]),
            ChatMessage.Tool("call12345", "sunny"),
            ChatMessage.Tool("call67890", "[\"Café A\"]"),
        ], Tools);
        yield return ("call arguments not JSON", [ChatMessage.User("x"), ChatMessage.AssistantCalls([new ChatToolCall("abcdefghi", "search", "not json {")]), ChatMessage.Tool("abcdefghi", "ok")], Tools);
        yield return ("reasoning", [ChatMessage.User("2+2?"), ChatMessage.Assistant("<think>\nadd them\n</think>\n\n4"), ChatMessage.User("3+3?")], null);
    }

    [Theory]
    [MemberData(nameof(TemplateFiles))]
    public async Task Render_PublishedTemplate_EqualsTheOracleForEveryConversation(string file)
    {
        Dictionary<string, List<Case>> rendered = await Rendered.Value;
        var mismatches = new List<string>();
        foreach (Case c in rendered[file])
        {
            string? ours;
            string? ourError = null;
            try
            {
                ours = c.Template.Render(c.Messages, c.Tools, c.AddGenerationPrompt);
            }
            catch (ArgumentException ex)
            {
                ours = null;
                ourError = ex.Message;
            }

            if (ours != c.Expected || (ours is null) != (c.ExpectedError is not null))
            {
                mismatches.Add($"{c.Name} (add_generation_prompt={c.AddGenerationPrompt}):\n  oracle: {Show(c.Expected, c.ExpectedError)}\n  ours:   {Show(ours, ourError)}");
            }
        }

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
        Assert.True(rendered[file].Count(static c => c.Expected is not null) >= MinimumRendered(file), $"The oracle rendered too few conversations of {file}.");
    }

    [Fact]
    public async Task Render_PublishedTemplates_RaiseWhereTheTemplateRefuses()
    {
        Dictionary<string, List<Case>> rendered = await Rendered.Value;

        // The oracle's own verdicts, checked so that the comparison above also covers raise_exception.
        Assert.Contains(rendered["google-gemma-2-2b-it.jinja"], static c => c.Name == "not alternating" && c.ExpectedError!.Contains("alternate", StringComparison.Ordinal));
        Assert.Contains(rendered["meta-llama-Llama-3.3-70B-Instruct.jinja"], static c => c.Name == "tools, two calls" && c.ExpectedError!.Contains("single tool-calls", StringComparison.Ordinal));
        var error = Assert.Throws<LlmAspire.Inference.Tokenization.Jinja.JinjaRenderException>(() => ChatTemplate.Parse(File.ReadAllText(PathOf("google-gemma-2-2b-it.jinja")), "<bos>", "<eos>").Render([ChatMessage.System("s"), ChatMessage.User("u")]));
        Assert.Equal("System role not supported", error.Message);
    }

    // llama.cpp's Phi-4-mini variant expects tools to be undefined when none and tool_calls on every message (as
    // minja passes them), so with transformers' context the oracle (and we) raise for every conversation.
    private static int MinimumRendered(string file) => file.StartsWith("llama-cpp-", StringComparison.Ordinal) ? 0 : 4;

    private static string Show(string? text, string? error) => text is null ? $"error: {error}" : JsonValue.Create(text).ToJsonString();

    private static string PathOf(string file) => Path.Combine(TestPaths.RepositoryRoot, "LlmAspire.Tests", "Inference", "Tokenization", "Templates", file);

    private static async Task<Dictionary<string, List<Case>>> RenderAllAsync()
    {
        var cases = new List<Case>();
        var clock = new JinjaOracle.UtcClock();
        foreach ((string file, string? bos, string? eos) in Templates)
        {
            string source = await File.ReadAllTextAsync(PathOf(file));
            ChatTemplate template = ChatTemplate.Parse(source, bos, eos, clock);
            foreach ((string name, ChatMessage[] messages, ChatTool[]? tools) in Conversations())
            {
                foreach (bool generation in (bool[])[true, false])
                {
                    cases.Add(new Case(file, name, source, template, messages, tools, generation, TransformersContext(messages, tools, generation, bos, eos)));
                }
            }
        }

        IReadOnlyList<(string? Text, string? Error)> results = await JinjaOracle.RenderAsync([.. cases.Select(static c => (c.Source, c.Context))]);
        for (int i = 0; i < cases.Count; i++)
        {
            cases[i] = cases[i] with { Expected = results[i].Text, ExpectedError = results[i].Error };
        }

        return cases.GroupBy(static c => c.File).ToDictionary(static g => g.Key, static g => g.ToList());
    }

    /// <summary>What transformers' <c>apply_chat_template</c> passes: OpenAI-shaped messages with parsed call arguments, tools or none.</summary>
    private static JsonObject TransformersContext(ChatMessage[] messages, ChatTool[]? tools, bool addGenerationPrompt, string? bos, string? eos)
    {
        var list = new JsonArray();
        foreach (ChatMessage message in messages)
        {
            var m = new JsonObject { ["role"] = message.Role, ["content"] = message.Content };
            if (message.ToolCalls is { } calls)
            {
                m["tool_calls"] = new JsonArray([.. calls.Select(static call => (JsonNode)new JsonObject
                {
                    ["id"] = call.Id,
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = ParseOrString(call.Arguments) },
                })]);
            }

            if (message.ToolCallId is not null)
            {
                m["tool_call_id"] = message.ToolCallId;
            }

            if (message.Name is not null)
            {
                m["name"] = message.Name;
            }

            list.Add(m);
        }

        var context = new JsonObject
        {
            ["messages"] = list,
            ["tools"] = tools is null ? null : new JsonArray([.. tools.Select(static tool =>
            {
                var function = new JsonObject { ["name"] = tool.Name };
                if (tool.Description is not null)
                {
                    function["description"] = tool.Description;
                }

                if (tool.Parameters is not null)
                {
                    function["parameters"] = JsonNode.Parse(tool.Parameters);
                }

                return (JsonNode)new JsonObject { ["type"] = "function", ["function"] = function };
            })]),
            ["add_generation_prompt"] = addGenerationPrompt,
        };
        if (bos is not null)
        {
            context["bos_token"] = bos;
        }

        if (eos is not null)
        {
            context["eos_token"] = eos;
        }

        return context;
    }

    private static JsonNode? ParseOrString(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            return JsonValue.Create(text);
        }
    }

    private sealed record Case(string File, string Name, string Source, ChatTemplate Template, ChatMessage[] Messages, ChatTool[]? Tools, bool AddGenerationPrompt, JsonObject Context)
    {
        public string? Expected { get; init; }

        public string? ExpectedError { get; init; }
    }
}
