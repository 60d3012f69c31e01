namespace LlmAspire.Gateway.Auth;

/// <summary>
/// API keys, section <c>Gateway:Auth</c>. With no key configured the gateway is open (a warning at start-up);
/// with keys, every <c>/v1/*</c> request needs one as <c>Authorization: Bearer KEY</c> or <c>api-key: KEY</c>.
/// </summary>
public sealed class AuthOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Gateway:Auth";

    /// <summary>
    /// SHA-256 of each accepted key, as 64 hex digits (<c>printf %s "$KEY" | sha256sum</c>). The preferred form:
    /// the key itself never reaches the gateway's configuration.
    /// </summary>
    public string[] KeyHashes { get; set; } = [];

    /// <summary>
    /// Accepted keys in plain text, hashed at start-up (for deployments whose secret store hands over the key
    /// itself, e.g. the published manifest's <c>gateway-api-key</c> parameter). Empty entries are ignored.
    /// </summary>
    public string[] Keys { get; set; } = [];

    internal static bool IsValid(AuthOptions options) =>
        options.KeyHashes.All(ApiKeyHasher.IsHash);

    internal const string ValidationMessage =
        "Gateway:Auth:KeyHashes must hold SHA-256 hashes as 64 hex digits (printf %s \"$KEY\" | sha256sum).";
}
