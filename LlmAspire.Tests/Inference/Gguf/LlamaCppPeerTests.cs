using System.Globalization;
using LLama;
using LLama.Common;
using LLama.Native;
using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.Gguf;
using LlmAspire.Inference.Tokenization;
using LlmAspire.Tests.Inference.GenAi;
using Xunit.Abstractions;

namespace LlmAspire.Tests.Inference.Gguf;

/// <summary>
/// llama.cpp (through LLamaSharp's CPU backend) as an independent peer: it runs the GGUF files we write, greedy, token
/// ids in and the argmax of its logits out (no sampler of its own), and the folders we convert from the same files must
/// produce the same tokens. stories260K, the real pretrained model, is written as a <c>llama</c> GGUF with its tok512
/// SentencePiece vocabulary (F32 and Q8_0); a random <c>qwen2</c>-shaped model checks the NEOX rows and biases.
/// </summary>
public sealed class LlamaCppPeerTests(ITestOutputHelper output)
{
    private const int Steps = 40;

    static LlamaCppPeerTests()
    {
        // Keep llama.cpp's load log out of the test output; it must be set before the native library loads.
        NativeLibraryConfig.All.WithLogCallback((_, _) => { });
    }

    [Stories260KTheory]
    [InlineData("F32")]
    [InlineData("Q8_0")]
    public void Stories260K_LlamaCppAndOurFolderGiveTheSameGreedyTokens(string type)
    {
        using var temp = TestPaths.CreateTempDirectory();
        string file = Path.Combine(temp.Path, "stories260K.gguf");
        WriteStories260K(file, Enum.Parse<GgmlType>(type));
        string folder = Path.Combine(temp.Path, "stories260K");
        GgufImporter.Import(file, folder);
        using LanguageModel ours = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu);
        int[] prompt = ours.Tokenizer.Encode("Once upon a time", addBos: true);

        (int[] theirs, int[] theirPrompt, float[] theirFirstLogits) = LlamaCppGreedy(file, prompt, Steps, "Once upon a time");
        List<int> ourTokens = OrtGenAiPeerTests.GreedyTokens(ours, prompt, Steps);

        Assert.Equal(prompt, theirPrompt);
        double difference = MaxDifference(ours, prompt, theirFirstLogits);
        output.WriteLine($"stories260K {type}: llama.cpp and our folder agree on {Steps} greedy tokens; first-step max |logit difference| {difference:E2}");
        output.WriteLine(ours.Tokenizer.Decode(ourTokens));
        Assert.Equal(theirs, ourTokens);
    }

    [Stories260KFact]
    public void Llama2cGguf_WritesStories260KByteForByteAsTheCheckedTestWriterDoes()
    {
        // bench peers writes its GGUFs with Llama2cGguf; the F32 file the test above checks against llama.cpp token for
        // token must be the same bytes, so the bench's llama.cpp runs the same weights and vocabulary as our folder.
        using var temp = TestPaths.CreateTempDirectory();
        string checkedFile = Path.Combine(temp.Path, "checked.gguf"), benchFile = Path.Combine(temp.Path, "bench.gguf");
        WriteStories260K(checkedFile, GgmlType.F32);
        Llama2cGguf.Write(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, benchFile, "stories260K");

        byte[] expected = File.ReadAllBytes(checkedFile), actual = File.ReadAllBytes(benchFile);
        Assert.Equal(expected.Length, actual.Length);
        Assert.True(expected.AsSpan().SequenceEqual(actual), "Llama2cGguf's stories260K differs from the test writer's");
    }

    [Fact]
    public void RandomQwen2_LlamaCppAndOurFolderGiveTheSameGreedyTokens()
    {
        LlamaConfig config = GgufImportTests.Small("qwen2", tied: false, dim: 64, hidden: 128) with { QkvBias = true, RopeTheta = 1000000f };
        LlamaWeights weights = BuiltInModels.RandomWeights(config, seed: 111, scale: 0.3f);
        using var temp = TestPaths.CreateTempDirectory();
        string file = Path.Combine(temp.Path, "qwen2.gguf");
        GgufCheckpoint.Create(config, weights, GgmlType.F32, eos: config.VocabSize - 1).Write(file);
        string folder = Path.Combine(temp.Path, "qwen2");
        GgufImporter.Import(file, folder);
        using LanguageModel ours = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu);
        int[] prompt = [1, 40, 7, 63, 12, 5];

        (int[] theirs, _, float[] theirFirstLogits) = LlamaCppGreedy(file, prompt, 20, text: null);
        List<int> ourTokens = OrtGenAiPeerTests.GreedyTokens(ours, prompt, 20);

        output.WriteLine($"qwen2: first-step max |logit difference| {MaxDifference(ours, prompt, theirFirstLogits):E2}");
        Assert.Equal(theirs, ourTokens.Take(theirs.Length));
    }

    /// <summary>
    /// Writes stories260K (llama2.c's checkpoint, whose q/k rows are already in adjacent-pair order) as a <c>llama</c> GGUF
    /// with tok512 as a SentencePiece vocabulary: "▁" for spaces, &lt;unk&gt;/&lt;s&gt;/&lt;/s&gt; as unknown and control tokens,
    /// the 256 &lt;0xNN&gt; byte tokens as byte tokens, the scores as they are.
    /// </summary>
    internal static void WriteStories260K(string path, GgmlType type)
    {
        (LlamaConfig config, LlamaWeights w) = Llama2cCheckpoint.Read(TestPaths.Stories260KCheckpoint);
        int dim = config.Dim;
        var hf = new LlamaWeights
        {
            TokenEmbedding = w.TokenEmbedding,
            AttentionNorm = w.AttentionNorm,
            Wq = [.. w.Wq.Select(q => GgufCheckpoint.Unpermute(q, config.Heads, dim))],
            Wk = [.. w.Wk.Select(k => GgufCheckpoint.Unpermute(k, config.KvHeads, dim))],
            Wv = w.Wv,
            Wo = w.Wo,
            FfnNorm = w.FfnNorm,
            W1 = w.W1,
            W2 = w.W2,
            W3 = w.W3,
            FinalNorm = w.FinalNorm,
            Classifier = w.Classifier,
        };
        GgufCheckpoint checkpoint = GgufCheckpoint.Create(config, hf, type, eos: 2);
        var vocabulary = SentencePieceBpeTokenizer.ReadLlama2c(TestPaths.Stories260KTokenizer, config.VocabSize);
        string[] tokens = [.. vocabulary.Pieces.Select((p, id) => id switch { 0 => "<unk>", 1 => "<s>", 2 => "</s>", _ => p.Replace(' ', '▁') })];
        int[] types = [.. tokens.Select((t, id) => id == 0 ? 2 : id <= 2 ? 3 : t.Length == 6 && t.StartsWith("<0x", StringComparison.Ordinal) ? 6 : 1)];
        checkpoint.Writer
            .Remove("tokenizer.ggml.pre")
            .Remove("tokenizer.ggml.merges")
            .Add("tokenizer.ggml.model", "llama")
            .Add("tokenizer.ggml.tokens", GgufValueType.Array, new GgufArray(GgufValueType.String, tokens))
            .Add("tokenizer.ggml.scores", GgufValueType.Array, new GgufArray(GgufValueType.Float32, vocabulary.Scores.ToArray()))
            .Add("tokenizer.ggml.token_type", GgufValueType.Array, new GgufArray(GgufValueType.Int32, types))
            .Add("tokenizer.ggml.unknown_token_id", 0u)
            .Add("tokenizer.ggml.add_bos_token", true)
            .Add("general.name", "stories260K");
        checkpoint.Write(path);
    }

    /// <summary>
    /// llama.cpp's greedy continuation: the prompt decoded in one batch, then one token at a time, each next token the argmax
    /// of its logits. With <paramref name="text"/>, also llama.cpp's own tokenization of it (BOS added).
    /// </summary>
    internal static (int[] Tokens, int[] Prompt, float[] FirstLogits) LlamaCppGreedy(string file, int[] prompt, int steps, string? text)
    {
        var parameters = new ModelParams(file) { ContextSize = 256, BatchSize = 256, GpuLayerCount = 0, Threads = 2 };
        using LLamaWeights weights = LLamaWeights.LoadFromFile(parameters);
        using LLamaContext context = weights.CreateContext(parameters);
        int[] theirPrompt = text is null ? prompt : [.. context.Tokenize(text, addBos: true, special: false).Select(t => (int)t)];
        var batch = new LLamaBatch();
        int last = 0;
        for (int i = 0; i < prompt.Length; i++)
        {
            last = batch.Add(prompt[i], i, LLamaSeqId.Zero, i == prompt.Length - 1);
        }

        Decode(context, batch);
        float[] first = context.NativeHandle.GetLogitsIth(last).ToArray();
        var tokens = new List<int>();
        float[] logits = first;
        for (int step = 0; step < steps; step++)
        {
            int next = Sampler.ArgMax(logits);
            tokens.Add(next);
            batch.Clear();
            last = batch.Add(next, prompt.Length + step, LLamaSeqId.Zero, true);
            Decode(context, batch);
            logits = context.NativeHandle.GetLogitsIth(last).ToArray();
        }

        return ([.. tokens], theirPrompt, first);
    }

    private static void Decode(LLamaContext context, LLamaBatch batch)
    {
        DecodeResult result = context.Decode(batch);
        if (result != DecodeResult.Ok)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"llama_decode returned {result}."));
        }
    }

    private static double MaxDifference(LanguageModel ours, int[] prompt, float[] theirs)
    {
        using DecoderState state = ours.Decoder.CreateState();
        float[] logits = ours.Decoder.Forward(state, prompt);
        return logits.Zip(theirs, (a, b) => (double)Math.Abs(a - b)).Max();
    }
}
