using System.Text;
using LlmAspire.Inference.Models.Calibration;

namespace LlmAspire.Tests.Inference.Calibration;

public sealed class CalibrationTextTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("llmaspire-calibration-").FullName;

    [Fact]
    public void BuiltInSampleIsNonEmptyAndDistinct()
    {
        Assert.True(CalibrationText.BuiltIn.Count >= 16);
        Assert.Equal(CalibrationText.BuiltIn.Count, CalibrationText.BuiltIn.Distinct(StringComparer.Ordinal).Count());
        Assert.All(CalibrationText.BuiltIn, story => Assert.True(story.Length > 100));
        Assert.Same(CalibrationText.BuiltIn, CalibrationText.Load(null));
    }

    [Fact]
    public void FileIsSplitIntoParagraphs()
    {
        string path = Write("First story,\nsecond line.\r\n\r\n\n  Second story.  \n\n\n");

        Assert.Equal(["First story,\nsecond line.", "Second story."], CalibrationText.ReadFile(path));
    }

    [Theory]
    [InlineData("")]
    [InlineData("  \n\n \t \n")]
    public void FileWithoutTextIsRefused(string content)
    {
        string path = Write(content);

        InvalidDataException error = Assert.Throws<InvalidDataException>(() => CalibrationText.ReadFile(path));
        Assert.Contains("has no text", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BinaryFileIsRefused()
    {
        string path = Path.Combine(_directory, "binary.bin");
        File.WriteAllBytes(path, [0x4f, 0x6e, 0xff, 0xfe, 0xc3]);

        InvalidDataException error = Assert.Throws<InvalidDataException>(() => CalibrationText.ReadFile(path));
        Assert.Contains("not UTF-8", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFileIsRefused()
    {
        Assert.Throws<FileNotFoundException>(() => CalibrationText.ReadFile(Path.Combine(_directory, "missing.txt")));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string content)
    {
        string path = Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".txt");
        File.WriteAllText(path, content, new UTF8Encoding(false));
        return path;
    }
}
