namespace LlmAspire.Inference.Models;

/// <summary>Models the engine can make by itself, with deterministic random weights.</summary>
public static class BuiltInModels
{
    /// <summary>Name of the built-in demo model.</summary>
    public const string DemoName = "llmaspire-demo";

    /// <summary>Writes (or reuses) the built-in demo model folder under <paramref name="outputDirectory"/> and returns its path.</summary>
    public static string EnsureDemoFolder(string outputDirectory) => throw new NotImplementedException();
}
