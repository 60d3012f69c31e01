using LlmAspire.Cli.Benchmarking;

namespace LlmAspire.Tests.Cli.Benchmarking;

public sealed class PromptDatasetsTests
{
    [Fact]
    public void Random_PromptsHaveTheRequestedWordsAndAreReproducible()
    {
        IReadOnlyList<BenchPrompt> prompts = PromptDatasets.Random(20, 32, 64, seed: 3);
        Assert.All(prompts, p => Assert.Equal(32, p.Text.Split(' ').Length));
        Assert.All(prompts, p => Assert.Equal(64, p.MaxTokens));
        Assert.Equal(prompts, PromptDatasets.Random(20, 32, 64, seed: 3));
        Assert.True(prompts.Select(p => p.Text).Distinct().Count() > 15);
    }

    [Fact]
    public void SharedPrefix_PromptsOfAGroupShareTheirPrefix()
    {
        IReadOnlyList<BenchPrompt> prompts = PromptDatasets.SharedPrefix(12, groups: 3, prefixLength: 50, suffixLength: 5, outputLength: 8, seed: 1);
        foreach (IGrouping<int, BenchPrompt> group in prompts.GroupBy(p => p.Group))
        {
            string prefix = group.First().Text[..100];
            Assert.All(group, p => Assert.StartsWith(prefix, p.Text, StringComparison.Ordinal));
            Assert.Equal(4, group.Select(p => p.Text).Distinct().Count());
        }

        Assert.Equal(3, prompts.Select(p => p.Text.Split(' ').Take(52).Aggregate((a, b) => a + " " + b)).Distinct().Count());
    }

    [Fact]
    public void Jsonl_ReadsStringsAndObjectsAndCycles()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(path, ["\"Once upon a time\"", "", "{\"prompt\": \"The cat\", \"max_tokens\": 9}"]);
            IReadOnlyList<BenchPrompt> prompts = PromptDatasets.Jsonl(path, 3, 16);
            Assert.Equal(["Once upon a time", "The cat", "Once upon a time"], prompts.Select(p => p.Text));
            Assert.Equal([16, 9, 16], prompts.Select(p => p.MaxTokens));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
