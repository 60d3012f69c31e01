using System.Text.Json;

namespace LlmAspire.Cli.Deployment;

/// <summary>
/// The Aspire manifest (<c>--publisher manifest</c>): the AppHost's resources with their env, bindings and
/// references as <c>{resource.bindings.http.url}</c>-style expressions.
/// </summary>
internal sealed class AspireManifest
{
    private AspireManifest(IReadOnlyDictionary<string, ManifestResource> resources) => Resources = resources;

    /// <summary>Every resource, by name, in manifest order.</summary>
    public IReadOnlyDictionary<string, ManifestResource> Resources { get; }

    /// <summary>Reads a manifest file.</summary>
    public static AspireManifest Load(string path)
    {
        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path} is not an Aspire manifest: {ex.Message}", ex);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"{path}: {ex.Message}", ex);
        }
    }

    /// <summary>Parses a manifest's JSON.</summary>
    public static AspireManifest Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        if (!document.RootElement.TryGetProperty("resources", out var resources) || resources.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException("Not an Aspire manifest: no \"resources\" object.");
        }

        var result = new Dictionary<string, ManifestResource>(StringComparer.Ordinal);
        foreach (var property in resources.EnumerateObject())
        {
            result[property.Name] = ManifestResource.Parse(property.Name, property.Value);
        }

        return new AspireManifest(result);
    }

    /// <summary>The resource named <paramref name="name"/>, or an error naming it.</summary>
    public ManifestResource Get(string name) =>
        Resources.TryGetValue(name, out var resource)
            ? resource
            : throw new InvalidDataException($"The manifest references '{name}', which it does not define.");
}
