using System.Text.Json;

namespace LlmAspire.Inference.Constraints;

/// <summary>What a request asks its output to match, in the words it used: the key a compiled grammar is cached by.</summary>
/// <param name="Kind">Which language <paramref name="Source"/> is in.</param>
/// <param name="Source">The schema, pattern, choices (a JSON array) or grammar text.</param>
public sealed record OutputConstraint(OutputConstraintKind Kind, string Source)
{
    /// <summary>Output valid against a JSON Schema.</summary>
    public static OutputConstraint JsonSchema(string schema) => new(OutputConstraintKind.JsonSchema, schema);

    /// <summary>Any JSON object.</summary>
    public static OutputConstraint JsonObject() => new(OutputConstraintKind.JsonObject, "");

    /// <summary>Output the regular expression matches fully.</summary>
    public static OutputConstraint Regex(string pattern) => new(OutputConstraintKind.Regex, pattern);

    /// <summary>Output exactly one of the strings.</summary>
    public static OutputConstraint Choice(IEnumerable<string> choices) => new(OutputConstraintKind.Choice, System.Text.Json.JsonSerializer.Serialize(choices.ToArray(), ConstraintJsonContext.Default.StringArray));

    /// <summary>Output in the language of a GBNF grammar.</summary>
    public static OutputConstraint Gbnf(string grammar) => new(OutputConstraintKind.Gbnf, grammar);

    /// <summary>The grammar; a <see cref="GrammarException"/> names what is wrong with the source.</summary>
    public Grammar ToGrammar() => Kind switch
    {
        OutputConstraintKind.JsonSchema => JsonSchemaGrammar.FromSchema(Source),
        OutputConstraintKind.JsonObject => JsonSchemaGrammar.AnyJson(),
        OutputConstraintKind.Regex => Grammar.FromRegex(Source),
        OutputConstraintKind.Choice => Grammar.FromChoices(System.Text.Json.JsonSerializer.Deserialize(Source, ConstraintJsonContext.Default.StringArray) ?? []),
        OutputConstraintKind.Gbnf => Grammar.ParseGbnf(Source),
        OutputConstraintKind.ToolCalls => Tools.ToolCallGrammar.FromSpec(Source),
        _ => throw new GrammarException($"Unknown constraint kind {Kind}."),
    };
}

/// <summary>The languages an <see cref="OutputConstraint"/> can be written in.</summary>
public enum OutputConstraintKind
{
    /// <summary>A JSON Schema (<see cref="JsonSchemaGrammar"/>).</summary>
    JsonSchema,

    /// <summary>Any JSON object (<c>response_format: json_object</c>).</summary>
    JsonObject,

    /// <summary>A regular expression (<see cref="RegexParser"/>).</summary>
    Regex,

    /// <summary>One of a list of strings.</summary>
    Choice,

    /// <summary>A GBNF grammar (<see cref="GbnfParser"/>).</summary>
    Gbnf,

    /// <summary>Function calls in a model family's syntax (<see cref="Tools.ToolCallSpec"/>).</summary>
    ToolCalls,
}

/// <summary>Source-generated JSON for the choice lists.</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(string[]))]
internal sealed partial class ConstraintJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
