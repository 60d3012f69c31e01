using System.Globalization;
using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.Calibration;
using LlmAspire.Inference.Models.Pruning;
using LlmAspire.Inference.Models.Quantization;
using LlmAspire.Tests.Inference.GenAi;
using Xunit.Abstractions;

namespace LlmAspire.Tests.Inference.Pruning;

/// <summary>
/// stories260K (5 layers, dim 64, FFN 172, 8 heads over 4 KV heads) pruned: the folders load, generate, shrink, and the
/// calibration measures choose better than their opposites on text they were not calibrated on.
/// </summary>
public sealed class Stories260KPruningTests(PrunedStories260K model, ITestOutputHelper output) : IClassFixture<PrunedStories260K>
{
    [Stories260KFact]
    public void BlockInfluence_IsDeterministicAndWithinItsRange()
    {
        CalibrationStatistics again = CalibrationPass.Run(model.Folder.Config, model.Folder.Weights, ModelPruner.Tokenize(model.Source, model.Folder, CalibrationText.BuiltIn));

        Assert.Equal(model.Statistics.BlockInfluence, again.BlockInfluence);
        Assert.Equal(model.Statistics.FfnImportance, again.FfnImportance);
        Assert.Equal(model.Statistics.HeadGroupImportance, again.HeadGroupImportance);
        Assert.Equal(5, again.BlockInfluence.Length);
        Assert.All(again.BlockInfluence, b => Assert.InRange(b, 0, 2));
        Assert.True(again.BlockInfluence.Distinct().Count() > 1, "every layer has the same influence");
        Assert.True(again.Tokens > 500, $"{again.Tokens} calibration tokens");
    }

    [Stories260KFact]
    public void EmptyPlan_WritesTheSameGraph_AndTheSameLogits()
    {
        int layers = model.Folder.Config.Layers;
        string same = model.Write(new PruningPlan
        {
            DroppedLayers = [],
            FfnChannels = [.. Enumerable.Range(0, layers).Select(_ => Enumerable.Range(0, model.Folder.Config.HiddenDim).ToArray())],
            KvGroups = [.. Enumerable.Range(0, layers).Select(_ => Enumerable.Range(0, model.Folder.Config.KvHeads).ToArray())],
        });

        Assert.Equal(File.ReadAllBytes(Path.Combine(model.Source, ModelFolder.ModelFile)), File.ReadAllBytes(Path.Combine(same, ModelFolder.ModelFile)));
        using LanguageModel source = LanguageModel.Load(model.Source, ExecutionProviderPreference.Cpu);
        using LanguageModel copy = LanguageModel.Load(same, ExecutionProviderPreference.Cpu);
        int[] text = source.Tokenizer.Encode(PrunedStories260K.HeldOutText, addBos: true);
        Assert.Equal(PrunedStories260K.AllLogits(source, text), PrunedStories260K.AllLogits(copy, text));
    }

    [Stories260KFact]
    public void DropOneLayer_LowestInfluence_LoadsGeneratesShrinks_AndBeatsDroppingTheHighest()
    {
        PruningPlan chosen = model.Choose(new PruningOptions { DropLayers = 1 });
        int highest = PruningPlan.Highest(model.Statistics.BlockInfluence, 1)[0];
        PruningPlan anti = new()
        {
            DroppedLayers = [highest],
            FfnChannels = chosen.FfnChannels,
            KvGroups = chosen.KvGroups,
        };
        Assert.NotEqual(highest, chosen.DroppedLayers[0]);

        string pruned = model.Write(chosen);
        string opposite = model.Write(anti);
        double kl = model.MeanKl(pruned), antiKl = model.MeanKl(opposite);

        output.WriteLine($"BI {string.Join(", ", model.Statistics.BlockInfluence.Select(b => b.ToString("F4", CultureInfo.InvariantCulture)))}; drop {chosen.DroppedLayers[0]}: KL {kl:G4}; drop {highest}: KL {antiKl:G4}");
        AssertPrunedFolder(pruned, layers: 4);
        Assert.True(double.IsFinite(kl) && kl > 0, $"KL {kl}");
        Assert.True(kl < antiKl, $"dropping the lowest-influence layer (KL {kl:G4}) should cost less than dropping the highest (KL {antiKl:G4})");
    }

    [Stories260KFact]
    public void KeepThreeQuartersOfTheFfn_MostImportant_BeatsKeepingTheLeastImportant()
    {
        PruningPlan chosen = model.Choose(new PruningOptions { FfnKeep = 0.75 });
        int channels = chosen.FfnChannels[0].Length;
        PruningPlan anti = new()
        {
            DroppedLayers = [],
            FfnChannels = [.. model.Statistics.FfnImportance.Select(scores => PruningPlan.Lowest(scores, channels))],
            KvGroups = chosen.KvGroups,
        };

        string pruned = model.Write(chosen);
        string opposite = model.Write(anti);
        double kl = model.MeanKl(pruned), antiKl = model.MeanKl(opposite);

        output.WriteLine($"ffn 172 -> {channels}: KL {kl:G4}; least important kept: KL {antiKl:G4}");
        Assert.Equal(128, channels); // round(0.75 · 172) = 129, to the nearest multiple of 8
        AssertPrunedFolder(pruned, layers: 5);
        Assert.True(double.IsFinite(kl) && kl > 0, $"KL {kl}");
        Assert.True(kl < antiKl, $"keeping the most important channels (KL {kl:G4}) should cost less than keeping the least (KL {antiKl:G4})");
    }

    [Stories260KFact]
    public void KeepHalfTheHeadGroups_MostImportant_BeatsKeepingTheLeastImportant()
    {
        PruningPlan chosen = model.Choose(new PruningOptions { HeadsKeep = 0.5 });
        PruningPlan anti = new()
        {
            DroppedLayers = [],
            FfnChannels = chosen.FfnChannels,
            KvGroups = [.. model.Statistics.HeadGroupImportance.Select(scores => PruningPlan.Lowest(scores, 2))],
        };

        string pruned = model.Write(chosen);
        double kl = model.MeanKl(pruned), antiKl = model.MeanKl(model.Write(anti));

        output.WriteLine($"heads 8 -> 4: KL {kl:G4}; least important kept: KL {antiKl:G4}");
        (LlamaConfig config, _) = ModelFolder.ReadConfig(pruned);
        Assert.Equal((4, 2, 8), (config.Heads, config.KvHeads, config.HeadSize));
        AssertPrunedFolder(pruned, layers: 5);
        Assert.True(kl < antiKl, $"keeping the most important groups (KL {kl:G4}) should cost less than keeping the least (KL {antiKl:G4})");
    }

    [Stories260KFact]
    public void PrunedFolder_Quantizes_AndTheInt8CopyFollowsIt()
    {
        string pruned = model.Write(model.Choose(new PruningOptions { DropLayers = 1, FfnKeep = 0.75 }));
        string quantized = pruned + "-int8";

        QuantizationManifest manifest = ModelQuantizer.QuantizeFolder(pruned, quantized, QuantizationOptions.Parse("int8-b32-asym-acc4"));

        Assert.True(manifest.Bytes < manifest.SourceBytes);
        Assert.Equal(4 * 4, manifest.QuantizedMatMuls); // qkv, o, gate|up, down in each of 4 layers (lm_head kept)
        int[] fp32 = PrunedStories260K.Greedy(pruned, 32), int8 = PrunedStories260K.Greedy(quantized, 32);
        int same = QuantizationMetrics.CommonPrefix(fp32, int8);
        double quantizationKl = PrunedStories260K.MeanKl(pruned, quantized), pruningKl = model.MeanKl(pruned);
        output.WriteLine($"int8 of the pruned folder: {same}/32 greedy tokens equal, KL {quantizationKl:G3} vs its float32 (pruning itself: {pruningKl:G3})");
        Assert.True(same >= 8, $"{same} of 32 tokens equal");
        Assert.True(quantizationKl < pruningKl / 10, $"int8 costs KL {quantizationKl:G3}, pruning {pruningKl:G3}");
    }

    [Stories260KFact]
    public void GenAi_LoadsAPrunedFolder_AndItsGreedyTokensEqualOurs()
    {
        string pruned = model.Write(model.Choose(new PruningOptions { DropLayers = 1, FfnKeep = 0.75, HeadsKeep = 0.5 }));
        using LanguageModel ours = LanguageModel.Load(pruned, ExecutionProviderPreference.Cpu);
        int[] prompt = ours.Tokenizer.Encode("Once upon a time", addBos: true);
        List<int> ourTokens = OrtGenAiPeerTests.GreedyTokens(ours, prompt, 32);

        int[] theirs = OrtGenAiPeerTests.GenAiGreedy(pruned, prompt, prompt.Length + ourTokens.Count);

        Assert.Equal(prompt, theirs[..prompt.Length]);
        Assert.Equal(ourTokens, theirs[prompt.Length..]);
    }

    [Stories260KFact]
    public void QualityTable_PrintsSizeKlAndAgreementPerVariant()
    {
        int[] reference = PrunedStories260K.Greedy(model.Source, 32);
        long sourceBytes = OnnxModelFile.SizeOnDisk(Path.Combine(model.Source, ModelFolder.ModelFile));
        output.WriteLine("| variant | layers | ffn | heads (kv) | model bytes | % of fp32 | mean KL (nats/token) | greedy prefix agreement (32) |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach ((string name, PruningOptions options) in new (string, PruningOptions)[]
        {
            ("drop 1", new() { DropLayers = 1 }),
            ("drop 2", new() { DropLayers = 2 }),
            ("ffn 0.75", new() { FfnKeep = 0.75 }),
            ("ffn 0.5", new() { FfnKeep = 0.5 }),
            ("heads 0.5", new() { HeadsKeep = 0.5 }),
            ("drop 1 + ffn 0.75", new() { DropLayers = 1, FfnKeep = 0.75 }),
        })
        {
            string pruned = model.Write(model.Choose(options));
            (LlamaConfig c, _) = ModelFolder.ReadConfig(pruned);
            long bytes = OnnxModelFile.SizeOnDisk(Path.Combine(pruned, ModelFolder.ModelFile));
            double kl = model.MeanKl(pruned);
            int same = QuantizationMetrics.CommonPrefix(reference, PrunedStories260K.Greedy(pruned, 32));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {c.Layers} | {c.HiddenDim} | {c.Heads} ({c.KvHeads}) | {bytes:N0} | {100.0 * bytes / sourceBytes:F1} % | {kl:G3} | {same}/32 |"));
            Assert.True(bytes < sourceBytes && double.IsFinite(kl), name);
        }
    }

    /// <summary>The folder loads in our engine, generates, is smaller than the source, and records what was done.</summary>
    private void AssertPrunedFolder(string folder, int layers)
    {
        using LanguageModel loaded = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu);
        Assert.Equal(layers, loaded.Config.Layers);
        int[] tokens = PrunedStories260K.Greedy(folder, 16);
        Assert.Contains(tokens, t => t != tokens[0]);
        Assert.True(
            OnnxModelFile.SizeOnDisk(Path.Combine(folder, ModelFolder.ModelFile)) < OnnxModelFile.SizeOnDisk(Path.Combine(model.Source, ModelFolder.ModelFile)),
            "the pruned graph is not smaller");
        PruningManifest manifest = ModelPruner.ReadManifest(folder)!;
        Assert.Equal(Path.GetFullPath(model.Source), manifest.Source);
        Assert.Equal("built-in", manifest.Calibration);
        Assert.Equal(layers, manifest.Layers.After);
        Assert.True(File.Exists(Path.Combine(folder, "tokenizer.json")));
    }
}
