using System.Security.Cryptography;
using System.Text;

namespace LlmAspire.Gateway.Auth;

/// <summary>SHA-256 of API keys, as lowercase hex: what <c>printf %s "$KEY" | sha256sum</c> prints.</summary>
public static class ApiKeyHasher
{
    /// <summary>Hex digits of a key hash that logs and cache namespaces may show.</summary>
    public const int ShortHashLength = 16;

    /// <summary>The SHA-256 of the key's UTF-8 bytes, 64 lowercase hex digits.</summary>
    public static string Hash(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
    }

    /// <summary>Whether <paramref name="text"/> is a SHA-256 hash in hex (either case, surrounding spaces allowed).</summary>
    public static bool IsHash(string? text)
    {
        var trimmed = text.AsSpan().Trim();
        if (trimmed.Length != SHA256.HashSizeInBytes * 2)
        {
            return false;
        }

        foreach (var c in trimmed)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The hash's bytes; <paramref name="hash"/> must satisfy <see cref="IsHash"/>.</summary>
    public static byte[] ParseHash(string hash) => Convert.FromHexString(hash.AsSpan().Trim());
}
