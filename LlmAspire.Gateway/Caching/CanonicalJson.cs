using System.Globalization;
using System.Text.Json;

namespace LlmAspire.Gateway.Caching;

/// <summary>
/// One spelling per JSON value, so equal requests hash alike: object members sorted by name (ordinal), no
/// whitespace, numbers in one form (<c>0</c>, <c>0.0</c> and <c>0e0</c> are all <c>0</c>; <c>0.50</c> is <c>0.5</c>),
/// strings re-escaped by one writer.
/// </summary>
public static class CanonicalJson
{
    /// <summary>Writes <paramref name="element"/> canonically.</summary>
    public static void Write(JsonElement element, Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    Write(property.Value, writer);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    Write(item, writer);
                }

                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(element.GetString());
                break;
            case JsonValueKind.Number:
                WriteNumber(element, writer);
                break;
            case JsonValueKind.True:
                writer.WriteBooleanValue(true);
                break;
            case JsonValueKind.False:
                writer.WriteBooleanValue(false);
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }

    /// <summary>The canonical text of <paramref name="json"/>.</summary>
    public static string ToCanonicalString(string json)
    {
        using var document = JsonDocument.Parse(json);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(document.RootElement, writer);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteNumber(JsonElement element, Utf8JsonWriter writer)
    {
        if (element.TryGetInt64(out var integer))
        {
            writer.WriteNumberValue(integer);
        }
        else if (element.TryGetDecimal(out var number))
        {
            // Dividing by 1.000…0 drops trailing zeros: 0.50m → 0.5m, 1.0m → 1m.
            var normalized = number / 1.0000000000000000000000000000m;
            if (decimal.IsInteger(normalized) && normalized >= long.MinValue && normalized <= long.MaxValue)
            {
                writer.WriteNumberValue((long)normalized);
            }
            else
            {
                writer.WriteRawValue(normalized.ToString(CultureInfo.InvariantCulture), skipInputValidation: true);
            }
        }
        else if (element.TryGetDouble(out var real) && double.IsFinite(real))
        {
            writer.WriteRawValue(real.ToString("R", CultureInfo.InvariantCulture), skipInputValidation: true);
        }
        else
        {
            // Beyond a double (1e400): the number as written, so the text stays JSON and distinct values stay distinct.
            writer.WriteRawValue(element.GetRawText(), skipInputValidation: true);
        }
    }
}
