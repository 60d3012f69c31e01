using System.Text.Json;

namespace LlmAspire.Inference.Models;

/// <summary>Typed reads of a transformers <c>config.json</c>: each is null when the key is absent or of another kind.</summary>
internal static class ConfigJson
{
    public static string? String(JsonElement root, string key) =>
        root.TryGetProperty(key, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static int? Int(JsonElement root, string key) =>
        root.TryGetProperty(key, out JsonElement value) && value.ValueKind == JsonValueKind.Number ? value.GetInt32() : null;

    /// <summary>A number or a non-empty array of numbers (token ids such as eos_token_id).</summary>
    public static int[]? Ints(JsonElement root, string key)
    {
        if (!root.TryGetProperty(key, out JsonElement value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.Number => [value.GetInt32()],
            JsonValueKind.Array when value.GetArrayLength() > 0 => [.. value.EnumerateArray().Select(e => e.GetInt32())],
            _ => null,
        };
    }

    public static double? Double(JsonElement root, string key) =>
        root.TryGetProperty(key, out JsonElement value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;

    public static float? Float(JsonElement root, string key) =>
        root.TryGetProperty(key, out JsonElement value) && value.ValueKind == JsonValueKind.Number ? value.GetSingle() : null;

    public static bool? Bool(JsonElement root, string key) =>
        root.TryGetProperty(key, out JsonElement value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : null;
}
