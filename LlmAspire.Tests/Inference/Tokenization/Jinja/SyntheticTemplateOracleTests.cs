using System.Text.Json;
using System.Text.Json.Nodes;
using LlmAspire.Inference.Tokenization.Jinja;

namespace LlmAspire.Tests.Inference.Tokenization.Jinja;

/// <summary>
/// Small templates, one or a few constructs each (whitespace control, loops, namespaces, slices, every filter, test
/// and method chat templates use, printing of none/booleans/floats/lists), plus a seeded random set of expressions,
/// rendered by <see cref="JinjaTemplate"/> and by <c>@huggingface/jinja</c> in one node run: the texts must be equal,
/// and where the oracle raises we must raise too.
/// </summary>
public sealed class SyntheticTemplateOracleTests
{
    private const string Context = """
        {
          "x": "hello", "y": 0, "n": 7, "f": 2.5, "t": true, "nothing": null,
          "d": {"a": 1, "b": "two", "c": [1, 2.5, null, true], "B": {"z": "Zed"}},
          "items": [{"name": "a", "ok": true, "n": 3}, {"name": "b", "ok": false, "n": 1}, {"name": "c", "n": 2}],
          "words": ["pear", "Apple", "banana"],
          "messages": [{"role": "system", "content": " sys "}, {"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}, {"role": "user", "content": "bye"}]
        }
        """;

    private static readonly string[] Templates =
    [
        "{{ 1 + 2 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ 7 % 3 }}|{{ -7 % 3 }}|{{ 7 / 2 }}|{{ 2 ** 10 }}|{{ 2 ** -1 }}|{{ 1.5 * 2 }}|{{ 3 - 5 }}|{{ 10 - -3 }}|{{ -n }}|{{ 4 / 2 }}",
        "{{ 'abc'[::-1] }}|{{ 'abcdef'[1:4] }}|{{ [1,2,3,4][-2:] }}|{{ [1,2,3][::2] }}|{{ 'héllo'[-1] }}|{{ [1,2,3][5] }}|{{ messages[1:] | length }}|{{ [1,2,3,4,5][4:1:-2] }}|{{ 'abc'[:-1] }}",
        "{{ x.missing }}|{{ x.missing is defined }}|{{ undefinedname is undefined }}|{{ nothing is none }}|{{ d['a'] }}|{{ d.B.z }}|{{ d.q.r.s }}|{{ d.c[1] }}|{{ items[0].name | upper }}",
        "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}",
        "{% for k in d %}{{ k }}{% endfor %}",
        "{% for i in items if i.ok is defined %}{{ loop.index }}/{{ loop.length }}:{{ i.name }}{% if not loop.last %},{% endif %}{% else %}empty{% endfor %}",
        "{% for x in [] %}x{% else %}none{% endfor %}|{% for x in [1] if x > 5 %}x{% else %}filtered{% endfor %}",
        "{% for x in [1,2,3,4,5] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{{ loop.revindex }}{{ loop.first }}{% endfor %}",
        "{% set ns = namespace(n=0, s='') %}{% for x in [1,2,3] %}{% set ns.n = ns.n + x %}{% set ns.s = ns.s ~ x %}{% endfor %}{{ ns.n }}{{ ns.s }}{{ ns }}",
        "{% set ns = namespace() %}{% set ns.flag = true %}{{ ns.flag }}{{ ns.other }}",
        "{% set a, b = [1, 2] %}{{ a }}{{ b }}{% set c = 1, 2 %}{{ c }}",
        "{% set block %}hi {{ 1 }}{% endset %}[{{ block }}]",
        "{% set v = 1 %}{% for i in [1] %}{% set v = 2 %}{% endfor %}{{ v }}",
        "{{ '  x  ' | trim }}|{{ 'Hello World' | upper }}|{{ 'Hello' | lower }}|{{ 'hello wORLD-x' | title }}|{{ 'hello' | capitalize }}|{{ 'abc' | length }}|{{ x | string }}",
        "{{ [3,1,2] | sort }}|{{ words | sort }}|{{ [1,2,2,3,1] | unique }}|{{ [1,2,3] | reverse }}|{{ [1,2,3] | first }}|{{ [1,2,3] | last }}|{{ [1,'a',2.0,true,none] | join(', ') }}|{{ ['a','b'] | join }}|{{ 'abc' | join('-') }}",
        "{{ items | map(attribute='name') | join(',') }}|{{ items | selectattr('ok') | list | length }}|{{ items | rejectattr('ok') | map(attribute='name') | first }}|{{ items | selectattr('name', 'equalto', 'b') | list }}|{{ items | map(attribute='n', default=0) | list }}|{{ items | sort(attribute='n') | map(attribute='name') | join }}|{{ words | sort(reverse=true) }}",
        "{{ d | tojson }}|{{ d | tojson(indent=2) }}|{{ 'é\"\\n\\t\\u0001' | tojson }}|{{ d | tojson(sort_keys=true) }}|{{ 'é' | tojson(ensure_ascii=true) }}|{{ [] | tojson(indent=4) }}|{{ {} | tojson(indent=4) }}|{{ items | tojson(separators=(',', ':')) }}|{{ nothing | tojson }}|{{ undefinedname | tojson }}|{{ 2.0 | tojson }}",
        "{{ x | default('dflt') }}|{{ missing | default('dflt') }}|{{ '' | default('e', true) }}|{{ nothing | default('n') }}|{{ missing | default }}",
        "{{ '42' | int + 1 }}|{{ '3.5' | float }}|{{ 'x' | int }}|{{ 3.7 | int }}|{{ -3 | abs }}|{{ 5 | string }}|{{ 2.0 | string }}|{{ true | int }}|{{ 'x' | int(9) }}|{{ ' 12px' | int }}",
        "{{ true }}|{{ True }}|{{ none }}|{{ [true, none] }}|{{ {'a': none, 'b': false} }}|{{ 1.0 }}|{{ 1.5 }}|{{ -0.0 }}|{{ 100000000000000000000.0 }}|{{ 0.000001 }}|{{ 1e3 }}|{{ f }}|{{ [1.0, 2.5] }}|{{ nothing }}|{{ undefinedname }}",
        "{{ 'a,b,,c'.split(',') }}|{{ '  a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'hello'.startswith('he') }}|{{ 'hello'.endswith(('x','lo')) }}|{{ '\\n\\nx\\n'.strip('\\n') }}|{{ '  x'.lstrip() }}|{{ 'x  '.rstrip() }}|{{ 'aaa'.replace('a','b',2) }}|{{ 'AbC'.upper() }}|{{ 'AbC'.lower() }}|{{ 'ab'.title() }}|{{ 'a</think>b'.split('</think>')[-1] }}",
        "{{ d.get('a') }}|{{ d.get('zz', 'no') }}|{{ d.get('zz') }}|{{ d.keys() | list }}|{{ d.values() | list }}|{{ d | length }}|{{ d | items | list }}|{{ d.B | dictsort }}|{{ d.items() }}",
        "{{ 1 if x else 2 }}|{{ 'y' if false }}|{{ (1 if nothing else 2) + 1 }}|{{ 'a' if y else 'b' if t else 'c' }}",
        "{{ 'a' in 'cat' }}|{{ 'z' not in 'cat' }}|{{ 1 in [1,2] }}|{{ 'k' in {'k': 1} }}|{{ 'q' in undefinedvar }}|{{ 3 not in [1] }}|{{ 'role' in messages[0] }}|{{ 'tool_calls' in messages[0] }}",
        "{{ x is string }}|{{ 1 is number }}|{{ 1 is integer }}|{{ 1.5 is integer }}|{{ [1] is iterable }}|{{ 'a' is iterable }}|{{ d is mapping }}|{{ d is sequence }}|{{ true is boolean }}|{{ 3 is odd }}|{{ 4 is even }}|{{ false is false }}|{{ true is true }}|{{ 'a' is lower }}|{{ 'A' is upper }}|{{ x is not none }}|{{ range is callable }}",
        "{{ 1 == 1.0 }}|{{ 'a' == 'a' }}|{{ nothing == undefinedthing }}|{{ 1 != 2 }}|{{ [1] == [1] }}|{{ 1 < 2 }}|{{ 2 >= 2 }}|{{ 1 == '1' }}|{{ true == 1 }}|{{ messages[0] == messages[0] }}|{{ y == false }}|{{ nothing == 0 }}",
        "{{ 'a' + 'b' }}|{{ 'n=' + 1 }}|{{ 'f=' + 1.0 }}|{{ [1] + [2] }}|{{ 'x' ~ 1.0 ~ true ~ undefinedv }}|{{ 'l=' + [1, 'a'] }}|{{ 1 ~ 2 }}",
        "{% if y %}A{% elif x %}B{% else %}C{% endif %}{% if nothing %}D{% elif undefinedv %}E{% endif %}",
        "  {% if true %}\n    yes\n  {% endif %}\n  {{- ' trimmed ' -}}  \n{# comment #}\nend\n",
        "{%- for m in messages -%}\n  {{ m.role }}: {{ m.content | trim }}\n{%- endfor %}\n{#- c -#}\n  tail  \n",
        "{% for m in messages %}\n    {{ m.role }}\n{% endfor %}\n",
        "a  {%- if true %}  b  {% endif -%}  c\n{%+ if true %}d{% endif %}",
        "{{ range(3) }}|{{ range(1, 4) }}|{{ range(5, 0, -2) }}|{% for i in range(2) %}{{ i }}{% endfor %}",
        "{{ raise_exception('boom: ' ~ x) }}",
        "{% for x in nothing %}{% endfor %}",
        "{{ 'ab' * 2 }}",
        "{{ 'abc' | indent }}|{{ 'a\nb\n\nc' | indent(2) }}|{{ 'a\nb' | indent(2, true) }}|{{ 'a\nb' | indent('> ', first=true) }}",
        "{{ [1,2,3][1] }}{{ 'xyz'.length }}{{ [1,2].length }}{{ x[0] }}",
        "{{ \"double\" ~ 'single' 'concat' }}|{{ 'a\\tb\\u00e9\\x41' }}|{{ 'it\\'s' }}",
        "{{ messages | selectattr('role', 'equalto', 'user') | list | length }}|{{ (messages | last).content }}|{{ messages[-1]['role'] }}",
        "{{ loop }}|{% for a in [[1,2],[3,4]] %}{% for b in a %}{{ loop.index0 }}{{ b }}{% endfor %}{{ loop.index }}{% endfor %}",
        "{{ d.c | tojson }}|{{ d.c | string }}|{{ d.c }}|{{ d.c | length }}|{{ d.c[2] is none }}",
        "{{ (1, 2) is iterable }}|{{ (1, 2) is sequence }}|{% for i in (1, 2) %}{{ i }}{% endfor %}|{{ none is equalto undefinedv }}|{{ [none, undefinedv] | unique | length }}",
        "{{ ('a', 'b') | tojson }}",
        "{{ nothing.attr }}|{{ undefinedv.attr }}|{{ undefinedv['k'] }}",
        "{{ 1 + nothing }}",
        "{{ 'x' < 'y' }}",
        "{% set msgs = messages %}{% for message in msgs %}{% if loop.index0 == 0 and message.role == 'system' %}[{{ message.content | trim }}]{% else %}<{{ message['role'] }}>{% endif %}{% endfor %}{{ add_generation_prompt is defined }}",
        "{{ [1, [2, [3]], {'k': [4]}] }}|{{ [1, [2, 3]] | join('+') }}|{{ not nothing }}|{{ not 0 and 1 }}|{{ 0 or 'z' }}|{{ [] or {} }}|{{ 1 and [] }}",
    ];

    [Fact]
    public async Task Render_SmallTemplates_EqualTheOracle()
    {
        List<string> templates = [.. Templates, .. RandomTemplates(seed: 20261202, count: 300)];
        JsonObject context = JsonNode.Parse(Context)!.AsObject();
        IReadOnlyList<(string? Text, string? Error)> expected = await JinjaOracle.RenderAsync([.. templates.Select(t => (t, context))]);
        var variables = new Dictionary<string, JinjaValue>(StringComparer.Ordinal);
        foreach (JsonProperty property in JsonDocument.Parse(Context).RootElement.EnumerateObject())
        {
            variables[property.Name] = JinjaJson.FromJson(property.Value);
        }

        var mismatches = new List<string>();
        int raised = 0;
        for (int i = 0; i < templates.Count; i++)
        {
            string? ours;
            string? error = null;
            try
            {
                ours = JinjaTemplate.Parse(templates[i]).Render(variables);
            }
            catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
            {
                ours = null;
                error = ex.Message;
            }

            if (expected[i].Error is not null)
            {
                raised++;
            }

            if (ours != expected[i].Text || (ours is null) != (expected[i].Error is not null))
            {
                mismatches.Add($"{JsonValue.Create(templates[i]).ToJsonString()}\n  oracle: {(expected[i].Text is { } t ? JsonValue.Create(t).ToJsonString() : "error: " + expected[i].Error)}\n  ours:   {(ours is not null ? JsonValue.Create(ours).ToJsonString() : "error: " + error)}");
            }
        }

        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {templates.Count} differ:\n" + string.Join("\n", mismatches));
        Assert.InRange(raised, 5, templates.Count * 3 / 4);
    }

    /// <summary>Random expressions over the context's values: operators, filters, tests, members and conditionals nested a few levels.</summary>
    private static IEnumerable<string> RandomTemplates(int seed, int count)
    {
        var random = new Random(seed);
        string[] atoms = ["x", "y", "n", "f", "t", "nothing", "d", "items", "words", "d.c", "d.b", "d.B", "items[0]", "words[-1]", "'ab c'", "''", "3", "-2", "0", "1.5", "true", "false", "none", "[1, 'a']", "[]", "{'k': 2}", "undefinedv", "messages[0].content"];
        string[] binary = ["+", "-", "*", "/", "//", "%", "~", "==", "!=", "<", ">", "<=", ">=", "and", "or", "in", "not in"];
        string[] filters = ["length", "upper", "trim", "tojson", "string", "first", "last", "list", "join(',')", "default('D')", "int", "float", "abs", "items", "sort", "reverse", "unique", "capitalize", "title", "lower", "indent(2)", "tojson(indent=2)", "selectattr('ok')", "map(attribute='name')", "dictsort", "safe"];
        string[] tests = ["defined", "undefined", "none", "string", "number", "integer", "mapping", "iterable", "sequence", "boolean", "true", "false", "odd", "even"];
        string Expression(int depth)
        {
            if (depth == 0)
            {
                return atoms[random.Next(atoms.Length)];
            }

            return random.Next(7) switch
            {
                0 => $"({Expression(depth - 1)} {binary[random.Next(binary.Length)]} {Expression(depth - 1)})",
                1 => $"({Expression(depth - 1)} | {filters[random.Next(filters.Length)]})",
                2 => $"({Expression(depth - 1)} is {(random.Next(2) == 0 ? "not " : string.Empty)}{tests[random.Next(tests.Length)]})",
                3 => $"({Expression(depth - 1)} if {Expression(depth - 1)} else {Expression(depth - 1)})",
                4 => $"(not {Expression(depth - 1)})",
                5 => $"{Expression(depth - 1)}[{random.Next(-2, 3)}]",
                _ => $"[{Expression(depth - 1)}, {Expression(depth - 1)}]",
            };
        }

        for (int i = 0; i < count; i++)
        {
            yield return "{{ " + Expression(random.Next(1, 4)) + " }}";
        }
    }
}
