namespace LlmAspire.Inference.Tokenization;

/// <summary>
/// GPT-2's reversible byte ↔ character map (<c>bytes_to_unicode</c>): printable Latin-1 bytes stand for
/// themselves, the other 68 bytes (controls, space, DEL, NBSP, soft hyphen) for U+0100 onwards in byte order.
/// Byte-level BPE vocabularies (GPT-2, Llama 3, Qwen) spell every token in these characters.
/// </summary>
internal static class ByteLevelAlphabet
{
    private static readonly char[] ByteToCharTable = BuildByteToChar();
    private static readonly short[] CharToByteTable = BuildCharToByte();

    /// <summary>The character that stands for <paramref name="value"/>.</summary>
    public static char ByteToChar(byte value) => ByteToCharTable[value];

    /// <summary>The byte a character stands for, or -1 when it is outside the alphabet.</summary>
    public static int CharToByte(char c) => c < CharToByteTable.Length ? CharToByteTable[c] : -1;

    /// <summary>Maps UTF-8 bytes to their characters.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        return string.Create(bytes.Length, bytes.ToArray(), static (chars, source) =>
        {
            for (int i = 0; i < source.Length; i++)
            {
                chars[i] = ByteToCharTable[source[i]];
            }
        });
    }

    /// <summary>
    /// Maps a token spelled in the alphabet back to its bytes; characters outside the alphabet (never in a
    /// well-formed vocabulary) keep their UTF-8 encoding.
    /// </summary>
    public static byte[] Decode(string token)
    {
        var bytes = new List<byte>(token.Length);
        for (int i = 0; i < token.Length; i++)
        {
            int b = CharToByte(token[i]);
            if (b >= 0)
            {
                bytes.Add((byte)b);
            }
            else
            {
                int length = char.IsHighSurrogate(token[i]) && i + 1 < token.Length ? 2 : 1;
                bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(token.Substring(i, length)));
                i += length - 1;
            }
        }

        return [.. bytes];
    }

    private static bool IsPrintable(int b) => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;

    private static char[] BuildByteToChar()
    {
        var table = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            table[b] = IsPrintable(b) ? (char)b : (char)next++;
        }

        return table;
    }

    private static short[] BuildCharToByte()
    {
        var table = new short[256 + 68];
        Array.Fill(table, (short)-1);
        for (int b = 0; b < 256; b++)
        {
            table[ByteToCharTable[b]] = (short)b;
        }

        return table;
    }
}
