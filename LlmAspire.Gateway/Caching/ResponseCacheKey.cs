using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using LlmAspire.Gateway.Requests;

namespace LlmAspire.Gateway.Caching;

/// <summary>
/// The key of a cached response: <c>llmaspire:response:v1:{caller}:{sha256}</c>, where the hash covers the path,
/// the configured revision and the canonical JSON of the whole body (model, prompt or messages, <c>stream</c>,
/// <c>n</c> and every sampling parameter), and the caller is the API key's short hash or <c>anonymous</c>.
/// </summary>
public static class ResponseCacheKey
{
    /// <summary>The prefix of every response key.</summary>
    public const string Prefix = "llmaspire:response:v1:";

    /// <summary>The key of <paramref name="request"/> for <paramref name="callerId"/>.</summary>
    public static string Create(CompletionRequestInfo request, string callerId, string revision)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var document = JsonDocument.Parse(request.Body);
        var buffer = new ArrayBufferWriter<byte>(request.Body.Length + 128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("path", request.Path);
            writer.WriteString("revision", revision);
            writer.WritePropertyName("body");
            CanonicalJson.Write(document.RootElement, writer);
            writer.WriteEndObject();
        }

        return Prefix + callerId + ":" + Convert.ToHexStringLower(SHA256.HashData(buffer.WrittenSpan));
    }
}
