using System.Text;

namespace LlmAspire.Tests.AppHost;

/// <summary>
/// A deterministic (seeded) sweep of hostile requests against the OpenAI surface: malformed and truncated JSON,
/// invalid UTF-8 and lone surrogates, byte-order marks, trailing garbage, deep nesting, bodies around and far over the
/// size limits, every field of <c>/v1/completions</c> and <c>/v1/chat/completions</c> with every wrong type and
/// out-of-range value, bad messages and content parts, huge <c>logit_bias</c> maps, wrong content types, methods and
/// paths, and random byte mutations of valid bodies. Valid requests stay small (<c>max_tokens</c> ≤ 8).
/// </summary>
internal static class HostileRequests
{
    public const string CompletionsPath = "/v1/completions";

    public const string ChatPath = "/v1/chat/completions";

    /// <summary>The model servers' <c>ModelServer:MaxRequestBodyBytes</c> default.</summary>
    public const int ServerBodyLimit = 1 << 20;

    /// <summary>The gateway's <c>CompletionRequestMiddleware.MaxBodyBytes</c>.</summary>
    public const int GatewayBodyLimit = 4 << 20;

    private const string Json = "application/json";

    /// <summary>The values every field is tried with, as raw JSON text (some of them not JSON at all).</summary>
    private static readonly string[] s_wrongValues =
    [
        "null", "true", "false", "0", "-1", "-0", "0.5", "1e308", "-1e308", "1e400", "-1e400",
        "99999999999999999999", "-99999999999999999999", "2147483648", "9223372036854775808", "1e-320",
        "NaN", "Infinity", "-Infinity", "\"\"", "\"" + new string(' ', 5000) + "\"", "\"1\"",
        "[]", "[1,\"a\",null]", "{}", "{\"a\":{\"b\":[]}}",
    ];

    private static readonly string[] s_completionFields =
    [
        "model", "prompt", "max_tokens", "temperature", "top_p", "top_k", "min_p", "n", "seed", "presence_penalty",
        "frequency_penalty", "repetition_penalty", "logit_bias", "stop", "stream", "stream_options", "logprobs", "echo",
        "suffix", "user", "best_of",
    ];

    private static readonly string[] s_chatFields =
    [
        "model", "messages", "max_completion_tokens", "max_tokens", "temperature", "top_p", "n", "seed", "logit_bias", "stop",
        "stream", "stream_options", "logprobs", "top_logprobs", "tools", "tool_choice", "response_format", "user",
    ];

    /// <summary>Byte sequences that are not UTF-8: an encoded lone surrogate, overlong forms, bytes UTF-8 never uses, a cut-off sequence.</summary>
    private static readonly byte[][] s_invalidUtf8 =
    [
        [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xFF], [0xFE], [0x80],
        [0xF4, 0x90, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xC3],
    ];

    /// <summary>What a request may be answered with.</summary>
    public enum Expect
    {
        /// <summary>A 2xx: the request is valid.</summary>
        Success,

        /// <summary>A 4xx in the OpenAI error shape.</summary>
        Rejected,

        /// <summary>Either of the above (random mutations, fields whose odd value may be valid).</summary>
        Any,

        /// <summary>
        /// A 4xx from Kestrel itself, with no body: a request line or framing header it refuses (a NUL in the path, a
        /// target over its 8 KiB limit, an invalid Host, an unknown transfer coding, two Content-Lengths) is answered
        /// before any middleware runs, so no service can word it.
        /// </summary>
        ProtocolError,
    }

    /// <summary>One request of the sweep.</summary>
    /// <param name="Name">What it tries, for the failure list.</param>
    /// <param name="Method">The HTTP method.</param>
    /// <param name="Path">Path and query.</param>
    /// <param name="Body">The body bytes; null sends none.</param>
    /// <param name="ContentType">The Content-Type header as sent (unvalidated); null sends none.</param>
    /// <param name="Expected">What it may be answered with.</param>
    /// <param name="Chunked">Send the body with chunked transfer encoding (no Content-Length).</param>
    /// <param name="Headers">More request headers, sent unvalidated.</param>
    public sealed record Case(
        string Name, string Method, string Path, byte[]? Body, string? ContentType, Expect Expected, bool Chunked = false, IReadOnlyList<KeyValuePair<string, string>>? Headers = null)
    {
        public override string ToString() => $"{Method} {(Path.Length > 60 ? Path[..60] + "…" : Path)} [{Name}]";
    }

    /// <summary>A valid completion body (greedy, 4 tokens).</summary>
    public static string ValidCompletion(string model) =>
        $$"""{"model":"{{model}}","prompt":"Once upon a time","max_tokens":4,"temperature":0}""";

    /// <summary>A valid chat body (greedy, 4 tokens).</summary>
    public static string ValidChat(string model) =>
        $$"""{"model":"{{model}}","messages":[{"role":"user","content":"Tell me a story."}],"max_tokens":4,"temperature":0}""";

    /// <summary>Every case, in a seeded shuffled order.</summary>
    public static IReadOnlyList<Case> Create(string model, int seed)
    {
        var random = new Random(seed);
        var cases = new List<Case>();
        cases.AddRange(Valid(model));
        cases.AddRange(MalformedJson(model));
        cases.AddRange(Truncated(model, random));
        cases.AddRange(InvalidUtf8(model));
        cases.AddRange(Surrogates(model));
        cases.AddRange(ByteOrderMarks(model));
        cases.AddRange(TrailingGarbage(model));
        cases.AddRange(DeepNesting(model));
        cases.AddRange(Sizes(model));
        cases.AddRange(FieldMatrix(model));
        cases.AddRange(Messages(model));
        cases.AddRange(LogitBiasMaps(model));
        cases.AddRange(ContentTypes(model));
        cases.AddRange(MethodsAndPaths(model));
        cases.AddRange(Headers(model));
        cases.AddRange(Mutations(model, random, count: 240));
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(cases));
        return cases;
    }

    private static Case Post(string name, string path, string body, Expect expected) =>
        new(name, "POST", path, Encoding.UTF8.GetBytes(body), Json, expected);

    private static Case Post(string name, string path, byte[] body, Expect expected, bool chunked = false) =>
        new(name, "POST", path, body, Json, expected, chunked);

    private static byte[] Bytes(params object[] parts)
    {
        var buffer = new List<byte>();
        foreach (var part in parts)
        {
            buffer.AddRange(part switch
            {
                string text => Encoding.UTF8.GetBytes(text),
                byte[] bytes => bytes,
                _ => throw new ArgumentException($"Unexpected part {part}.", nameof(parts)),
            });
        }

        return [.. buffer];
    }

    /// <summary>A completion body built from raw JSON field values, in order.</summary>
    private static string Body(params (string Name, string Value)[] fields) =>
        "{" + string.Join(",", fields.Select(field => $"\"{field.Name}\":{field.Value}")) + "}";

    private static (string Name, string Value)[] CompletionFields(string model) =>
        [("model", Quote(model)), ("prompt", "\"Once upon a time\""), ("max_tokens", "4")];

    private static (string Name, string Value)[] ChatFields(string model) =>
        [("model", Quote(model)), ("messages", """[{"role":"user","content":"Hello"}]"""), ("max_tokens", "4"), ("max_completion_tokens", "4")];

    private static string Quote(string text) => "\"" + text + "\"";

    private static IEnumerable<Case> Valid(string model)
    {
        yield return Post("valid completion", CompletionsPath, ValidCompletion(model), Expect.Success);
        yield return Post("valid chat", ChatPath, ValidChat(model), Expect.Success);
        yield return Post("valid completion, sampled", CompletionsPath, $$"""{"model":"{{model}}","prompt":"The cat","max_tokens":8,"temperature":1,"top_p":0.9}""", Expect.Success);
        yield return Post("valid completion, no model", CompletionsPath, """{"prompt":"The dog","max_tokens":3}""", Expect.Success);
        yield return Post("valid completion, streamed", CompletionsPath, $$"""{"model":"{{model}}","prompt":"Once","max_tokens":4,"stream":true}""", Expect.Success);
        yield return Post("valid completion, streamed with usage", CompletionsPath, $$$"""{"model":"{{{model}}}","prompt":"Once","max_tokens":4,"stream":true,"stream_options":{"include_usage":true}}""", Expect.Success);
        yield return Post("valid chat, streamed", ChatPath, $$"""{"model":"{{model}}","messages":[{"role":"user","content":"Hi"}],"max_tokens":4,"stream":true}""", Expect.Success);
        yield return Post("valid completion, n 3 logprobs", CompletionsPath, $$"""{"model":"{{model}}","prompt":"Lily","max_tokens":3,"n":3,"logprobs":2,"seed":7}""", Expect.Success);
        yield return Post("valid chat, logprobs", ChatPath, $$"""{"model":"{{model}}","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Hi"}]}],"max_completion_tokens":3,"logprobs":true,"top_logprobs":3}""", Expect.Success);
        yield return Post("valid completion, unicode prompt", CompletionsPath, $$"""{"model":"{{model}}","prompt":"日本語 😀 \u00e9\ud83d\ude00","max_tokens":3}""", Expect.Success);
        yield return Post("valid completion, whitespace around", CompletionsPath, "\r\n\t " + ValidCompletion(model) + " \n", Expect.Success);
        yield return Post("valid completion, empty prompt", CompletionsPath, $$"""{"model":"{{model}}","prompt":"","max_tokens":2}""", Expect.Success);
        yield return Post("valid completion, stop", CompletionsPath, $$"""{"model":"{{model}}","prompt":"Once","max_tokens":8,"stop":[".","\n","xyz","Lily"]}""", Expect.Success);
        yield return Post("valid completion, penalties", CompletionsPath, $$"""{"model":"{{model}}","prompt":"Once","max_tokens":8,"presence_penalty":2,"frequency_penalty":-2,"repetition_penalty":1.5,"top_k":5,"min_p":0.1}""", Expect.Success);
        yield return Post("valid completion, duplicate keys", CompletionsPath, $$"""{"model":"{{model}}","prompt":"a","prompt":"b","max_tokens":2}""", Expect.Any);
        yield return Post("valid completion, unknown fields", CompletionsPath, $$$"""{"model":"{{{model}}}","prompt":"a","max_tokens":2,"x":{"y":[1,2,{"z":null}]},"metadata":{}}""", Expect.Success);
        yield return new("models list", "GET", "/v1/models", null, null, Expect.Success);
    }

    private static IEnumerable<Case> MalformedJson(string model)
    {
        string[] bodies =
        [
            "{", "}", "{{}", "{\"prompt\":}", "{\"prompt\":\"a\",}", "{prompt:\"a\"}", "{'prompt':'a'}", "{\"prompt\":\"a\"",
            "[", "]", "\"a string\"", "123", "true", "false", "null", "[]", "[{}]", "{\"prompt\":\"a\" \"max_tokens\":1}",
            "{\"a\":1}{\"b\":2}", "/*c*/{\"prompt\":\"a\"}", "{\"prompt\":\"a\\x\"}", "{\"prompt\":\"a\\u12\"}", "{\"prompt\":\"a\\u12G4\"}",
            "{\"prompt\":\"a\u0001b\"}", "{\"prompt\":\"a\nb\"}", "{\"prompt\":\"unterminated}", "{\"max_tokens\":01}", "{\"max_tokens\":+1}",
            "{\"max_tokens\":.5}", "{\"max_tokens\":1.}", "{\"max_tokens\":1e}", "{\"max_tokens\":0x10}", "{\"max_tokens\":1_000}",
            "{\"temperature\":NaN}", "{\"temperature\":Infinity}", "{\"temperature\":-Infinity}", "{\"stream\":True}", "{\"stream\":nul}",
            "{\"prompt\":\"a\"}}", "{\"prompt\":[\"a\"}", "{\"prompt\":\"a\",\"max_tokens\":1,,}", "{:\"a\"}", "{\"\":}", "{\"a\"}",
            "\u0000", "{\"prompt\":\"a\u0000\"}", " ", "\t\r\n", "", "{\"prompt\":\"a\"} {", "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"]}",
        ];
        foreach (var (body, index) in bodies.Select((body, index) => (body, index)))
        {
            yield return Post($"malformed #{index}", CompletionsPath, body, Expect.Rejected);
            yield return Post($"malformed #{index}", ChatPath, body, Expect.Rejected);
        }

        // Well-formed, but with NaN-like tokens in the model's place.
        yield return Post("model NaN token", CompletionsPath, $$"""{"model":NaN,"prompt":"a"}""", Expect.Rejected);
    }

    private static IEnumerable<Case> Truncated(string model, Random random)
    {
        string[] valid = [ValidCompletion(model), ValidChat(model)];
        foreach (var body in valid)
        {
            var path = body.Contains("messages", StringComparison.Ordinal) ? ChatPath : CompletionsPath;
            var bytes = Encoding.UTF8.GetBytes(body);
            yield return Post("truncated to 1 byte", path, bytes[..1], Expect.Rejected);
            yield return Post("truncated by 1 byte", path, bytes[..^1], Expect.Rejected);
            for (var i = 0; i < 16; i++)
            {
                var length = random.Next(1, bytes.Length - 1);
                yield return Post($"truncated at {length}", path, bytes[..length], Expect.Rejected);
            }
        }

        // A multi-byte character cut in half.
        var emoji = Encoding.UTF8.GetBytes($$"""{"model":"{{model}}","prompt":"😀""");
        yield return Post("truncated inside a UTF-8 sequence", CompletionsPath, emoji[..^2], Expect.Rejected);
    }

    private static IEnumerable<Case> InvalidUtf8(string model)
    {
        foreach (var (bad, index) in s_invalidUtf8.Select((bad, index) => (bad, index)))
        {
            var hex = Convert.ToHexString(bad);
            yield return Post($"invalid UTF-8 {hex} in prompt", CompletionsPath, Bytes($$"""{"model":"{{model}}","prompt":"a""", bad, "b\",\"max_tokens\":2}"), Expect.Rejected);
            yield return Post($"invalid UTF-8 {hex} in a key", CompletionsPath, Bytes($$"""{"model":"{{model}}","prompt":"a","x""", bad, "\":1,\"max_tokens\":2}"), Expect.Rejected);
            yield return Post($"invalid UTF-8 {hex} in model", CompletionsPath, Bytes("{\"model\":\"", bad, "\",\"prompt\":\"a\",\"max_tokens\":2}"), Expect.Rejected);
            yield return Post($"invalid UTF-8 {hex} in chat content", ChatPath, Bytes($$"""{"model":"{{model}}","messages":[{"role":"user","content":"x""", bad, "\"}],\"max_tokens\":2}"), Expect.Rejected);
            yield return Post($"invalid UTF-8 {hex} in a content part", ChatPath, Bytes($$"""{"model":"{{model}}","messages":[{"role":"user","content":[{"type":"text","text":"x""", bad, "\"}]}],\"max_tokens\":2}"), Expect.Rejected);
            yield return Post($"invalid UTF-8 {hex} in stop", CompletionsPath, Bytes($$"""{"model":"{{model}}","prompt":"a","max_tokens":2,"stop":["x""", bad, "\"]}"), Expect.Rejected);
            yield return Post($"invalid UTF-8 {hex} outside strings", CompletionsPath, Bytes("{\"prompt\":\"a\",", bad, "\"max_tokens\":2}"), Expect.Rejected);
            if (index == 0)
            {
                yield return Post($"invalid UTF-8 {hex} in role", ChatPath, Bytes($$"""{"model":"{{model}}","messages":[{"role":"us""", bad, "er\",\"content\":\"x\"}],\"max_tokens\":2}"), Expect.Rejected);
                yield return Post($"invalid UTF-8 {hex} in an unknown field", ChatPath, Bytes($$"""{"model":"{{model}}","messages":[{"role":"user","content":"x"}],"max_tokens":2,"user":"u""", bad, "\"}"), Expect.Rejected);
            }
        }
    }

    private static IEnumerable<Case> Surrogates(string model)
    {
        string[] lone = ["\\ud800", "\\udfff", "\\uD800\\u0041", "\\udc00\\ud800", "\\ud800\\ud800", "\\ud83d"];
        foreach (var escape in lone)
        {
            yield return Post($"escaped {escape} in prompt", CompletionsPath, $$"""{"model":"{{model}}","prompt":"a{{escape}}b","max_tokens":2}""", Expect.Rejected);
            yield return Post($"escaped {escape} at the end of prompt", CompletionsPath, $$"""{"model":"{{model}}","prompt":"a{{escape}}","max_tokens":2}""", Expect.Rejected);
            yield return Post($"escaped {escape} in a key", CompletionsPath, $$"""{"model":"{{model}}","prompt":"a","x{{escape}}":1,"max_tokens":2}""", Expect.Rejected);
            yield return Post($"escaped {escape} in model", CompletionsPath, $$"""{"model":"m{{escape}}","prompt":"a","max_tokens":2}""", Expect.Rejected);
            yield return Post($"escaped {escape} in chat content", ChatPath, $$"""{"model":"{{model}}","messages":[{"role":"user","content":"x{{escape}}"}],"max_tokens":2}""", Expect.Rejected);
            yield return Post($"escaped {escape} in role", ChatPath, $$"""{"model":"{{model}}","messages":[{"role":"{{escape}}","content":"x"}],"max_tokens":2}""", Expect.Rejected);
            yield return Post($"escaped {escape} in stop", CompletionsPath, $$"""{"model":"{{model}}","prompt":"a","max_tokens":2,"stop":"{{escape}}"}""", Expect.Rejected);
            yield return Post($"escaped {escape} in logit_bias key", CompletionsPath, $$$"""{"model":"{{{model}}}","prompt":"a","max_tokens":2,"logit_bias":{"1{{{escape}}}":1}}""", Expect.Rejected);
        }

        // Encoded (not escaped) surrogates are invalid UTF-8: see InvalidUtf8. A valid escaped pair is fine.
        yield return Post("escaped surrogate pair", CompletionsPath, $$"""{"model":"{{model}}","prompt":"a\ud83d\ude00b","max_tokens":2}""", Expect.Success);
        yield return Post("escaped surrogate pair in a key", ChatPath, $$"""{"model":"{{model}}","messages":[{"role":"user","content":"x"}],"max_tokens":2,"\ud83d\ude00":1}""", Expect.Success);
        yield return Post("escaped null character", CompletionsPath, $$"""{"model":"{{model}}","prompt":"a\u0000b","max_tokens":2}""", Expect.Any);
        yield return Post("escaped noncharacter", CompletionsPath, $$"""{"model":"{{model}}","prompt":"a\uffff\ufffeb","max_tokens":2}""", Expect.Any);
    }

    private static IEnumerable<Case> ByteOrderMarks(string model)
    {
        byte[] utf8 = [0xEF, 0xBB, 0xBF];
        foreach (var (path, body) in new[] { (CompletionsPath, ValidCompletion(model)), (ChatPath, ValidChat(model)) })
        {
            yield return Post("UTF-8 BOM", path, Bytes(utf8, body), Expect.Success);
            yield return Post("UTF-8 BOM then whitespace", path, Bytes(utf8, "  \n", body), Expect.Success);
            yield return Post("two UTF-8 BOMs", path, Bytes(utf8, utf8, body), Expect.Rejected);
            yield return Post("UTF-8 BOM alone", path, utf8, Expect.Rejected);
            yield return Post("UTF-8 BOM at the end", path, Bytes(body, utf8), Expect.Rejected);
            yield return Post("UTF-8 BOM inside the object", path, Bytes("{", utf8, body[1..]), Expect.Rejected);
            yield return Post("UTF-16 LE with BOM", path, [0xFF, 0xFE, .. Encoding.Unicode.GetBytes(body)], Expect.Rejected);
            yield return Post("UTF-16 BE with BOM", path, [0xFE, 0xFF, .. Encoding.BigEndianUnicode.GetBytes(body)], Expect.Rejected);
            yield return Post("UTF-16 LE without BOM", path, Encoding.Unicode.GetBytes(body), Expect.Rejected);
            yield return Post("UTF-32 LE with BOM", path, [0xFF, 0xFE, 0x00, 0x00, .. Encoding.UTF32.GetBytes(body)], Expect.Rejected);
            yield return Post("truncated UTF-8 BOM", path, Bytes(utf8[..2], body), Expect.Rejected);
        }
    }

    private static IEnumerable<Case> TrailingGarbage(string model)
    {
        string[] trailers = ["x", "}", "{}", "[]", ",", "\u0000", "// comment", "/* c */", "null", "1", "\"s\"", ValidCompletion(model), "\u00a0"];
        foreach (var (path, body) in new[] { (CompletionsPath, ValidCompletion(model)), (ChatPath, ValidChat(model)) })
        {
            foreach (var trailer in trailers)
            {
                yield return Post($"trailing {trailer[..Math.Min(12, trailer.Length)]}", path, body + trailer, Expect.Rejected);
            }

            yield return Post("trailing invalid UTF-8", path, Bytes(body, new byte[] { 0xFF, 0xFE }), Expect.Rejected);
            yield return Post("trailing whitespace", path, body + " \r\n\t", Expect.Success);
        }
    }

    private static IEnumerable<Case> DeepNesting(string model)
    {
        const int Levels = 100_000;
        var brackets = new string('[', Levels);
        var objects = string.Concat(Enumerable.Repeat("{\"a\":", Levels));
        foreach (var path in new[] { CompletionsPath, ChatPath })
        {
            yield return Post("100,000 [", path, brackets, Expect.Rejected);
            yield return Post("100,000 [ closed", path, brackets + new string(']', Levels), Expect.Rejected);
            yield return Post("100,000 {\"a\":", path, objects, Expect.Rejected);
            yield return Post("100,000 {\"a\": closed", path, objects + "1" + new string('}', Levels), Expect.Rejected);
            yield return Post("100,000 [ in an unknown field", path, $"{{\"model\":\"{model}\",\"x\":{brackets}", Expect.Rejected);
            yield return Post("100,000 {\"a\": in an unknown field, closed", path, $"{{\"model\":\"{model}\",\"x\":{objects}1{new string('}', Levels)}}}", Expect.Rejected);
            yield return Post("65 levels", path, $"{{\"model\":\"{model}\",\"x\":{new string('[', 64)}{new string(']', 64)}}}", Expect.Rejected);
            yield return Post("32 levels in an unknown field", path, $"{{\"model\":\"{model}\",\"prompt\":\"a\",\"messages\":[{{\"role\":\"user\",\"content\":\"a\"}}],\"max_tokens\":2,\"x\":{new string('[', 32)}{new string(']', 32)}}}", Expect.Success);
        }

        yield return Post("100,000 [ in prompt", CompletionsPath, $"{{\"model\":\"{model}\",\"prompt\":{brackets}{new string(']', Levels)},\"max_tokens\":2}}", Expect.Rejected);
        yield return Post("100,000 [ in messages", ChatPath, $"{{\"model\":\"{model}\",\"messages\":{brackets}{new string(']', Levels)},\"max_tokens\":2}}", Expect.Rejected);
        yield return Post("100,000 {\"a\": in logit_bias", CompletionsPath, $"{{\"model\":\"{model}\",\"prompt\":\"a\",\"logit_bias\":{objects}1{new string('}', Levels)},\"max_tokens\":2}}", Expect.Rejected);
        yield return Post("100,000 {\"a\": in a content part", ChatPath, $"{{\"model\":\"{model}\",\"messages\":[{{\"role\":\"user\",\"content\":[{objects}1{new string('}', Levels)}]}}],\"max_tokens\":2}}", Expect.Rejected);
    }

    private static IEnumerable<Case> Sizes(string model)
    {
        foreach (var path in new[] { CompletionsPath, ChatPath })
        {
            var prefix = path == ChatPath
                ? $"{{\"model\":\"{model}\",\"messages\":[{{\"role\":\"user\",\"content\":\"a\"}}],\"max_tokens\":2,\"x\":\""
                : $"{{\"model\":\"{model}\",\"prompt\":\"a\",\"max_tokens\":2,\"x\":\"";
            foreach (var chunked in new[] { false, true })
            {
                var how = chunked ? ", chunked" : "";
                yield return Post($"exactly the server's limit{how}", path, Padded(prefix, ServerBodyLimit), Expect.Success, chunked);
                yield return Post($"one byte over the server's limit{how}", path, Padded(prefix, ServerBodyLimit + 1), Expect.Rejected, chunked);
                yield return Post($"one byte over the gateway's limit{how}", path, Padded(prefix, GatewayBodyLimit + 1), Expect.Rejected, chunked);
            }

            yield return Post("1.5 MB of whitespace", path, new string(' ', 3 * ServerBodyLimit / 2) + "{}", Expect.Rejected);
            yield return Post("1 MB minus a little of [", path, new string('[', ServerBodyLimit - 16), Expect.Rejected);
            yield return Post("8 MB", path, Padded(prefix, 8 * ServerBodyLimit), Expect.Rejected, chunked: true);
        }

        // A prompt of nearly a megabyte: refused for the context, without tokenizing all of it.
        yield return Post("1 MB prompt", CompletionsPath, Padded($"{{\"model\":\"{model}\",\"max_tokens\":2,\"prompt\":\"", ServerBodyLimit - 64, "Once upon a time "), Expect.Rejected);
        yield return Post("1 MB chat content", ChatPath, $"{{\"model\":\"{model}\",\"max_tokens\":2,\"messages\":[{{\"role\":\"user\",\"content\":\"{string.Concat(Enumerable.Repeat("Lily and Ben ", 75_000))}\"}}]}}", Expect.Rejected);
        yield return Post("1 MB of stop strings", CompletionsPath, $"{{\"model\":\"{model}\",\"prompt\":\"a\",\"max_tokens\":2,\"stop\":[\"{new string('x', 250_000)}\",\"{new string('y', 250_000)}\",\"{new string('z', 250_000)}\",\"{new string('w', 250_000)}\"]}}", Expect.Success);
        yield return Post("10,000 messages", ChatPath, $"{{\"model\":\"{model}\",\"max_tokens\":2,\"messages\":[{string.Join(",", Enumerable.Repeat("{\"role\":\"user\",\"content\":\"hi\"}", 10_000))}]}}", Expect.Rejected);
        yield return Post("30,000 content parts", ChatPath, $"{{\"model\":\"{model}\",\"max_tokens\":2,\"messages\":[{{\"role\":\"user\",\"content\":[{string.Join(",", Enumerable.Repeat("{\"type\":\"text\",\"text\":\"\"}", 30_000))}]}}]}}", Expect.Any);
    }

    /// <summary><paramref name="prefix"/> (which leaves a string open), filled with <paramref name="filler"/> to exactly <paramref name="length"/> bytes, closed.</summary>
    private static byte[] Padded(string prefix, int length, string filler = " ")
    {
        var body = new StringBuilder(length);
        body.Append(prefix);
        const string Suffix = "\"}";
        while (body.Length < length - Suffix.Length)
        {
            body.Append(filler, 0, Math.Min(filler.Length, length - Suffix.Length - body.Length));
        }

        body.Append(Suffix);
        var bytes = Encoding.UTF8.GetBytes(body.ToString());
        return bytes.Length == length ? bytes : throw new InvalidOperationException($"Padded to {bytes.Length}, not {length}.");
    }

    private static IEnumerable<Case> FieldMatrix(string model)
    {
        foreach (var field in s_completionFields)
        {
            foreach (var value in s_wrongValues)
            {
                yield return Post($"completion {field}={Short(value)}", CompletionsPath, Body(With(CompletionFields(model), field, value)), Expect.Any);
            }
        }

        foreach (var field in s_chatFields)
        {
            foreach (var value in s_wrongValues)
            {
                yield return Post($"chat {field}={Short(value)}", ChatPath, Body(With(ChatFields(model), field, value)), Expect.Any);
            }
        }
    }

    private static (string Name, string Value)[] With((string Name, string Value)[] fields, string name, string value) =>
        fields.Any(field => field.Name == name)
            ? [.. fields.Select(field => field.Name == name ? (name, value) : field)]
            : [.. fields, (name, value)];

    private static string Short(string value) => value.Length > 24 ? $"<{value.Length} chars>" : value;

    private static IEnumerable<Case> Messages(string model)
    {
        string[] messages =
        [
            "[null]", "[1]", "[\"hello\"]", "[[]]", "[{}]", "[{\"role\":\"user\"}]", "[{\"content\":\"x\"}]", "[{\"role\":1,\"content\":\"x\"}]",
            "[{\"role\":null,\"content\":\"x\"}]", "[{\"role\":\"\",\"content\":\"x\"}]", $"[{{\"role\":\"{new string(' ', 5000)}\",\"content\":\"x\"}}]",
            "[{\"role\":\"tool\",\"content\":\"x\",\"tool_call_id\":\"1\"}]", "[{\"role\":\"function\",\"name\":\"f\",\"content\":\"x\"}]",
            "[{\"role\":\"USER\",\"content\":\"x\"}]", "[{\"role\":\"user\",\"content\":1}]", "[{\"role\":\"user\",\"content\":true}]",
            "[{\"role\":\"user\",\"content\":{}}]", "[{\"role\":\"user\",\"content\":null}]", "[{\"role\":\"user\",\"content\":[]}]",
            "[{\"role\":\"user\",\"content\":[1]}]", "[{\"role\":\"user\",\"content\":[null]}]", "[{\"role\":\"user\",\"content\":[\"x\"]}]",
            "[{\"role\":\"user\",\"content\":[{}]}]", "[{\"role\":\"user\",\"content\":[{\"type\":\"text\"}]}]",
            "[{\"role\":\"user\",\"content\":[{\"text\":\"x\"}]}]", "[{\"role\":\"user\",\"content\":[{\"type\":1,\"text\":\"x\"}]}]",
            "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":null}]}]", "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":5}]}]",
            "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":[\"x\"]}]}]",
            "[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,AAAA\"}}]}]",
            "[{\"role\":\"user\",\"content\":[{\"type\":\"input_audio\",\"input_audio\":{\"data\":\"AAAA\",\"format\":\"wav\"}}]}]",
            "[{\"role\":\"user\",\"content\":[{\"type\":\"\",\"text\":\"x\"}]}]", "[{\"role\":\"user\",\"content\":[{\"type\":\"TEXT\",\"text\":\"x\"}]}]",
            "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"x\"},{\"type\":\"text\",\"text\":\"y\"}]}]",
            "[{\"role\":\"user\",\"content\":\"\"}]", $"[{{\"role\":\"user\",\"content\":\"{new string(' ', 5000)}\"}}]",
            "[{\"role\":\"assistant\",\"content\":\"x\"}]", "[{\"role\":\"system\",\"content\":\"x\"}]", "[{\"role\":\"developer\",\"content\":\"x\"}]",
            "[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"user\",\"content\":\"b\"}]",
            "[{\"role\":\"assistant\",\"content\":\"a\"},{\"role\":\"user\",\"content\":\"b\"}]",
            "[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"b\"}]",
            "[{\"role\":\"system\",\"content\":\"a\"},{\"role\":\"system\",\"content\":\"b\"},{\"role\":\"user\",\"content\":\"c\"}]",
            "[{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}]",
            "[{\"role\":\"assistant\",\"content\":\"x\",\"tool_calls\":\"x\"}]", "[{\"role\":\"assistant\",\"content\":\"x\",\"tool_calls\":[]}]",
            "[{\"role\":\"user\",\"content\":\"x\",\"name\":{}}]", "[{\"role\":\"user\",\"content\":\"x\",\"role\":\"assistant\"}]",
            "[{\"role\":\"user\",\"content\":\"<|im_start|>system\\n<s></s>[INST]\"}]",
        ];
        foreach (var (value, index) in messages.Select((value, index) => (value, index)))
        {
            yield return Post($"messages #{index} {Short(value)}", ChatPath, Body(With(ChatFields(model), "messages", value)), Expect.Any);
        }

        yield return Post("no messages", ChatPath, Body(ChatFields(model).Where(field => field.Name != "messages").ToArray()), Expect.Rejected);
        yield return Post("prompt instead of messages", ChatPath, Body(With(ChatFields(model).Where(field => field.Name != "messages").ToArray(), "prompt", "\"x\"")), Expect.Rejected);
        yield return Post("messages instead of prompt", CompletionsPath, Body(With(CompletionFields(model).Where(field => field.Name != "prompt").ToArray(), "messages", "[{\"role\":\"user\",\"content\":\"x\"}]")), Expect.Rejected);
        yield return Post("response_format json_schema", ChatPath, Body(With(ChatFields(model), "response_format", "{\"type\":\"json_schema\",\"json_schema\":{}}")), Expect.Rejected);
        yield return Post("tools", ChatPath, Body(With(ChatFields(model), "tools", "[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]")), Expect.Success);
        yield return Post("tool without a name", ChatPath, Body(With(ChatFields(model), "tools", "[{\"type\":\"function\",\"function\":{}}]")), Expect.Rejected);
        yield return Post("tool_choice of no tool", ChatPath, Body(With(With(ChatFields(model), "tools", "[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]"), "tool_choice", "{\"type\":\"function\",\"function\":{\"name\":\"g\"}}")), Expect.Rejected);
        yield return Post("top_logprobs without logprobs", ChatPath, Body(With(ChatFields(model), "top_logprobs", "3")), Expect.Rejected);
        yield return Post("top_logprobs 21", ChatPath, Body(With(With(ChatFields(model), "logprobs", "true"), "top_logprobs", "21")), Expect.Rejected);
    }

    private static IEnumerable<Case> LogitBiasMaps(string model)
    {
        const int Entries = 100_000;
        string Map(Func<int, string> entry) => "{" + string.Join(",", Enumerable.Range(0, Entries).Select(entry)) + "}";
        var validIds = Map(i => $"\"{i % 512}\":{(i % 3) - 1}");
        var distinctIds = Map(i => $"\"{i}\":0");
        var stringValues = Map(i => $"\"{i % 512}\":\"x\"");
        foreach (var path in new[] { CompletionsPath, ChatPath })
        {
            var fields = path == ChatPath ? ChatFields(model) : CompletionFields(model);
            yield return Post("logit_bias 100k entries, ids repeat", path, Body(With(fields, "logit_bias", validIds)), Expect.Success);
            yield return Post("logit_bias 100k distinct ids", path, Body(With(fields, "logit_bias", distinctIds)), Expect.Rejected);
            yield return Post("logit_bias 100k string values", path, Body(With(fields, "logit_bias", stringValues)), Expect.Rejected);
            yield return Post("logit_bias as a 100k array", path, Body(With(fields, "logit_bias", "[" + string.Join(",", Enumerable.Repeat("1", Entries)) + "]")), Expect.Rejected);
            yield return Post("logit_bias every token banned", path, Body(With(fields, "logit_bias", "{" + string.Join(",", Enumerable.Range(0, 512).Select(i => $"\"{i}\":-100")) + "}")), Expect.Success);
            yield return Post("logit_bias every token +100", path, Body(With(fields, "logit_bias", "{" + string.Join(",", Enumerable.Range(0, 512).Select(i => $"\"{i}\":100")) + "}")), Expect.Success);
            foreach (var entry in new[] { "\"-1\":1", "\" 1\":1", "\"1 \":1", "\"01\":1", "\"+1\":1", "\"1.0\":1", "\"1e2\":1", "\"\":1", "\"512\":1", "\"2147483648\":1", "\"99999999999999999999\":1", "\"x\":1", "\"1\":101", "\"1\":-100.0001", "\"1\":1e400", "\"1\":null", "\"1\":true", "\"1\":[1]", "\"1\":{}", "\"1\":-0" })
            {
                yield return Post($"logit_bias {{{entry}}}", path, Body(With(fields, "logit_bias", "{" + entry + "}")), Expect.Any);
            }
        }
    }

    private static IEnumerable<Case> ContentTypes(string model)
    {
        string?[] rejected =
        [
            null, "", "text/plain", "text/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
            "application/xml", "*/*", "application", "a/b/c;;;", "application/json; charset=\"", "application/jsonx", "json",
            "application/octet-stream",
        ];
        string[] accepted = ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "application/vnd.api+json", "application/json;charset=UTF-8;x=y"];
        foreach (var (path, body) in new[] { (CompletionsPath, ValidCompletion(model)), (ChatPath, ValidChat(model)) })
        {
            foreach (var contentType in rejected)
            {
                yield return new($"content type {contentType ?? "(none)"}", "POST", path, Encoding.UTF8.GetBytes(body), contentType, Expect.Rejected);
            }

            foreach (var contentType in accepted)
            {
                yield return new($"content type {contentType}", "POST", path, Encoding.UTF8.GetBytes(body), contentType, Expect.Success);
            }

            yield return new("no content type, no body", "POST", path, null, null, Expect.Rejected);
            yield return new("form body", "POST", path, "prompt=a&max_tokens=2"u8.ToArray(), "application/x-www-form-urlencoded", Expect.Rejected);
            yield return new("utf-16 charset, utf-16 body", "POST", path, Encoding.Unicode.GetBytes(body), "application/json; charset=utf-16", Expect.Rejected);
        }
    }

    private static IEnumerable<Case> MethodsAndPaths(string model)
    {
        var body = Encoding.UTF8.GetBytes(ValidCompletion(model));
        foreach (var path in new[] { CompletionsPath, ChatPath, "/v1/models" })
        {
            foreach (var method in new[] { "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "FOO", "HEAD" })
            {
                yield return new($"{method} {path}", method, path, method is "HEAD" or "TRACE" ? null : body, Json, Expect.Rejected);
            }
        }

        yield return new("GET /v1/completions", "GET", CompletionsPath, null, null, Expect.Rejected);
        yield return new("GET /v1/chat/completions", "GET", ChatPath, null, null, Expect.Rejected);
        string[] unknown =
        [
            "/v1/complete", "/v1/completions/x", "/v1/chat", "/v1/chat/completion", "/v2/completions", "/v1/", "/v1", "/", "/v1/models/x",
            "/v1/embeddings", "/v1/responses", "/v1//completions", "/%ff", "/v1/" + new string('a', 5000), "/v1/completions/../models",
            "/v1/completions%2f", "/..%2f..%2fetc/passwd",
        ];
        foreach (var path in unknown)
        {
            yield return new($"POST {Short(path)}", "POST", path, body, Json, Expect.Rejected);
            yield return new($"GET {Short(path)}", "GET", path, null, null, Expect.Any);
        }

        foreach (var path in new[] { "/v1/%00", "/v1/completions%00", "/v1/" + new string('a', 9000) })
        {
            yield return new($"POST {Short(path)}", "POST", path, body, Json, Expect.ProtocolError);
            yield return new($"GET {Short(path)}", "GET", path, null, null, Expect.ProtocolError);
        }

        yield return new("query string junk", "POST", CompletionsPath + "?x=%zz&&=&stream=true", body, Json, Expect.Success);
        yield return new("upper-case path", "POST", "/V1/COMPLETIONS", body, Json, Expect.Any);
        yield return new("GET /v1/models/{model}", "GET", "/v1/models/" + model, null, null, Expect.Any);
    }

    private static IEnumerable<Case> Headers(string model)
    {
        var longValue = new string('h', 5000);
        (string Name, string Value)[] headers =
        [
            ("Cache-Control", "no-cache"), ("Cache-Control", "no-store"), ("Cache-Control", "no-cache, no-store"), ("Cache-Control", "max-age=abc, ,,="),
            ("Cache-Control", longValue), ("Pragma", "no-cache"), ("x-session-id", longValue), ("x-session-id", ""), ("x-session-id", "\t"),
            ("Authorization", "Bearer "), ("Authorization", "Basic Zm9vOmJhcg=="), ("Authorization", "Bearer " + longValue), ("Authorization", "Bearer a b c"),
            ("X-LlmAspire-Cluster", "no-such-cluster"), ("X-LlmAspire-Cluster", ""), ("Accept", "text/html"), ("Accept", "text/event-stream"),
            ("Accept-Encoding", "gzip;q=abc, br, *"), ("Content-Encoding", "gzip"), ("Content-Encoding", "identity, br"),
            ("X-Forwarded-For", "not an address"), ("X-Forwarded-Host", "evil.example:99999"), ("Connection", "upgrade"),
            ("Upgrade", "websocket"), ("Range", "bytes=0-10"), ("If-None-Match", "*"), ("x-llmaspire-retried-from", "http://127.0.0.1:1"),
        ];
        foreach (var (path, body) in new[] { (CompletionsPath, ValidCompletion(model)), (ChatPath, ValidChat(model)) })
        {
            foreach (var (name, value) in headers)
            {
                yield return new($"header {name}: {Short(value)}", "POST", path, Encoding.UTF8.GetBytes(body), Json, Expect.Any, Headers: [new(name, value)]);
            }

            foreach (var (name, value) in new[] { ("Host", "example.com:abc"), ("Transfer-Encoding", "identity") })
            {
                yield return new($"header {name}: {value}", "POST", path, Encoding.UTF8.GetBytes(body), Json, Expect.ProtocolError, Headers: [new(name, value)]);
            }

            yield return new("64 headers of 400 bytes", "POST", path, Encoding.UTF8.GetBytes(body), Json, Expect.Any, Headers: [.. Enumerable.Range(0, 64).Select(i => new KeyValuePair<string, string>($"x-h{i}", new string('v', 400)))]);
        }
    }

    /// <summary>A request written straight to a socket, for framing HttpClient will not send.</summary>
    /// <param name="Name">What it tries.</param>
    /// <param name="Bytes">The whole request as sent.</param>
    /// <param name="Expected">What it may be answered with.</param>
    public sealed record RawCase(string Name, byte[] Bytes, Expect Expected);

    /// <summary>Requests whose HTTP framing is wrong: short, badly chunked, contradictory.</summary>
    public static IReadOnlyList<RawCase> RawCases(string model)
    {
        var body = Encoding.UTF8.GetBytes(ValidCompletion(model));
        byte[] Head(string headers) => Encoding.ASCII.GetBytes($"POST {CompletionsPath} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nConnection: close\r\n{headers}\r\n");
        var chunk = Encoding.ASCII.GetBytes($"{body.Length:x}\r\n");
        return
        [
            new("body shorter than Content-Length", [.. Head($"Content-Length: {body.Length + 50}\r\n"), .. body], Expect.Rejected),
            new("body longer than Content-Length", [.. Head($"Content-Length: {body.Length - 5}\r\n"), .. body], Expect.Any),
            new("bad chunk size", [.. Head("Transfer-Encoding: chunked\r\n"), .. "zz\r\n"u8, .. body, .. "\r\n0\r\n\r\n"u8], Expect.Rejected),
            new("chunk longer than its size", [.. Head("Transfer-Encoding: chunked\r\n"), .. "5\r\n"u8, .. body, .. "\r\n0\r\n\r\n"u8], Expect.Rejected),
            new("no final chunk", [.. Head("Transfer-Encoding: chunked\r\n"), .. chunk, .. body, .. "\r\n"u8], Expect.Rejected),
            new("chunked and Content-Length", [.. Head($"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n"), .. chunk, .. body, .. "\r\n0\r\n\r\n"u8], Expect.Any),
            new("Expect: 100-continue", [.. Head($"Expect: 100-continue\r\nContent-Length: {body.Length}\r\n"), .. body], Expect.Success),
            new("two different Content-Lengths", [.. Head($"Content-Length: {body.Length}\r\nContent-Length: 3\r\n"), .. body], Expect.ProtocolError),
            new("Content-Length not a number", [.. Head("Content-Length: abc\r\n"), .. body], Expect.ProtocolError),
            new("unknown transfer coding", [.. Head("Transfer-Encoding: gzip\r\n"), .. body], Expect.ProtocolError),
        ];
    }

    private static IEnumerable<Case> Mutations(string model, Random random, int count)
    {
        (string Path, byte[] Body)[] seeds =
        [
            (CompletionsPath, Encoding.UTF8.GetBytes(ValidCompletion(model))),
            (ChatPath, Encoding.UTF8.GetBytes(ValidChat(model))),
            (CompletionsPath, Encoding.UTF8.GetBytes($$$"""{"model":"{{{model}}}","prompt":["Lily"],"max_tokens":3,"n":2,"stop":["."],"logit_bias":{"2":-100},"stream":true,"stream_options":{"include_usage":true}}""")),
            (ChatPath, Encoding.UTF8.GetBytes($$"""{"model":"{{model}}","messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"Hi 😀"}]}],"max_completion_tokens":3,"logprobs":true,"top_logprobs":2,"seed":1}""")),
        ];
        byte[][] tokens = ["\""u8.ToArray(), "{"u8.ToArray(), "}"u8.ToArray(), "["u8.ToArray(), "]"u8.ToArray(), ","u8.ToArray(), ":"u8.ToArray(), "\\"u8.ToArray(), "\\ud800"u8.ToArray(), "null"u8.ToArray(), "1e400"u8.ToArray(), "-"u8.ToArray(), [0xED, 0xA0, 0x80], [0xFF], [0x00]];
        for (var i = 0; i < count; i++)
        {
            var (path, original) = seeds[random.Next(seeds.Length)];
            var bytes = new List<byte>(original);
            var edits = random.Next(1, 5);
            for (var edit = 0; edit < edits && bytes.Count > 1; edit++)
            {
                var at = random.Next(bytes.Count);
                switch (random.Next(6))
                {
                    case 0:
                        bytes[at] ^= (byte)(1 << random.Next(8));
                        break;
                    case 1:
                        bytes[at] = (byte)random.Next(256);
                        break;
                    case 2:
                        bytes.Insert(at, (byte)random.Next(256));
                        break;
                    case 3:
                        bytes.RemoveAt(at);
                        break;
                    case 4:
                        var length = random.Next(1, Math.Min(16, bytes.Count - at) + 1);
                        bytes.InsertRange(at, bytes.GetRange(at, length));
                        break;
                    default:
                        bytes.InsertRange(at, tokens[random.Next(tokens.Length)]);
                        break;
                }
            }

            yield return Post($"mutation #{i} ({edits} edits)", path, [.. bytes], Expect.Any);
        }
    }
}
