using System.Text;
using System.Text.Json.Nodes;

namespace LlmAspire.Cli.Benchmarking;

/// <summary>
/// One request of a soak: where it goes, its bytes, and for <see cref="SoakRequestKind.Cancelled"/> how many events
/// the client reads before it goes away. <see cref="Create"/> makes request <c>index</c> of a seeded mix: plain 35 %,
/// streamed 30 %, cancelled mid-stream 20 %, invalid 15 %; half completions, half chat; one in five greedy over a small
/// set of prompts (so the gateway's cache answers some), the rest sampled over fresh ones.
/// </summary>
public sealed record SoakRequest(SoakRequestKind Kind, string Path, byte[] Body, string ContentType, int CancelAfterEvents)
{
    private static readonly string[] s_words =
    [
        "Once", "upon", "a", "time", "there", "was", "little", "girl", "named", "Lily", "Ben", "dog", "cat", "park", "ball",
        "big", "red", "happy", "sad", "went", "saw", "played", "ran", "jumped", "and", "then", "with", "in", "the", "tree",
        "sun", "mom", "dad", "friend", "house", "garden", "flower", "toy", "cake", "water", "sky", "fish", "blue", "kind",
    ];

    /// <summary>Bodies the services must refuse (4xx), and the content type each is sent with.</summary>
    private static readonly (string Path, byte[] Body, string ContentType)[] s_invalid =
    [
        ("v1/completions", Encoding.UTF8.GetBytes("""{"prompt":"Once upon"""), "application/json"),
        ("v1/completions", [.. """{"prompt":"a"""u8, 0xED, 0xA0, 0x80, .. "\"}"u8], "application/json"),
        ("v1/completions", Encoding.UTF8.GetBytes("""{"prompt":"a\ud800"}"""), "application/json"),
        ("v1/completions", Encoding.UTF8.GetBytes("""{"prompt":"a","max_tokens":0}"""), "application/json"),
        ("v1/completions", Encoding.UTF8.GetBytes("""{"prompt":"a","temperature":5}"""), "application/json"),
        ("v1/completions", Encoding.UTF8.GetBytes("""{"prompt":"a","n":100000}"""), "application/json"),
        ("v1/completions", Encoding.UTF8.GetBytes("""{"prompt":"a","model":"no-such-model"}"""), "application/json"),
        ("v1/completions", Encoding.UTF8.GetBytes("""{"prompt":"a"}"""), "text/plain"),
        ("v1/completions", Encoding.UTF8.GetBytes("{\"x\":" + new string('[', 1000)), "application/json"),
        ("v1/chat/completions", Encoding.UTF8.GetBytes("""{"messages":[]}"""), "application/json"),
        ("v1/chat/completions", Encoding.UTF8.GetBytes("""{"messages":[{"role":"tool","content":"x"}]}"""), "application/json"),
        ("v1/chat/completions", Encoding.UTF8.GetBytes("""{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}"""), "application/json"),
        ("v1/chat/completions", Encoding.UTF8.GetBytes("""{"messages":"hi","max_tokens":1.5}"""), "application/json"),
    ];

    /// <summary>Request <paramref name="index"/> of the mix seeded by <paramref name="seed"/> (the same pair gives the same request).</summary>
    public static SoakRequest Create(int index, int seed, string? model, int maxTokens)
    {
        var random = new Random(unchecked((seed * 1_000_003) + index));
        double draw = random.NextDouble();
        SoakRequestKind kind = draw switch
        {
            < 0.35 => SoakRequestKind.Plain,
            < 0.65 => SoakRequestKind.Streamed,
            < 0.85 => SoakRequestKind.Cancelled,
            _ => SoakRequestKind.Invalid,
        };
        if (kind == SoakRequestKind.Invalid)
        {
            var (path, body, contentType) = s_invalid[random.Next(s_invalid.Length)];
            return new SoakRequest(kind, path, body, contentType, 0);
        }

        bool chat = random.Next(2) == 0;
        bool greedy = random.Next(5) == 0;
        string prompt = greedy
            ? $"{s_words[random.Next(8)]} {s_words[random.Next(8, 16)]}"
            : string.Join(' ', Enumerable.Range(0, random.Next(2, 24)).Select(_ => s_words[random.Next(s_words.Length)]));
        var json = new JsonObject
        {
            // A dropped stream must still be running when the client goes: give it room to run.
            ["max_tokens"] = kind == SoakRequestKind.Cancelled ? Math.Max(maxTokens, 48) : maxTokens,
            ["temperature"] = greedy ? 0 : 0.9,
        };
        if (model is not null)
        {
            json["model"] = model;
        }

        if (kind != SoakRequestKind.Plain)
        {
            json["stream"] = true;
            if (random.Next(2) == 0)
            {
                json["stream_options"] = new JsonObject { ["include_usage"] = true };
            }
        }

        if (chat)
        {
            json["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt });
        }
        else
        {
            json["prompt"] = prompt;
        }

        return new SoakRequest(
            kind,
            chat ? "v1/chat/completions" : "v1/completions",
            Encoding.UTF8.GetBytes(json.ToJsonString()),
            "application/json",
            kind == SoakRequestKind.Cancelled ? random.Next(1, 4) : 0);
    }
}
