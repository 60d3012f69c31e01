namespace LlmAspire.Gateway.Auth;

/// <summary>
/// Who is calling, as an HttpContext feature: the first <see cref="ApiKeyHasher.ShortHashLength"/> hex digits of
/// the key's SHA-256, or <c>anonymous</c> in open mode. Safe to log and to use in cache and rate-limit keys.
/// </summary>
public sealed class ApiKeyIdentity
{
    /// <summary>The identity of every caller in open mode.</summary>
    public static ApiKeyIdentity Anonymous { get; } = new("anonymous");

    internal ApiKeyIdentity(string id) => Id = id;

    /// <summary>The key's short hash, or <c>anonymous</c>.</summary>
    public string Id { get; }

    /// <summary>Creates the identity of a key whose SHA-256 is <paramref name="hashHex"/>.</summary>
    public static ApiKeyIdentity FromHash(string hashHex)
    {
        ArgumentNullException.ThrowIfNull(hashHex);
        return new(hashHex.Trim()[..ApiKeyHasher.ShortHashLength].ToLowerInvariant());
    }
}

/// <summary>Access to the caller's identity.</summary>
public static class ApiKeyIdentityExtensions
{
    /// <summary>The caller's identity: set by the API-key middleware; <see cref="ApiKeyIdentity.Anonymous"/> when absent.</summary>
    public static ApiKeyIdentity GetApiKeyIdentity(this HttpContext context) =>
        context?.Features.Get<ApiKeyIdentity>() ?? ApiKeyIdentity.Anonymous;
}
