using System.Text;

namespace LlmAspire.Inference.Tokenization;

/// <summary>Turns a stream of token ids into text without ever emitting a broken UTF-8 sequence.</summary>
public sealed class StreamingDetokenizer
{
    private readonly ITokenizer _tokenizer;
    private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();
    private char[] _chars = new char[64];

    /// <summary>Creates a detokenizer for one sequence.</summary>
    public StreamingDetokenizer(ITokenizer tokenizer)
    {
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
    }

    /// <summary>Adds a token; returns the text completed by it (possibly empty while a character is incomplete).</summary>
    public string Push(int tokenId)
    {
        ReadOnlySpan<byte> bytes = _tokenizer.TokenBytes(tokenId);
        int needed = _decoder.GetCharCount(bytes, flush: false);
        if (needed > _chars.Length)
        {
            _chars = new char[Math.Max(needed, _chars.Length * 2)];
        }

        int count = _decoder.GetChars(bytes, _chars, flush: false);
        return new string(_chars, 0, count);
    }

    /// <summary>Ends the stream: an unfinished character becomes U+FFFD.</summary>
    public string Flush()
    {
        int count = _decoder.GetChars(ReadOnlySpan<byte>.Empty, _chars, flush: true);
        return new string(_chars, 0, count);
    }
}
