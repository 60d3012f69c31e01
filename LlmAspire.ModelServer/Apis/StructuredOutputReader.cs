using System.Text.Json;
using LlmAspire.Inference.Constraints;
using LlmAspire.OpenAIApi;
using LlmAspire.OpenAIApi.Completions;
using LlmAspire.OpenAIApi.Errors;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LlmAspire.ModelServer.Apis;

/// <summary>
/// Reads what a request asks its output to match: OpenAI's <c>response_format</c> (chat: <c>text</c>,
/// <c>json_object</c>, <c>json_schema</c> with <c>json_schema.schema</c>), and vLLM's extensions on both endpoints —
/// <c>guided_json</c> (a schema, as an object or a string), <c>guided_regex</c>, <c>guided_choice</c>,
/// <c>guided_grammar</c> (GBNF) and <c>structured_outputs</c> with one of <c>json</c>, <c>regex</c>, <c>choice</c>,
/// <c>grammar</c>, <c>json_object</c>. At most one may be given. Whether the constraint compiles is checked with the
/// model (<see cref="GenerationPipeline"/>).
/// </summary>
internal static class StructuredOutputReader
{
    /// <summary>The constraint of vLLM's fields, or null.</summary>
    public static JsonHttpResult<OpenAIErrorResponse>? ReadGuided(SamplingRequest request, out RequestedConstraint? constraint)
    {
        constraint = null;
        var found = new List<RequestedConstraint>();
        foreach ((JsonElement? value, string param, string kind) in (ReadOnlySpan<(JsonElement?, string, string)>)
                 [(request.GuidedJson, "guided_json", "json"), (request.GuidedRegex, "guided_regex", "regex"), (request.GuidedChoice, "guided_choice", "choice"), (request.GuidedGrammar, "guided_grammar", "grammar")])
        {
            if (value is { ValueKind: not JsonValueKind.Null } v)
            {
                if (Read(v, param, kind, out var one) is { } error)
                {
                    return error;
                }

                found.Add(one!);
            }
        }

        if (request.StructuredOutputs is { ValueKind: not JsonValueKind.Null } outputs)
        {
            if (outputs.ValueKind != JsonValueKind.Object)
            {
                return OpenAIErrors.BadRequest("Invalid 'structured_outputs': expected an object with one of 'json', 'regex', 'choice', 'grammar' or 'json_object'.", "structured_outputs", "invalid_type");
            }

            foreach (JsonProperty p in outputs.EnumerateObject())
            {
                if (p.Value.ValueKind == JsonValueKind.Null || p.Name is "disable_fallback" or "disable_any_whitespace" or "disable_additional_properties" or "whitespace_pattern")
                {
                    continue;
                }

                if (p.Name is not ("json" or "regex" or "choice" or "grammar" or "json_object"))
                {
                    return OpenAIErrors.BadRequest($"Invalid 'structured_outputs.{p.Name}': supported are 'json', 'regex', 'choice', 'grammar' and 'json_object'.", $"structured_outputs.{p.Name}", "unsupported_parameter");
                }

                if (Read(p.Value, $"structured_outputs.{p.Name}", p.Name, out var one) is { } error)
                {
                    return error;
                }

                found.Add(one!);
            }
        }

        if (found.Count > 1)
        {
            return OpenAIErrors.BadRequest(
                $"Only one structured-output constraint may be given; this request has {string.Join(", ", found.Select(f => $"'{f.Param}'"))}.", found[1].Param, "invalid_value");
        }

        constraint = found.FirstOrDefault();
        return null;
    }

    /// <summary>The constraint of OpenAI's <c>response_format</c>; null for <c>text</c> or when absent.</summary>
    public static JsonHttpResult<OpenAIErrorResponse>? ReadResponseFormat(JsonElement? format, out RequestedConstraint? constraint)
    {
        constraint = null;
        if (format is null or { ValueKind: JsonValueKind.Null })
        {
            return null;
        }

        JsonElement f = format.Value;
        if (f.ValueKind != JsonValueKind.Object || !f.TryGetProperty("type", out JsonElement type) || type.ValueKind != JsonValueKind.String)
        {
            return OpenAIErrors.BadRequest("Invalid 'response_format': expected an object with a 'type' of 'text', 'json_object' or 'json_schema'.", "response_format", "invalid_type");
        }

        switch (type.GetString())
        {
            case "text":
                return null;
            case "json_object":
                constraint = new RequestedConstraint(OutputConstraint.JsonObject(), "response_format");
                return null;
            case "json_schema":
                if (!f.TryGetProperty("json_schema", out JsonElement spec) || spec.ValueKind != JsonValueKind.Object)
                {
                    return OpenAIErrors.BadRequest("Missing required parameter: 'response_format.json_schema'.", "response_format.json_schema", "missing_required_parameter");
                }

                if (!spec.TryGetProperty("name", out JsonElement name) || name.ValueKind != JsonValueKind.String || name.GetString()!.Length == 0)
                {
                    return OpenAIErrors.BadRequest("Missing required parameter: 'response_format.json_schema.name'.", "response_format.json_schema.name", "missing_required_parameter");
                }

                if (!spec.TryGetProperty("schema", out JsonElement schema) || schema.ValueKind is not (JsonValueKind.Object or JsonValueKind.True))
                {
                    return OpenAIErrors.BadRequest("Missing required parameter: 'response_format.json_schema.schema' (a JSON Schema object).", "response_format.json_schema.schema", "missing_required_parameter");
                }

                constraint = new RequestedConstraint(OutputConstraint.JsonSchema(schema.GetRawText()), "response_format.json_schema.schema");
                return null;
            default:
                return OpenAIErrors.BadRequest(
                    $"Invalid 'response_format.type': '{type.GetString()}'. Supported values are 'text', 'json_object' and 'json_schema'.", "response_format.type", "invalid_value");
        }
    }

    private static JsonHttpResult<OpenAIErrorResponse>? Read(JsonElement value, string param, string kind, out RequestedConstraint? constraint)
    {
        constraint = null;
        switch (kind)
        {
            case "json":
                if (value.ValueKind == JsonValueKind.String)
                {
                    constraint = new RequestedConstraint(OutputConstraint.JsonSchema(value.GetString()!), param);
                }
                else if (value.ValueKind is JsonValueKind.Object or JsonValueKind.True)
                {
                    constraint = new RequestedConstraint(OutputConstraint.JsonSchema(value.GetRawText()), param);
                }
                else
                {
                    return OpenAIErrors.BadRequest($"Invalid '{param}': expected a JSON Schema (an object, or a string holding one).", param, "invalid_type");
                }

                return null;
            case "json_object":
                if (value.ValueKind != JsonValueKind.True)
                {
                    return value.ValueKind == JsonValueKind.False ? null : OpenAIErrors.BadRequest($"Invalid '{param}': expected a boolean.", param, "invalid_type");
                }

                constraint = new RequestedConstraint(OutputConstraint.JsonObject(), param);
                return null;
            case "choice":
                if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() == 0 || value.EnumerateArray().Any(c => c.ValueKind != JsonValueKind.String))
                {
                    return OpenAIErrors.BadRequest($"Invalid '{param}': expected a non-empty array of strings.", param, "invalid_type");
                }

                constraint = new RequestedConstraint(OutputConstraint.Choice(value.EnumerateArray().Select(c => c.GetString()!)), param);
                return null;
            default:
                if (value.ValueKind != JsonValueKind.String)
                {
                    return OpenAIErrors.BadRequest($"Invalid '{param}': expected a string.", param, "invalid_type");
                }

                constraint = new RequestedConstraint(kind == "regex" ? OutputConstraint.Regex(value.GetString()!) : OutputConstraint.Gbnf(value.GetString()!), param);
                return null;
        }
    }
}

/// <summary>A constraint and the parameter it came from (named in errors).</summary>
internal sealed record RequestedConstraint(OutputConstraint Constraint, string Param);
