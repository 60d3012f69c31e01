using LlmAspire.Inference.Models.Hub;

namespace LlmAspire.Tests.Inference.Hub;

public sealed class HubModelReferenceTests
{
    [Theory]
    [InlineData("hf:karpathy/tinyllamas/stories260K", "karpathy", "tinyllamas", "stories260K", "main", "stories260K")]
    [InlineData("  HF:karpathy/tinyllamas  ", "karpathy", "tinyllamas", "", "main", "tinyllamas")]
    [InlineData("hf:microsoft/Phi-3-mini-4k-instruct-onnx/cpu_and_mobile/cpu-int4-rtn-block-32@v1.0", "microsoft", "Phi-3-mini-4k-instruct-onnx", "cpu_and_mobile/cpu-int4-rtn-block-32", "v1.0", "cpu-int4-rtn-block-32")]
    [InlineData("hf:acme/model.v2@refs/pr/1", "acme", "model.v2", "", "refs/pr/1", "model.v2")]
    [InlineData("hf:acme/m@4f2d0c1b9a8e7d6c5b4a39281706f5e4d3c2b1a0", "acme", "m", "", "4f2d0c1b9a8e7d6c5b4a39281706f5e4d3c2b1a0", "m")]
    public void Parse_ValidReference_SplitsItsParts(string text, string owner, string repository, string subfolder, string revision, string name)
    {
        var reference = HubModelReference.Parse(text);

        Assert.Equal(owner, reference.Owner);
        Assert.Equal(repository, reference.Repository);
        Assert.Equal(subfolder, reference.Subfolder);
        Assert.Equal(revision, reference.Revision);
        Assert.Equal(name, reference.Name);
        Assert.Equal(reference, HubModelReference.Parse(reference.ToString()));
    }

    [Fact]
    public void ToString_DefaultRevision_IsLeftOut()
    {
        Assert.Equal("hf:karpathy/tinyllamas/stories260K", HubModelReference.Parse("hf:karpathy/tinyllamas/stories260K@main").ToString());
        Assert.Equal("hf:acme/m@dev", HubModelReference.Parse("hf:acme/m@dev").ToString());
    }

    [Theory]
    [InlineData("hf:")]
    [InlineData("hf:karpathy")]
    [InlineData("hf:/tinyllamas")]
    [InlineData("hf:karpathy/")]
    [InlineData("hf:karpathy/tiny llamas")]
    [InlineData("hf:karpathy/tinyllamas/../etc")]
    [InlineData("hf:karpathy/tinyllamas//stories260K")]
    [InlineData("hf:karpathy/tinyllamas/stories260K@")]
    [InlineData("hf:karpathy/tinyllamas@../../x")]
    [InlineData("hf:karpathy/tinyllamas/a\\b")]
    [InlineData("karpathy/tinyllamas")]
    public void Parse_MalformedReference_ThrowsNamingTheForm(string text)
    {
        var exception = Assert.Throws<FormatException>(() => HubModelReference.Parse(text));

        Assert.Contains(HubModelReference.Form, exception.Message, StringComparison.Ordinal);
        Assert.False(HubModelReference.TryParse(text, out _));
    }

    [Theory]
    [InlineData("hf:a/b", true)]
    [InlineData("HF:a", true)]
    [InlineData("/models/stories260K", false)]
    [InlineData("models/hf:x", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void IsHubReference_LooksOnlyAtThePrefix(string? text, bool expected) =>
        Assert.Equal(expected, HubModelReference.IsHubReference(text));
}
