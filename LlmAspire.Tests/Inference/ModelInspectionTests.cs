using LlmAspire.Inference.Models;

namespace LlmAspire.Tests.Inference;

public sealed class ModelInspectionTests
{
    [Stories260KFact]
    public void Inspect_Stories260K_ReportsItsParametersOperatorsAndNoQuantization()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string folder = Path.Combine(temp.Path, "stories260K");
        ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, folder);

        ModelInspection inspection = ModelInspection.Inspect(folder);

        // 260K as the name says: 512x64 embedding (tied) + 5 layers of 45,440 + the final norm.
        Assert.Equal(260_032, inspection.Config.ParameterCount);
        Assert.Contains(("com.microsoft.GroupQueryAttention", 5), inspection.Operators);
        Assert.Contains(("com.microsoft.SkipSimplifiedLayerNormalization", 10), inspection.Operators);
        Assert.Contains(("com.microsoft", 1L), inspection.Opsets);
        Assert.StartsWith("none", inspection.Quantization, StringComparison.Ordinal);
        Assert.Contains(inspection.Files, f => f.Name == ModelFolder.ModelFile && f.Bytes > inspection.GraphWeightBytes);
        Assert.Contains("parameters     260,032", inspection.Format(), StringComparison.Ordinal);
    }
}
