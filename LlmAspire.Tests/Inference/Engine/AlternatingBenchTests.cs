using LlmAspire.Cli.Commands;
using LlmAspire.Inference.Engine;

namespace LlmAspire.Tests.Inference.Engine;

/// <summary>The setups of <c>bench engine --alternate</c>, which the spinning and thread A/B runs are written in.</summary>
public sealed class AlternatingBenchTests
{
    [Fact]
    public void Parse_ReadsModesThreadsAndGenAi()
    {
        AlternatingBench.Setup[] setups = AlternatingBench.Parse("off, WithinRun/2 ,Always/1,genai,Off/2@ort,Brief@MLAS");
        Assert.Equal(
            [
                new AlternatingBench.Setup("off", SpinningMode.Off, 0, IsGenAi: false),
                new AlternatingBench.Setup("WithinRun/2", SpinningMode.WithinRun, 2, IsGenAi: false),
                new AlternatingBench.Setup("Always/1", SpinningMode.Always, 1, IsGenAi: false),
                new AlternatingBench.Setup("GenAI", SpinningMode.Always, 0, IsGenAi: true),
                new AlternatingBench.Setup("Off/2@ort", SpinningMode.Off, 2, IsGenAi: false) { Attention = AttentionKernelChoice.OnnxRuntime },
                new AlternatingBench.Setup("Brief@MLAS", SpinningMode.Brief, 0, IsGenAi: false) { RewriteGraph = false },
            ],
            setups);
    }

    [Theory]
    [InlineData("Off", "at least two setups")]
    [InlineData("Off,Sometimes", "'Sometimes' is not a setup")]
    [InlineData("Off,Off/0", "'Off/0' is not a setup")]
    [InlineData("Off,Off/2/3", "'Off/2/3' is not a setup")]
    [InlineData("Off,3", "'3' is not a setup")]
    [InlineData("Off,2", "'2' is not a setup")]
    [InlineData("Off,GenAI@ort", "'GenAI@ort' is not a setup")]
    [InlineData("Off,GenAI@mlas", "'GenAI@mlas' is not a setup")]
    [InlineData("Off,Off@ort@mlas", "'Off@ort@mlas' is not a setup")]
    public void Parse_RefusesWhatIsNotASetup_NamingIt(string text, string message)
    {
        FormatException error = Assert.Throws<FormatException>(() => AlternatingBench.Parse(text));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
