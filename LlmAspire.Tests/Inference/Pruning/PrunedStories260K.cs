using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.Calibration;
using LlmAspire.Inference.Models.Pruning;
using LlmAspire.Inference.Models.Quantization;

namespace LlmAspire.Tests.Inference.Pruning;

/// <summary>
/// stories260K converted once, its weights read back and its calibration statistics measured once, shared by the
/// pruning tests; and the measures they judge a pruned folder by (KL against the source on held-out text, greedy
/// agreement).
/// </summary>
public sealed class PrunedStories260K : IDisposable
{
    /// <summary>
    /// The held-out text: the fixed story <c>bench quantization</c> measures KL on (BenchQuantizationCommand), which the
    /// calibration sample does not contain.
    /// </summary>
    public const string HeldOutText =
        "Once upon a time, there was a little boy named Tim. Tim had a red ball that he loved very much. " +
        "Every day he went to the park with his mom to play. One day, the ball rolled under a big tree. " +
        "Tim was sad because he could not reach it. A kind dog came and pushed the ball back to Tim. " +
        "Tim smiled and said, \"Thank you, dog!\" They played together until the sun went down, and then Tim went home happy.";

    private readonly TempDirectory _temp = TestPaths.CreateTempDirectory();
    private readonly Lazy<(BuilderFolder Source, CalibrationStatistics Statistics)> _measured;
    private int _folders;

    public PrunedStories260K()
    {
        Source = Path.Combine(_temp.Path, "stories260K");
        _measured = new(() =>
        {
            ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, Source);
            BuilderFolder folder = LlamaFolderReader.Read(Source);
            return (folder, CalibrationPass.Run(folder.Config, folder.Weights, ModelPruner.Tokenize(Source, folder, CalibrationText.BuiltIn)));
        });
    }

    /// <summary>The float32 folder.</summary>
    public string Source { get; }

    /// <summary>Its weights, read back.</summary>
    public BuilderFolder Folder => _measured.Value.Source;

    /// <summary>Its statistics over the built-in calibration sample.</summary>
    public CalibrationStatistics Statistics => _measured.Value.Statistics;

    /// <summary>Writes the folder <paramref name="plan"/> makes of the source and returns its path.</summary>
    public string Write(PruningPlan plan)
    {
        string folder = Path.Combine(_temp.Path, $"pruned-{Interlocked.Increment(ref _folders)}");
        ModelPruner.WriteFolder(Source, folder, Folder, plan, Statistics, CalibrationSource.BuiltIn);
        return folder;
    }

    /// <summary>The plan <see cref="PruningPlan.Choose"/> makes for <paramref name="options"/>.</summary>
    public PruningPlan Choose(PruningOptions options) => PruningPlan.Choose(Folder.Config, Statistics, options);

    /// <summary>Mean KL(source || pruned) in nats per token over <see cref="HeldOutText"/>, teacher-forced.</summary>
    public double MeanKl(string pruned) => MeanKl(Source, pruned);

    /// <summary>Mean KL(<paramref name="referenceFolder"/> || <paramref name="pruned"/>) in nats per token over <see cref="HeldOutText"/>, teacher-forced.</summary>
    public static double MeanKl(string referenceFolder, string pruned)
    {
        using LanguageModel reference = LanguageModel.Load(referenceFolder, ExecutionProviderPreference.Cpu);
        using LanguageModel model = LanguageModel.Load(pruned, ExecutionProviderPreference.Cpu);
        int[] text = reference.Tokenizer.Encode(HeldOutText, addBos: true);
        float[] p = AllLogits(reference, text), q = AllLogits(model, text);
        int vocab = reference.Config.VocabSize;
        double kl = 0;
        for (int t = 0; t < text.Length; t++)
        {
            kl += QuantizationMetrics.KlDivergence(p.AsSpan(t * vocab, vocab), q.AsSpan(t * vocab, vocab));
        }

        return kl / text.Length;
    }

    /// <summary>Logits of every position of <paramref name="tokens"/>, in one pass.</summary>
    public static float[] AllLogits(LanguageModel model, int[] tokens)
    {
        using DecoderState state = model.Decoder.CreateState();
        return model.Decoder.Forward(state, tokens, allPositions: true);
    }

    /// <summary><paramref name="count"/> greedy tokens after "Once upon a time" (EOS not special).</summary>
    public static int[] Greedy(string folder, int count)
    {
        using LanguageModel model = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu);
        using DecoderState state = model.Decoder.CreateState();
        int[] tokens = new int[count];
        float[] logits = model.Decoder.Forward(state, model.Tokenizer.Encode("Once upon a time", addBos: true));
        for (int i = 0; i < count; i++)
        {
            tokens[i] = Sampler.ArgMax(logits);
            logits = model.Decoder.Forward(state, [tokens[i]]);
        }

        return tokens;
    }

    public void Dispose() => _temp.Dispose();
}
