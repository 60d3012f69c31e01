using System.Text;
using LlmAspire.OpenAIApi.Requests;

namespace LlmAspire.Tests.OpenAIApi;

/// <summary>The checks every request body passes before any field is read, in both services.</summary>
public sealed class OpenAIJsonBodyTests
{
    private static readonly byte[] s_bom = [0xEF, 0xBB, 0xBF];

    public static TheoryData<string, byte[]> InvalidUtf8 { get; } = new()
    {
        { "an encoded lone high surrogate", [0xED, 0xA0, 0x80] },
        { "an encoded lone low surrogate", [0xED, 0xBF, 0xBF] },
        { "an overlong NUL", [0xC0, 0x80] },
        { "an overlong three-byte form", [0xE0, 0x80, 0x80] },
        { "FF", [0xFF] },
        { "FE", [0xFE] },
        { "a lone continuation byte", [0x80] },
        { "a code point over U+10FFFF", [0xF4, 0x90, 0x80, 0x80] },
        { "a five-byte form", [0xF8, 0x88, 0x80, 0x80, 0x80] },
        { "a cut-off sequence", [0xC3] },
    };

    [Theory]
    [InlineData("""{"prompt":"Once upon a time","max_tokens":8}""")]
    [InlineData(""" {"prompt":"a"} """)]
    [InlineData("""{"prompt":"\ud83d\ude00 \u00e9 日本"}""")]
    [InlineData("""{"\ud83d\ude00":1}""")]
    [InlineData("""{"prompt":"a\u0000b"}""")]
    [InlineData("""{"prompt":"a","prompt":"b"}""")]
    public void Validate_ValidObject_IsNull(string json) =>
        Assert.Null(OpenAIJsonBody.Validate(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void Validate_ByteOrderMark_IsIgnored()
    {
        Assert.Null(OpenAIJsonBody.Validate([.. s_bom, .. """{"prompt":"a"}"""u8]));
        Assert.Null(OpenAIJsonBody.Validate([.. s_bom, .. " \n{}"u8]));
        Assert.Equal("""{"prompt":"a"}""", Encoding.UTF8.GetString(OpenAIJsonBody.WithoutByteOrderMark((byte[])[.. s_bom, .. """{"prompt":"a"}"""u8]).Span));
    }

    [Theory]
    [InlineData("two byte-order marks")]
    [InlineData("a byte-order mark alone")]
    [InlineData("a byte-order mark after the object")]
    [InlineData("a byte-order mark inside the object")]
    public void Validate_ByteOrderMarkAnywhereButFirst_IsInvalidJson(string where)
    {
        byte[] body = where switch
        {
            "two byte-order marks" => [.. s_bom, .. s_bom, .. "{}"u8],
            "a byte-order mark alone" => s_bom,
            "a byte-order mark after the object" => [.. "{}"u8, .. s_bom],
            _ => [.. "{"u8, .. s_bom, .. "}"u8],
        };

        Assert.Equal("invalid_json", OpenAIJsonBody.Validate(body)?.Code);
    }

    [Theory]
    [MemberData(nameof(InvalidUtf8))]
    public void Validate_InvalidUtf8InAString_IsInvalidEncoding(string what, byte[] bytes)
    {
        var error = OpenAIJsonBody.Validate([.. """{"prompt":"a"""u8, .. bytes, .. "b\"}"u8]);

        Assert.True(error is { Code: "invalid_encoding", Type: "invalid_request_error", Param: null }, what);
    }

    [Theory]
    [MemberData(nameof(InvalidUtf8))]
    public void Validate_InvalidUtf8InAPropertyName_IsInvalidEncoding(string what, byte[] bytes) =>
        Assert.True(OpenAIJsonBody.Validate([.. """{"x"""u8, .. bytes, .. "\":1}"u8])?.Code == "invalid_encoding", what);

    [Theory]
    [InlineData("""{"prompt":"a\ud800b"}""")]
    [InlineData("""{"prompt":"a\udfff"}""")]
    [InlineData("""{"prompt":"\uD800\u0041"}""")]
    [InlineData("""{"prompt":"\udc00\ud800"}""")]
    [InlineData("""{"prompt":"\ud800\ud800"}""")]
    [InlineData("""{"x\ud800":1}""")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"text","text":"\ud83d"}]}]}""")]
    [InlineData("""{"logit_bias":{"1\udfff":1}}""")]
    public void Validate_EscapedLoneSurrogate_IsInvalidEncoding(string json)
    {
        var error = OpenAIJsonBody.Validate(Encoding.UTF8.GetBytes(json));

        Assert.Equal("invalid_encoding", error?.Code);
        Assert.Contains("surrogate", error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_EscapedLoneSurrogateInALongString_IsFoundPastTheFirstBuffer()
    {
        var json = "{\"a\":\"" + new string('x', 100_000) + "\\n\",\"prompt\":\"" + new string('y', 50_000) + "\\ud800\"}";

        Assert.Equal("invalid_encoding", OpenAIJsonBody.Validate(Encoding.UTF8.GetBytes(json))?.Code);
    }

    [Theory]
    [InlineData(63, true)]
    [InlineData(64, false)]
    [InlineData(100_000, false)]
    public void Validate_NestedArrays_AreAcceptedToTheMaximumDepth(int arrays, bool valid)
    {
        // The object itself is the first level: 63 arrays inside it make 64.
        var json = "{\"x\":" + new string('[', arrays) + new string(']', arrays) + "}";

        var error = OpenAIJsonBody.Validate(Encoding.UTF8.GetBytes(json));

        Assert.Equal(valid, error is null);
        Assert.True(valid || error!.Code == "invalid_json");
    }

    [Fact]
    public void Validate_HundredThousandUnclosedObjects_IsInvalidJsonWithoutOverflowingTheStack()
    {
        var json = string.Concat(Enumerable.Repeat("{\"a\":", 100_000));

        Assert.Equal("invalid_json", OpenAIJsonBody.Validate(Encoding.UTF8.GetBytes(json))?.Code);
    }

    [Theory]
    [InlineData("""{"prompt":"a"}x""")]
    [InlineData("""{"prompt":"a"}}""")]
    [InlineData("""{"prompt":"a"}{}""")]
    [InlineData("""{"prompt":"a"},""")]
    [InlineData("""{"prompt":"a"} // comment""")]
    [InlineData("""{"prompt":"a"} null""")]
    [InlineData("{\"prompt\":\"a\"}\u00a0")]
    [InlineData("{\"prompt\":\"a\"}\u0000")]
    public void Validate_TrailingGarbage_IsInvalidJson(string json) =>
        Assert.Equal("invalid_json", OpenAIJsonBody.Validate(Encoding.UTF8.GetBytes(json))?.Code);

    [Theory]
    [InlineData("")]
    [InlineData(" \r\n\t")]
    public void Validate_Empty_IsInvalidJsonSayingSo(string json)
    {
        var error = OpenAIJsonBody.Validate(Encoding.UTF8.GetBytes(json));

        Assert.Equal("invalid_json", error?.Code);
        Assert.Contains("empty", error!.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("\"prompt\"")]
    [InlineData("1")]
    public void Validate_NotAnObject_IsInvalidJson(string json) =>
        Assert.Equal("invalid_json", OpenAIJsonBody.Validate(Encoding.UTF8.GetBytes(json))?.Code);

    [Theory]
    [InlineData("""{"prompt":"a",}""")]
    [InlineData("""{"temperature":NaN}""")]
    [InlineData("""{"temperature":Infinity}""")]
    [InlineData("""{"max_tokens":01}""")]
    [InlineData("""{"prompt":"a\x"}""")]
    [InlineData("{\"prompt\":\"a\nb\"}")]
    [InlineData("""{"prompt":"a" """)]
    public void Validate_MalformedJson_IsInvalidJson(string json) =>
        Assert.Equal("invalid_json", OpenAIJsonBody.Validate(Encoding.UTF8.GetBytes(json))?.Code);
}
