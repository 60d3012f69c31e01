using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LlmAspire.Inference.Constraints;

/// <summary>
/// JSON Schema to grammar: the subset OpenAI's strict mode accepts and a little more.
/// <list type="bullet">
/// <item><c>type</c> (one or a list) object, array, string, number, integer, boolean, null; <c>enum</c>, <c>const</c>;
/// <c>anyOf</c>/<c>oneOf</c> (as a choice), a one-item <c>allOf</c>; <c>$ref</c> to <c>#</c>, <c>#/$defs/…</c> or
/// <c>#/definitions/…</c>, recursion included.</item>
/// <item>objects: <c>properties</c> in their order, <c>required</c>, <c>additionalProperties</c> (false, true or a
/// schema; absent means false, as in strict mode).</item>
/// <item>arrays: <c>items</c>, <c>prefixItems</c>, <c>minItems</c>, <c>maxItems</c>.</item>
/// <item>strings: <c>minLength</c>, <c>maxLength</c>, <c>pattern</c> (searched, as JSON Schema does, unless anchored),
/// <c>format</c> date, time, date-time, uuid, email, ipv4 (others are annotations).</item>
/// <item>integers: <c>minimum</c>, <c>maximum</c>, <c>exclusiveMinimum</c>, <c>exclusiveMaximum</c>.</item>
/// </list>
/// Annotations (title, description, default, examples, $schema, $id, $comment…) are ignored; any other keyword is a
/// <see cref="GrammarException"/> naming it and where it stands. Output is compact JSON with at most
/// <see cref="JsonGrammarOptions.MaxWhitespace"/> whitespace characters between tokens; numbers have at most 16
/// integer and 16 fraction digits, so a schema that bounds its sizes always lets the output end.
/// </summary>
public static class JsonSchemaGrammar
{
    private static readonly HashSet<string> Annotations = new(StringComparer.Ordinal)
    {
        "title", "description", "default", "examples", "$schema", "$id", "$comment", "deprecated", "readOnly",
        "writeOnly", "$defs", "definitions", "strict", "name", "nullable",
    };

    private static readonly HashSet<string> Known = new(StringComparer.Ordinal)
    {
        "type", "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "properties", "required", "additionalProperties",
        "items", "prefixItems", "minItems", "maxItems", "minLength", "maxLength", "pattern", "format", "minimum",
        "maximum", "exclusiveMinimum", "exclusiveMaximum",
    };

    // Real calendar dates only (years 0001-9999; 29 February is left out rather than checked for leap years),
    // so that a strict validator accepts every date the grammar allows.
    private const string Date = @"(000[1-9]|00[1-9]\d|0[1-9]\d\d|[1-9]\d{3})-((0[13578]|1[02])-(0[1-9]|[12]\d|3[01])|(0[469]|11)-(0[1-9]|[12]\d|30)|02-(0[1-9]|1\d|2[0-8]))";
    private const string Time = @"([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)";

    private static readonly Dictionary<string, string> Formats = new(StringComparer.Ordinal)
    {
        ["date"] = $"^{Date}$",
        ["time"] = $"^{Time}$",
        ["date-time"] = $"^{Date}T{Time}$",
        ["uuid"] = @"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
        ["email"] = @"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63}){1,8}$",
        ["ipv4"] = @"^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$",
    };

    /// <summary>The grammar of the JSON documents <paramref name="schemaJson"/> accepts.</summary>
    public static Grammar FromSchema(string schemaJson, JsonGrammarOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(schemaJson);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(schemaJson);
        }
        catch (JsonException e)
        {
            throw new GrammarException($"The JSON Schema is not valid JSON: {e.Message}");
        }

        using (document)
        {
            return FromSchema(document.RootElement, options);
        }
    }

    /// <summary>The grammar of the JSON documents <paramref name="schema"/> accepts.</summary>
    public static Grammar FromSchema(JsonElement schema, JsonGrammarOptions? options = null) =>
        new Compiler(schema, options ?? new JsonGrammarOptions()).Compile();

    /// <summary>Any JSON value; with <paramref name="objectOnly"/>, any JSON object (<c>response_format: json_object</c>).</summary>
    public static Grammar AnyJson(bool objectOnly = true, JsonGrammarOptions? options = null)
    {
        using JsonDocument empty = JsonDocument.Parse(objectOnly ? """{"type":"object","additionalProperties":true}""" : "{}");
        return FromSchema(empty.RootElement, options);
    }

    /// <summary>Expressions of JSON text.</summary>
    internal static class Json
    {
        public static readonly CharSetExpression Digit = CharSetExpression.FromRanges([('0', '9')]);
        public static readonly CharSetExpression Hex = CharSetExpression.FromRanges([('0', '9'), ('a', 'f'), ('A', 'F')]);
        public static readonly CharSetExpression Unescaped = CharSetExpression.FromRanges([('"', '"'), ('\\', '\\'), (0, 0x1F)]).Complement();

        /// <summary>One character of a JSON string, raw or escaped.</summary>
        public static readonly GrammarExpression Char = GrammarExpression.Choice(
            Unescaped,
            GrammarExpression.Sequence(
                GrammarExpression.Literal("\\"),
                GrammarExpression.Choice(
                    CharSetExpression.FromRanges([('"', '"'), ('\\', '\\'), ('/', '/'), ('b', 'b'), ('f', 'f'), ('n', 'n'), ('r', 'r'), ('t', 't')]),
                    GrammarExpression.Sequence(GrammarExpression.Literal("u"), GrammarExpression.Repeat(Hex, 4, 4)))));

        public static readonly GrammarExpression Integer = GrammarExpression.Sequence(
            GrammarExpression.Optional(GrammarExpression.Literal("-")),
            GrammarExpression.Choice(
                GrammarExpression.Literal("0"),
                GrammarExpression.Sequence(CharSetExpression.FromRanges([('1', '9')]), GrammarExpression.Repeat(Digit, 0, IntegerRangeGrammar.MaxDigits - 1))));

        public static readonly GrammarExpression Number = GrammarExpression.Sequence(
            Integer,
            GrammarExpression.Optional(GrammarExpression.Sequence(GrammarExpression.Literal("."), GrammarExpression.Repeat(Digit, 1, 16))),
            GrammarExpression.Optional(GrammarExpression.Sequence(
                CharSetExpression.FromRanges([('e', 'e'), ('E', 'E')]),
                GrammarExpression.Optional(CharSetExpression.FromRanges([('+', '+'), ('-', '-')])),
                GrammarExpression.Repeat(Digit, 1, 3))));

        /// <summary>The JSON encoding of a string, as <see cref="JsonSerializer"/> would write it but without escaping non-ASCII.</summary>
        public static string Quote(string value)
        {
            var builder = new StringBuilder("\"");
            foreach (char c in value)
            {
                switch (c)
                {
                    case '"': builder.Append("\\\""); break;
                    case '\\': builder.Append("\\\\"); break;
                    case '\n': builder.Append("\\n"); break;
                    case '\r': builder.Append("\\r"); break;
                    case '\t': builder.Append("\\t"); break;
                    case '\b': builder.Append("\\b"); break;
                    case '\f': builder.Append("\\f"); break;
                    default:
                        if (c < 0x20)
                        {
                            builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                        }
                        else
                        {
                            builder.Append(c);
                        }

                        break;
                }
            }

            return builder.Append('"').ToString();
        }

        /// <summary>Compact JSON text of a value (strings by <see cref="Quote"/>).</summary>
        public static string Compact(JsonElement value) => value.ValueKind switch
        {
            JsonValueKind.String => Quote(value.GetString()!),
            JsonValueKind.Array => "[" + string.Join(",", value.EnumerateArray().Select(Compact)) + "]",
            JsonValueKind.Object => "{" + string.Join(",", value.EnumerateObject().Select(p => Quote(p.Name) + ":" + Compact(p.Value))) + "}",
            _ => value.GetRawText(),
        };

        /// <summary>
        /// Rewrites a pattern over the characters of a string into one over its JSON encoding: every character set
        /// keeps its raw characters and adds the escapes of the quote, backslash and control characters it holds.
        /// </summary>
        public static GrammarExpression Encode(GrammarExpression expression) => expression switch
        {
            CharSetExpression set => EncodeSet(set),
            SequenceExpression s => new SequenceExpression([.. s.Items.Select(Encode)]),
            ChoiceExpression c => new ChoiceExpression([.. c.Alternatives.Select(Encode)]),
            RepeatExpression r => r with { Item = Encode(r.Item) },
            _ => expression,
        };

        private static GrammarExpression EncodeSet(CharSetExpression set)
        {
            var alternatives = new List<GrammarExpression>();
            CharSetExpression raw = set.Intersect(Unescaped);
            if (!raw.IsEmpty)
            {
                alternatives.Add(raw);
            }

            foreach (int c in (ReadOnlySpan<int>)['"', '\\'])
            {
                if (set.Contains(c))
                {
                    alternatives.Add(GrammarExpression.Literal(Quote(((char)c).ToString())[1..^1]));
                }
            }

            foreach ((int first, int last) in set.Ranges)
            {
                for (int c = first; c <= Math.Min(last, 0x1F); c++)
                {
                    alternatives.Add(GrammarExpression.Literal(Quote(((char)c).ToString())[1..^1]));
                }
            }

            return alternatives.Count == 0 ? set : GrammarExpression.Choice(alternatives);
        }
    }

    private sealed class Compiler(JsonElement root, JsonGrammarOptions options)
    {
        private readonly Dictionary<string, GrammarExpression> _rules = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _refRules = new(StringComparer.Ordinal);
        private readonly Queue<(string Rule, string Pointer, JsonElement Schema)> _pending = new();
        private int _ruleCount;

        private static GrammarExpression Ws => GrammarExpression.Rule("ws");

        private static GrammarExpression Lit(string s) => GrammarExpression.Literal(s);

        public Grammar Compile()
        {
            _rules["ws"] = GrammarExpression.Repeat(CharSetExpression.FromRanges([(' ', ' '), ('\t', '\t'), ('\n', '\n'), ('\r', '\r')]), 0, options.MaxWhitespace);
            _rules["json-string"] = GrammarExpression.Sequence(Lit("\""), GrammarExpression.Repeat(Json.Char, 0, null), Lit("\""));
            _rules["json-value"] = GrammarExpression.Choice(
                GrammarExpression.Rule("json-object"),
                GrammarExpression.Rule("json-array"),
                GrammarExpression.Rule("json-string"),
                Json.Number,
                Lit("true"),
                Lit("false"),
                Lit("null"));
            GrammarExpression member = GrammarExpression.Sequence(GrammarExpression.Rule("json-string"), Ws, Lit(":"), Ws, GrammarExpression.Rule("json-value"));
            _rules["json-object"] = GrammarExpression.Sequence(Lit("{"), Ws, GrammarExpression.Optional(SeparatedList(member, 0, null)), Ws, Lit("}"));
            _rules["json-array"] = GrammarExpression.Sequence(Lit("["), Ws, GrammarExpression.Optional(SeparatedList(GrammarExpression.Rule("json-value"), 0, null)), Ws, Lit("]"));

            GrammarExpression body = Schema(root, "#");
            while (_pending.TryDequeue(out var next))
            {
                _rules[next.Rule] = Schema(next.Schema, next.Pointer);
            }

            _rules[Grammar.RootRule] = GrammarExpression.Sequence(Ws, body);
            return new Grammar(_rules);
        }

        /// <summary>item (ws "," ws item)*, between min and max items (min ≥ 1 when the list is there).</summary>
        private static GrammarExpression SeparatedList(GrammarExpression item, int min, int? max)
        {
            GrammarExpression more = GrammarExpression.Sequence(Ws, Lit(","), Ws, item);
            return GrammarExpression.Sequence(item, GrammarExpression.Repeat(more, Math.Max(min - 1, 0), max is null ? null : max - 1));
        }

        private GrammarException Error(string pointer, string what) => new($"JSON Schema at '{pointer}': {what}");

        private GrammarExpression Schema(JsonElement schema, string pointer)
        {
            if (schema.ValueKind == JsonValueKind.True)
            {
                return GrammarExpression.Rule("json-value");
            }

            if (schema.ValueKind == JsonValueKind.False)
            {
                throw Error(pointer, "the schema false accepts nothing.");
            }

            if (schema.ValueKind != JsonValueKind.Object)
            {
                throw Error(pointer, $"a schema must be an object or a boolean, not {schema.ValueKind.ToString().ToLowerInvariant()}.");
            }

            foreach (JsonProperty p in schema.EnumerateObject())
            {
                if (!Known.Contains(p.Name) && !Annotations.Contains(p.Name))
                {
                    throw Error(pointer, $"the keyword '{p.Name}' is not supported.");
                }
            }

            GrammarExpression value = SchemaValue(schema, pointer);
            return schema.TryGetProperty("nullable", out JsonElement nullable) && nullable.ValueKind == JsonValueKind.True
                ? GrammarExpression.Choice(value, Lit("null"))
                : value;
        }

        private GrammarExpression SchemaValue(JsonElement schema, string pointer)
        {
            if (schema.TryGetProperty("$ref", out JsonElement reference))
            {
                return Reference(reference, pointer);
            }

            if (schema.TryGetProperty("const", out JsonElement constant))
            {
                return Lit(Json.Compact(constant));
            }

            if (schema.TryGetProperty("enum", out JsonElement values))
            {
                if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() == 0)
                {
                    throw Error(pointer, "'enum' must be a non-empty array.");
                }

                return GrammarExpression.Choice(values.EnumerateArray().Select(Json.Compact).Distinct(StringComparer.Ordinal).Select(Lit));
            }

            foreach (string key in (string[])["anyOf", "oneOf"])
            {
                if (schema.TryGetProperty(key, out JsonElement options))
                {
                    if (options.ValueKind != JsonValueKind.Array || options.GetArrayLength() == 0)
                    {
                        throw Error(pointer, $"'{key}' must be a non-empty array of schemas.");
                    }

                    return GrammarExpression.Choice(options.EnumerateArray().Select((s, i) => Schema(s, $"{pointer}/{key}/{i}")));
                }
            }

            if (schema.TryGetProperty("allOf", out JsonElement all))
            {
                if (all.ValueKind != JsonValueKind.Array || all.GetArrayLength() != 1)
                {
                    throw Error(pointer, "'allOf' is supported with exactly one schema.");
                }

                return Schema(all[0], pointer + "/allOf/0");
            }

            if (!schema.TryGetProperty("type", out JsonElement type))
            {
                if (schema.TryGetProperty("properties", out _) || schema.TryGetProperty("additionalProperties", out _))
                {
                    return Typed("object", schema, pointer);
                }

                if (schema.TryGetProperty("items", out _) || schema.TryGetProperty("prefixItems", out _))
                {
                    return Typed("array", schema, pointer);
                }

                return GrammarExpression.Rule("json-value");
            }

            if (type.ValueKind == JsonValueKind.String)
            {
                return Typed(type.GetString()!, schema, pointer);
            }

            if (type.ValueKind == JsonValueKind.Array && type.GetArrayLength() > 0 && type.EnumerateArray().All(t => t.ValueKind == JsonValueKind.String))
            {
                return GrammarExpression.Choice(type.EnumerateArray().Select(t => Typed(t.GetString()!, schema, pointer)));
            }

            throw Error(pointer, "'type' must be a type name or a non-empty array of them.");
        }

        private GrammarExpression Reference(JsonElement reference, string pointer)
        {
            string target = reference.ValueKind == JsonValueKind.String ? reference.GetString()! : throw Error(pointer, "'$ref' must be a string.");
            if (!_refRules.TryGetValue(target, out string? rule))
            {
                JsonElement resolved = Resolve(target, pointer);
                rule = $"ref-{++_ruleCount}";
                _refRules[target] = rule;
                _pending.Enqueue((rule, target, resolved));
            }

            return GrammarExpression.Rule(rule);
        }

        private JsonElement Resolve(string target, string pointer)
        {
            if (!target.StartsWith('#'))
            {
                throw Error(pointer, $"'$ref' to '{target}' is not supported (only references within the schema, '#…').");
            }

            JsonElement at = root;
            foreach (string raw in target[1..].Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                string part = Uri.UnescapeDataString(raw).Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
                if (at.ValueKind == JsonValueKind.Object && at.TryGetProperty(part, out JsonElement child))
                {
                    at = child;
                }
                else if (at.ValueKind == JsonValueKind.Array && int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int index) && index < at.GetArrayLength())
                {
                    at = at[index];
                }
                else
                {
                    throw Error(pointer, $"'$ref' to '{target}' points at nothing.");
                }
            }

            return at;
        }

        private GrammarExpression Typed(string type, JsonElement schema, string pointer) => type switch
        {
            "object" => ObjectSchema(schema, pointer),
            "array" => ArraySchema(schema, pointer),
            "string" => StringSchema(schema, pointer),
            "integer" => IntegerSchema(schema, pointer),
            "number" => NumberSchema(schema, pointer),
            "boolean" => GrammarExpression.Choice(Lit("true"), Lit("false")),
            "null" => Lit("null"),
            _ => throw Error(pointer, $"the type '{type}' is not a JSON Schema type."),
        };

        private GrammarExpression ObjectSchema(JsonElement schema, string pointer)
        {
            var properties = new List<(string Name, GrammarExpression Value, bool Required)>();
            var required = new HashSet<string>(StringComparer.Ordinal);
            if (schema.TryGetProperty("required", out JsonElement req))
            {
                if (req.ValueKind != JsonValueKind.Array || req.EnumerateArray().Any(r => r.ValueKind != JsonValueKind.String))
                {
                    throw Error(pointer, "'required' must be an array of property names.");
                }

                required.UnionWith(req.EnumerateArray().Select(r => r.GetString()!));
            }

            if (schema.TryGetProperty("properties", out JsonElement props))
            {
                if (props.ValueKind != JsonValueKind.Object)
                {
                    throw Error(pointer, "'properties' must be an object.");
                }

                foreach (JsonProperty p in props.EnumerateObject())
                {
                    properties.Add((p.Name, Schema(p.Value, $"{pointer}/properties/{p.Name}"), required.Contains(p.Name)));
                }
            }

            foreach (string name in required)
            {
                if (!properties.Any(p => p.Name == name))
                {
                    throw Error(pointer, $"'required' names '{name}', which 'properties' does not define.");
                }
            }

            GrammarExpression? extra = null;
            if (schema.TryGetProperty("additionalProperties", out JsonElement additional) && additional.ValueKind != JsonValueKind.False)
            {
                GrammarExpression value = Schema(additional, pointer + "/additionalProperties");
                extra = GrammarExpression.Sequence(GrammarExpression.Rule("json-string"), Ws, Lit(":"), Ws, value);
            }

            // Members in schema order; the optional ones may be left out. Rule "first" variants avoid a leading comma.
            string baseName = $"obj-{++_ruleCount}";
            GrammarExpression Tail(int i, bool first)
            {
                if (i == properties.Count)
                {
                    if (extra is null)
                    {
                        return GrammarExpression.Empty;
                    }

                    GrammarExpression more = GrammarExpression.Repeat(GrammarExpression.Sequence(Ws, Lit(","), Ws, extra), 0, null);
                    return first ? GrammarExpression.Optional(GrammarExpression.Sequence(extra, more)) : more;
                }

                string name = $"{baseName}-{i}{(first ? "f" : "n")}";
                if (!_rules.ContainsKey(name))
                {
                    _rules[name] = GrammarExpression.Empty; // placeholder while building
                    (string key, GrammarExpression value, bool isRequired) = properties[i];
                    GrammarExpression member = GrammarExpression.Sequence(
                        first ? GrammarExpression.Empty : GrammarExpression.Sequence(Ws, Lit(","), Ws),
                        Lit(Json.Quote(key)), Ws, Lit(":"), Ws, value, Tail(i + 1, false));
                    _rules[name] = isRequired ? member : GrammarExpression.Choice(member, Tail(i + 1, first));
                }

                return GrammarExpression.Rule(name);
            }

            return GrammarExpression.Sequence(Lit("{"), Ws, Tail(0, true), Ws, Lit("}"));
        }

        private GrammarExpression ArraySchema(JsonElement schema, string pointer)
        {
            int min = Count(schema, "minItems", pointer) ?? 0;
            int? max = Count(schema, "maxItems", pointer);
            if (max < min)
            {
                throw Error(pointer, $"'maxItems' ({max}) is below 'minItems' ({min}).");
            }

            var prefix = new List<GrammarExpression>();
            if (schema.TryGetProperty("prefixItems", out JsonElement prefixItems))
            {
                if (prefixItems.ValueKind != JsonValueKind.Array)
                {
                    throw Error(pointer, "'prefixItems' must be an array of schemas.");
                }

                prefix.AddRange(prefixItems.EnumerateArray().Select((s, i) => Schema(s, $"{pointer}/prefixItems/{i}")));
            }

            GrammarExpression? item = GrammarExpression.Rule("json-value");
            if (schema.TryGetProperty("items", out JsonElement items))
            {
                item = items.ValueKind == JsonValueKind.False ? null : Schema(items, pointer + "/items");
            }

            GrammarExpression body;
            if (prefix.Count == 0)
            {
                if (item is null)
                {
                    body = GrammarExpression.Empty;
                }
                else
                {
                    GrammarExpression list = SeparatedList(item, min, max);
                    body = min == 0 ? GrammarExpression.Optional(list) : list;
                }
            }
            else
            {
                // Tuple: the prefix items in order (those past minItems optional), then more items.
                GrammarExpression Sep() => GrammarExpression.Sequence(Ws, Lit(","), Ws);
                GrammarExpression rest = GrammarExpression.Empty;
                int restMax = max is null ? int.MaxValue : max.Value - prefix.Count;
                if (item is not null && restMax > 0)
                {
                    rest = GrammarExpression.Repeat(GrammarExpression.Sequence(Sep(), item), Math.Max(0, min - prefix.Count), max is null ? null : restMax);
                }

                GrammarExpression tail = rest;
                int take = max is null ? prefix.Count : Math.Min(prefix.Count, max.Value);
                for (int i = take - 1; i >= 0; i--)
                {
                    GrammarExpression here = GrammarExpression.Sequence(i == 0 ? GrammarExpression.Empty : Sep(), prefix[i], tail);
                    tail = i >= min ? GrammarExpression.Optional(here) : here;
                }

                body = tail;
            }

            return GrammarExpression.Sequence(Lit("["), Ws, body, Ws, Lit("]"));
        }

        private GrammarExpression StringSchema(JsonElement schema, string pointer)
        {
            int min = Count(schema, "minLength", pointer) ?? 0;
            int? max = Count(schema, "maxLength", pointer);
            if (max < min)
            {
                throw Error(pointer, $"'maxLength' ({max}) is below 'minLength' ({min}).");
            }

            string? pattern = null;
            if (schema.TryGetProperty("pattern", out JsonElement p))
            {
                pattern = p.ValueKind == JsonValueKind.String ? p.GetString() : throw Error(pointer, "'pattern' must be a string.");
            }
            else if (schema.TryGetProperty("format", out JsonElement f) && f.ValueKind == JsonValueKind.String && Formats.TryGetValue(f.GetString()!, out string? formatPattern))
            {
                pattern = formatPattern;
            }

            if (pattern is not null)
            {
                if (min > 0 || max is not null)
                {
                    throw Error(pointer, "'pattern' (or 'format') together with 'minLength'/'maxLength' is not supported.");
                }

                GrammarExpression body;
                try
                {
                    body = RegexParser.Parse(pattern, anchored: false);
                }
                catch (GrammarException e)
                {
                    throw Error(pointer, e.Message);
                }

                return GrammarExpression.Sequence(Lit("\""), Json.Encode(body), Lit("\""));
            }

            if (max > options.MaxStringLength)
            {
                throw Error(pointer, $"'maxLength' above {options.MaxStringLength} is not supported.");
            }

            return GrammarExpression.Sequence(Lit("\""), GrammarExpression.Repeat(Json.Char, min, max), Lit("\""));
        }

        private GrammarExpression IntegerSchema(JsonElement schema, string pointer)
        {
            long? min = Bound(schema, "minimum", pointer, ceiling: true);
            long? max = Bound(schema, "maximum", pointer, ceiling: false);
            if (Bound(schema, "exclusiveMinimum", pointer, ceiling: false) is { } exMin)
            {
                min = Math.Max(min ?? long.MinValue, exMin + 1);
            }

            if (Bound(schema, "exclusiveMaximum", pointer, ceiling: true) is { } exMax)
            {
                max = Math.Min(max ?? long.MaxValue, exMax - 1);
            }

            if (min is null && max is null)
            {
                return Json.Integer;
            }

            try
            {
                return IntegerRangeGrammar.Range(min, max);
            }
            catch (GrammarException e)
            {
                throw Error(pointer, e.Message);
            }
        }

        private GrammarExpression NumberSchema(JsonElement schema, string pointer)
        {
            foreach (string key in (string[])["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"])
            {
                if (schema.TryGetProperty(key, out _))
                {
                    throw Error(pointer, $"'{key}' on a number is not supported (it is on an integer).");
                }
            }

            return Json.Number;
        }

        private long? Bound(JsonElement schema, string key, string pointer, bool ceiling)
        {
            if (!schema.TryGetProperty(key, out JsonElement value))
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double d) || Math.Abs(d) > 1e18)
            {
                throw Error(pointer, $"'{key}' must be a number within ±1e18.");
            }

            return (long)(ceiling ? Math.Ceiling(d) : Math.Floor(d));
        }

        private int? Count(JsonElement schema, string key, string pointer)
        {
            if (!schema.TryGetProperty(key, out JsonElement value))
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int n) || n < 0)
            {
                throw Error(pointer, $"'{key}' must be a non-negative integer.");
            }

            if (n > RegexParser.MaxRepeat)
            {
                throw Error(pointer, $"'{key}' above {RegexParser.MaxRepeat} is not supported.");
            }

            return n;
        }
    }
}
