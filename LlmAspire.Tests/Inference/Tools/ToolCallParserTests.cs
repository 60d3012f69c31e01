using LlmAspire.Inference.Tools;

namespace LlmAspire.Tests.Inference.Tools;

/// <summary>
/// Reading answers into content and calls in each family's syntax — whole, and streamed in every way of cutting the
/// text (the events must add up to the same message, and no marker text may leak into the content on the way).
/// </summary>
public sealed class ToolCallParserTests
{
    public static TheoryData<ToolCallSyntax, string, string?, string[]> Answers() => new()
    {
        { ToolCallSyntax.Hermes, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>", null, ["get_weather({\"city\": \"Paris\"})"] },
        { ToolCallSyntax.Hermes, "Let me check.\n<tool_call>\n{\"name\": \"a\", \"arguments\": {}}\n</tool_call>\n<tool_call>\n{\"name\": \"b\", \"arguments\": {\"x\": \"</tool\"}}\n</tool_call>", "Let me check.\n", ["a({})", "b({\"x\": \"</tool\"})"] },
        { ToolCallSyntax.Hermes, "No call: a < b and <tool_ is fine.", "No call: a < b and <tool_ is fine.", [] },
        { ToolCallSyntax.Hermes, "<tool_call>\n{\"name\": \"a\", \"argu", "<tool_call>\n{\"name\": \"a\", \"argu", [] },
        { ToolCallSyntax.Hermes, "<tool_call>\n{\"name\": \"a\", \"arguments\": {\"s\": \"} \\\" ]\", \"n\": [1, {}]}}\n</tool_call>", null, ["a({\"s\": \"} \\\" ]\", \"n\": [1, {}]})"] },
        { ToolCallSyntax.Hermes, "<tool_call>\n{\"arguments\": {\"q\": 1}, \"name\": \"a\"}\n</tool_call>", null, ["a({\"q\": 1})"] },
        { ToolCallSyntax.Hermes, "<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": \"cut sh", null, ["a({\"x\": \"cut sh)"] },
        { ToolCallSyntax.Llama3Json, "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}", null, ["get_weather({\"city\": \"Oslo\"})"] },
        { ToolCallSyntax.Llama3Json, "<|python_tag|>{\"name\": \"a\", \"parameters\": {\"n\": 1}}; {\"name\": \"b\", \"parameters\": {}}", null, ["a({\"n\": 1})", "b({})"] },
        { ToolCallSyntax.Llama3Json, "The weather is {fine}.", "The weather is {fine}.", [] },
        { ToolCallSyntax.Llama3Json, "{not json", "{not json", [] },
        { ToolCallSyntax.Mistral, "[TOOL_CALLS][{\"name\": \"a\", \"arguments\": {\"q\": \"]\"}}, {\"name\": \"b\", \"arguments\": {}}]", null, ["a({\"q\": \"]\"})", "b({})"] },
        { ToolCallSyntax.Mistral, "[{\"name\": \"a\", \"arguments\": \"{\\\"k\\\": 2}\"}]", null, ["a({\"k\": 2})"] },
        { ToolCallSyntax.Mistral, "Sure [1] is a footnote.", "Sure [1] is a footnote.", [] },
        { ToolCallSyntax.Phi4Mini, "I'll call it. functools[{\"name\": \"a\", \"arguments\": {\"s\": \"x]\"}}]", "I'll call it. ", ["a({\"s\": \"x]\"})"] },
        { ToolCallSyntax.Phi4Mini, "functions are fun", "functions are fun", [] },
    };

    [Theory]
    [MemberData(nameof(Answers))]
    public void WholeAndStreamed_GiveTheSameMessage(ToolCallSyntax syntax, string answer, string? content, string[] calls)
    {
        var whole = new ToolCallParser(syntax);
        whole.Push(answer);
        whole.Finish();
        Assert.Equal(content, whole.Content);
        Assert.Equal(calls, whole.ToolCalls.Select(c => $"{c.Name}({c.Arguments})"));
        Assert.All(whole.ToolCalls, c => Assert.Matches("^call_[A-Za-z0-9]{24}$", c.Id));

        var random = new Random(answer.Length);
        for (int trial = 0; trial < 40; trial++)
        {
            var parser = new ToolCallParser(syntax);
            var events = new List<ChatOutputEvent>();
            for (int at = 0; at < answer.Length;)
            {
                int take = Math.Min(answer.Length - at, random.Next(1, 6));
                events.AddRange(parser.Push(answer.Substring(at, take)));
                at += take;
            }

            events.AddRange(parser.Finish());
            string streamedContent = string.Concat(events.OfType<ContentDelta>().Select(e => e.Text));
            Assert.Equal(content ?? "", streamedContent);
            var started = events.OfType<ToolCallStarted>().ToList();
            Assert.Equal(calls.Select(c => c[..c.IndexOf('(')]), started.Select(s => s.Name));
            Assert.Equal(Enumerable.Range(0, calls.Length), started.Select(s => s.Index));
            for (int i = 0; i < started.Count; i++)
            {
                string arguments = string.Concat(events.OfType<ToolCallArgumentsDelta>().Where(d => d.Index == i).Select(d => d.Arguments));
                Assert.Equal(calls[i], $"{started[i].Name}({arguments})");
            }
        }
    }

    [Fact]
    public void HermesCall_StreamsItsArgumentsAsTheyAreWritten()
    {
        const string Answer = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"C\"}}\n</tool_call>";
        var parser = new ToolCallParser(ToolCallSyntax.Hermes);
        var events = new List<ChatOutputEvent>();
        foreach (char c in Answer)
        {
            events.AddRange(parser.Push(c.ToString()));
        }

        events.AddRange(parser.Finish());
        var started = Assert.Single(events.OfType<ToolCallStarted>());
        Assert.Equal("get_weather", started.Name);
        var deltas = events.OfType<ToolCallArgumentsDelta>().ToList();
        Assert.True(deltas.Count > 10, $"{deltas.Count} argument deltas");
        Assert.True(events.IndexOf(started) < events.IndexOf(deltas[0]));
        Assert.Equal("{\"city\": \"Paris\", \"unit\": \"C\"}", string.Concat(deltas.Select(d => d.Arguments)));
        Assert.Empty(events.OfType<ContentDelta>());
    }

    [Fact]
    public void ContentOnlyParser_PassesTextThrough()
    {
        var parser = new ChatOutputParser();
        Assert.Equal([new ContentDelta("<tool_call>")], parser.Push("<tool_call>"));
        Assert.Empty(parser.Finish());
        Assert.Equal("<tool_call>", parser.Content);
        Assert.Empty(parser.ToolCalls);
    }
}
