using System.Text.Json;
using System.Text.Json.Serialization;
using LlmAspire.Inference.Constraints;

namespace LlmAspire.Inference.Tools;

/// <summary>
/// What an answer with tools must look like: the syntax, the functions (name and parameter schema), the choice,
/// whether several calls may follow one another, and for <c>auto</c> the format text must have (a response format,
/// or null for free text). Written as canonical JSON it is the source of an <see cref="OutputConstraint"/>, so equal
/// requests share one compiled grammar.
/// </summary>
public sealed record ToolCallSpec(ToolCallSyntax Syntax, IReadOnlyList<ToolCallSpec.Function> Functions, ToolChoiceMode Mode, string? Named, bool Parallel, OutputConstraint? Text)
{
    /// <summary>A function: its name and its parameters' JSON Schema (null: no parameters).</summary>
    public sealed record Function(string Name, string? Parameters);

    /// <summary>The constraint for <see cref="CompiledGrammar"/> caches.</summary>
    public OutputConstraint ToConstraint() => new(OutputConstraintKind.ToolCalls, JsonSerializer.Serialize(new Wire(Syntax, [.. Functions], Mode, Named, Parallel, Text?.Kind, Text?.Source), ToolJsonContext.Default.Wire));

    /// <summary>Reads what <see cref="ToConstraint"/> wrote.</summary>
    public static ToolCallSpec Parse(string source)
    {
        Wire wire = JsonSerializer.Deserialize(source, ToolJsonContext.Default.Wire) ?? throw new GrammarException("Empty tool-call specification.");
        return new ToolCallSpec(wire.Syntax, wire.Functions, wire.Mode, wire.Named, wire.Parallel, wire.TextKind is { } kind ? new OutputConstraint(kind, wire.TextSource ?? "") : null);
    }

    internal sealed record Wire(ToolCallSyntax Syntax, Function[] Functions, ToolChoiceMode Mode, string? Named, bool Parallel, OutputConstraintKind? TextKind, string? TextSource);
}

/// <summary>Source-generated JSON for the tool-call specification.</summary>
[JsonSourceGenerationOptions(UseStringEnumConverter = true)]
[JsonSerializable(typeof(ToolCallSpec.Wire))]
[JsonSerializable(typeof(string))]
internal sealed partial class ToolJsonContext : JsonSerializerContext;
