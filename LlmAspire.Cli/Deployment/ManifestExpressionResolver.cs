using System.Text;
using System.Text.RegularExpressions;

namespace LlmAspire.Cli.Deployment;

/// <summary>
/// Turns the manifest's <c>{resource.bindings.http.url}</c>-style expressions into values for Kubernetes: bindings
/// become Service DNS names and ports, secret parameters become <c>$(PARAM_…)</c> references to env vars taken
/// from the parameters Secret (Kubernetes expands <c>$(VAR)</c> from variables defined earlier in the container).
/// A binding of a resource in <paramref name="podAddressed"/> (resource → fully qualified name of its headless
/// Service) becomes that name and the container's own port: the name resolves to the pods themselves, with no
/// Service port in between.
/// </summary>
internal sealed partial class ManifestExpressionResolver(
    AspireManifest manifest, ISet<string> externalResources, IReadOnlyDictionary<string, string>? podAddressed = null)
{
    /// <summary>The env var that carries secret parameter <paramref name="parameter"/> inside a container.</summary>
    public static string ParameterVariable(string parameter) =>
        "PARAM_" + NonWord().Replace(parameter, "_").ToUpperInvariant();

    /// <summary>The Secret key of an external resource's connection string.</summary>
    public static string ConnectionStringKey(string resource) => resource + "-connection-string";

    /// <summary>The port a binding's process listens on in its container.</summary>
    public static int ContainerPort(ManifestResource resource, ManifestBinding binding) =>
        binding.TargetPort ?? (resource.IsProject ? KubernetesNames.ProjectContainerPort : binding.Port
            ?? throw new InvalidDataException($"'{resource.Name}' binding '{binding.Name}' has no port."));

    /// <summary>The port its Service exposes: the manifest's <c>port</c>, else the container port.</summary>
    public static int ServicePort(ManifestResource resource, ManifestBinding binding) =>
        binding.Port ?? ContainerPort(resource, binding);

    /// <summary>Resolves <paramref name="value"/>; the secret parameters it needs are added to <paramref name="secrets"/>.</summary>
    public string Resolve(string value, ISet<string> secrets) => ResolveNested(value, secrets, depth: 0);

    /// <summary>True when <paramref name="value"/> refers to a binding of a resource that is not deployed.</summary>
    public bool RefersToExternalBinding(string value) =>
        Expression().Matches(value).Any(match =>
            match.Groups[1].Value.Split('.') is [var resource, "bindings", ..] && externalResources.Contains(resource));

    private string ResolveExpression(string expression, ISet<string> secrets, int depth)
    {
        if (depth > 16)
        {
            throw new InvalidDataException($"'{{{expression}}}' refers to itself.");
        }

        var parts = expression.Split('.');
        var resource = manifest.Get(parts[0]);
        switch (parts)
        {
            case [_, "bindings", var bindingName, var property]:
            {
                var binding = resource.GetBinding(bindingName);
                string host = resource.Name;
                int port = ServicePort(resource, binding);
                if (podAddressed?.TryGetValue(resource.Name, out var podHost) == true)
                {
                    host = podHost;
                    port = ContainerPort(resource, binding);
                }

                return property switch
                {
                    "host" => host,
                    "port" => port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "targetPort" => ContainerPort(resource, binding).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "scheme" => binding.Scheme,
                    "url" => $"{binding.Scheme}://{host}:{port}",
                    "tlsEnabled" => "false",
                    _ => throw new NotSupportedException($"Binding property '{property}' in '{{{expression}}}' is not supported."),
                };
            }

            case [_, "connectionString"] when externalResources.Contains(resource.Name):
                secrets.Add(ConnectionStringKey(resource.Name));
                return $"$({ParameterVariable(ConnectionStringKey(resource.Name))})";

            case [_, "connectionString"]:
                return ResolveNested(resource.ConnectionString ?? string.Empty, secrets, depth);

            case [_, "value"] when resource.IsParameter:
                secrets.Add(resource.Name);
                return $"$({ParameterVariable(resource.Name)})";

            case [_, "value"]:
                // annotated.string (e.g. a uri-encoded password): generated secrets are alphanumeric, so the filter is a no-op.
                return ResolveNested(resource.Value ?? string.Empty, secrets, depth);

            default:
                throw new NotSupportedException($"Manifest expression '{{{expression}}}' is not supported.");
        }
    }

    private string ResolveNested(string value, ISet<string> secrets, int depth)
    {
        var result = new StringBuilder();
        int start = 0;
        foreach (Match match in Expression().Matches(value))
        {
            result.Append(value, start, match.Index - start);
            result.Append(ResolveExpression(match.Groups[1].Value, secrets, depth + 1));
            start = match.Index + match.Length;
        }

        result.Append(value, start, value.Length - start);
        return result.ToString();
    }

    [GeneratedRegex(@"\{([A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)+)\}")]
    private static partial Regex Expression();

    [GeneratedRegex(@"[^A-Za-z0-9]")]
    private static partial Regex NonWord();
}
