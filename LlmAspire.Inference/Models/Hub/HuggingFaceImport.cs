namespace LlmAspire.Inference.Models.Hub;

/// <summary>
/// The one place that connects hub downloads to the Hugging Face Llama importer
/// (<c>config.json</c> + <c>*.safetensors</c> into a model folder).
/// </summary>
public static class HuggingFaceImport
{
    /// <summary>
    /// The importer, called as <c>Importer(huggingFaceFolder, outputFolder)</c>, or null while the engine has
    /// none: <see cref="HubModelResolver"/> then refuses such repositories with a <see cref="NotSupportedException"/>
    /// before downloading anything. Set it to <c>(source, output) =&gt; ModelConverter.ImportHuggingFace(source, output)</c>
    /// once that converter exists.
    /// </summary>
    public static Action<string, string>? Importer => null;
}
