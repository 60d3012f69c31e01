using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.Gguf;

namespace LlmAspire.Tests.Inference.Gguf;

/// <summary>
/// Every way a GGUF import fails is one line that names the culprit, raised before the output folder exists.
/// </summary>
public sealed class GgufImportErrorTests
{
    private static readonly LlamaConfig Config = GgufImportTests.Small("llama", tied: true, dim: 64, hidden: 128);

    [Fact]
    public void Import_UnsupportedArchitecture_NamesIt()
    {
        string message = ImportFails<NotSupportedException>(c => c.Writer.Add("general.architecture", "mamba"));

        Assert.Contains("'mamba'", message, StringComparison.Ordinal);
        Assert.Contains("llama, qwen2, qwen3, phi3, gemma2", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_UnsupportedTensorType_NamesTheTensorAndType()
    {
        string message = ImportFails<NotSupportedException>(c => c.Writer.RemoveTensor("blk.1.ffn_down.weight").AddTensor("blk.1.ffn_down.weight", [128, 64], GgmlType.Q2_K, new byte[84 * 32]));

        Assert.Contains("'blk.1.ffn_down.weight'", message, StringComparison.Ordinal);
        Assert.Contains("Q2_K", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_MissingTensor_NamesIt()
    {
        string message = ImportFails<InvalidDataException>(c => c.Writer.RemoveTensor("blk.1.attn_k.weight"));

        Assert.Contains("'blk.1.attn_k.weight'", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_TensorOfAnotherShape_NamesItAndBothShapes()
    {
        string message = ImportFails<InvalidDataException>(c => c.Writer.RemoveTensor("blk.0.attn_v.weight").AddTensor("blk.0.attn_v.weight", [64, 16], GgmlType.F32, new byte[64 * 16 * 4]));

        Assert.Contains("'blk.0.attn_v.weight' is [64, 16]", message, StringComparison.Ordinal);
        Assert.Contains("[64, 32]", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_MissingMetadata_NamesTheKey()
    {
        string message = ImportFails<InvalidDataException>(c => c.Writer.Remove("llama.block_count"));

        Assert.Contains("llama.block_count", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_UnsupportedPreTokenizer_NamesIt()
    {
        string message = ImportFails<NotSupportedException>(c => c.Writer.Add("tokenizer.ggml.pre", "chatglm-bpe"));

        Assert.Contains("'chatglm-bpe'", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_YarnScaling_IsNotSupported()
    {
        string message = ImportFails<NotSupportedException>(c => c.Writer.Add("llama.rope.scaling.type", "yarn"));

        Assert.Contains("'yarn'", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_TruncatedFile_FailsBeforeAnythingIsConverted()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string file = Path.Combine(temp.Path, "model.gguf");
        GgufCheckpoint.Create(Config, BuiltInModels.RandomWeights(Config, seed: 1), GgmlType.Q8_0).Write(file);
        using (FileStream stream = File.OpenWrite(file))
        {
            stream.SetLength(stream.Length / 2);
        }

        string folder = Path.Combine(temp.Path, "out");
        var error = Assert.Throws<InvalidDataException>(() => GgufImporter.Import(file, folder));

        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.False(Directory.Exists(folder));
    }

    private static string ImportFails<T>(Action<GgufCheckpoint> change)
        where T : Exception
    {
        using var temp = TestPaths.CreateTempDirectory();
        GgufCheckpoint checkpoint = GgufCheckpoint.Create(Config, BuiltInModels.RandomWeights(Config, seed: 1), GgmlType.Q8_0);
        change(checkpoint);
        string file = Path.Combine(temp.Path, "model.gguf");
        checkpoint.Write(file);
        string folder = Path.Combine(temp.Path, "out");

        var error = Assert.Throws<T>(() => GgufImporter.Import(file, folder));

        Assert.DoesNotContain('\n', error.Message);
        Assert.False(Directory.Exists(folder), "nothing is written when the import fails");
        return error.Message;
    }
}
