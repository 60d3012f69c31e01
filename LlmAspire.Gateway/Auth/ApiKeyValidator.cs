using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace LlmAspire.Gateway.Auth;

/// <summary>
/// Checks presented keys against the configured hashes. Only hashes are kept: plain keys from
/// <see cref="AuthOptions.Keys"/> are hashed when the validator is built. Comparisons are constant-time.
/// </summary>
public sealed class ApiKeyValidator
{
    private readonly (byte[] Hash, ApiKeyIdentity Identity)[] _keys;

    /// <summary>Builds the validator from the configured hashes and keys.</summary>
    public ApiKeyValidator(IOptions<AuthOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var hashes = options.Value.KeyHashes
            .Where(ApiKeyHasher.IsHash)
            .Select(hash => hash.Trim().ToLowerInvariant())
            .Concat(options.Value.Keys.Where(key => !string.IsNullOrEmpty(key)).Select(ApiKeyHasher.Hash))
            .Distinct(StringComparer.Ordinal);
        _keys = [.. hashes.Select(hash => (ApiKeyHasher.ParseHash(hash), ApiKeyIdentity.FromHash(hash)))];
    }

    /// <summary>True when no key is configured: every caller is <see cref="ApiKeyIdentity.Anonymous"/>.</summary>
    public bool IsOpen => _keys.Length == 0;

    /// <summary>How many distinct keys are accepted.</summary>
    public int KeyCount => _keys.Length;

    /// <summary>The identities of the accepted keys (short hashes), for the start-up log.</summary>
    public IEnumerable<string> KeyIds => _keys.Select(key => key.Identity.Id);

    /// <summary>Whether <paramref name="key"/> is one of the accepted keys; its identity when it is.</summary>
    public bool TryValidate(string key, out ApiKeyIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(key);
        Span<byte> presented = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), presented);

        // Compare against every key so the time taken does not depend on which one matched.
        ApiKeyIdentity? match = null;
        foreach (var (hash, keyIdentity) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, presented))
            {
                match = keyIdentity;
            }
        }

        identity = match ?? ApiKeyIdentity.Anonymous;
        return match is not null;
    }

    /// <summary>
    /// The key a request presents: <c>Authorization: Bearer KEY</c>, else Azure OpenAI's <c>api-key: KEY</c>; null when neither.
    /// </summary>
    public static string? ReadPresentedKey(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var authorization = request.Headers.Authorization.ToString();
        const string Bearer = "Bearer ";
        if (authorization.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase))
        {
            var key = authorization[Bearer.Length..].Trim();
            return key.Length > 0 ? key : null;
        }

        var apiKey = request.Headers["api-key"].ToString().Trim();
        return apiKey.Length > 0 ? apiKey : null;
    }
}
