using System.Text.Json;

namespace LlmAspire.Cli.Deployment;

/// <summary>One resource of the Aspire manifest: a project, a container, a parameter or a value.</summary>
internal sealed record ManifestResource(
    string Name,
    string Type,
    string? Path,
    string? Image,
    string? Entrypoint,
    IReadOnlyList<string> Args,
    IReadOnlyList<KeyValuePair<string, string>> Env,
    IReadOnlyList<ManifestBinding> Bindings,
    string? ConnectionString,
    string? Value,
    bool Secret,
    int? GeneratedLength)
{
    public bool IsProject => Type.StartsWith("project.", StringComparison.Ordinal);

    public bool IsContainer => Type.StartsWith("container.", StringComparison.Ordinal);

    public bool IsParameter => Type.StartsWith("parameter.", StringComparison.Ordinal);

    /// <summary>True when any binding is external: the resource is reachable from outside the cluster.</summary>
    public bool IsExternal => Bindings.Any(binding => binding.External);

    /// <summary>The binding named <paramref name="name"/>, or an error naming it.</summary>
    public ManifestBinding GetBinding(string name) =>
        Bindings.FirstOrDefault(binding => binding.Name == name)
        ?? throw new InvalidDataException($"'{Name}' has no binding '{name}'.");

    public static ManifestResource Parse(string name, JsonElement element)
    {
        var env = new List<KeyValuePair<string, string>>();
        if (element.TryGetProperty("env", out var envElement))
        {
            foreach (var variable in envElement.EnumerateObject())
            {
                env.Add(new(variable.Name, variable.Value.ValueKind == JsonValueKind.String ? variable.Value.GetString()! : variable.Value.GetRawText()));
            }
        }

        var bindings = new List<ManifestBinding>();
        if (element.TryGetProperty("bindings", out var bindingsElement))
        {
            foreach (var binding in bindingsElement.EnumerateObject())
            {
                bindings.Add(new ManifestBinding(
                    binding.Name,
                    String(binding.Value, "scheme") ?? "http",
                    String(binding.Value, "protocol") ?? "tcp",
                    binding.Value.TryGetProperty("port", out var port) ? port.GetInt32() : null,
                    binding.Value.TryGetProperty("targetPort", out var targetPort) ? targetPort.GetInt32() : null,
                    binding.Value.TryGetProperty("external", out var external) && external.ValueKind == JsonValueKind.True));
            }
        }

        var args = element.TryGetProperty("args", out var argsElement)
            ? argsElement.EnumerateArray().Select(arg => arg.GetString() ?? string.Empty).ToList()
            : [];

        bool secret = false;
        int? generated = null;
        if (element.TryGetProperty("inputs", out var inputs) && inputs.TryGetProperty("value", out var input))
        {
            secret = input.TryGetProperty("secret", out var secretElement) && secretElement.ValueKind == JsonValueKind.True;
            if (input.TryGetProperty("default", out var defaultElement) && defaultElement.TryGetProperty("generate", out var generate))
            {
                generated = generate.TryGetProperty("minLength", out var length) ? length.GetInt32() : 22;
            }
        }

        return new ManifestResource(
            name,
            String(element, "type") ?? throw new InvalidDataException($"Resource '{name}' has no type."),
            String(element, "path"),
            String(element, "image"),
            String(element, "entrypoint"),
            args,
            env,
            bindings,
            String(element, "connectionString"),
            String(element, "value"),
            secret,
            generated);
    }

    private static string? String(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
