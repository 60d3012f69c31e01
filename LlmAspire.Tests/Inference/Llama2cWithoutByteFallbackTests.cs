using System.Text.Json.Nodes;
using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Tokenization;

namespace LlmAspire.Tests.Inference;

/// <summary>
/// A llama2.c checkpoint whose vocabulary has no byte-fallback tokens (<see cref="SmallVocabularyCheckpoint"/>) converts
/// and serves: characters outside the vocabulary become &lt;unk&gt;, a run of them one &lt;unk&gt;, as SentencePiece
/// without byte fallback and Hugging Face's BPE with <c>fuse_unk</c> encode them.
/// </summary>
public sealed class Llama2cWithoutByteFallbackTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    private readonly TempDirectory _temp = TestPaths.CreateTempDirectory();
    private readonly string _folder;

    public Llama2cWithoutByteFallbackTests()
    {
        (string checkpoint, string tokenizer) = SmallVocabularyCheckpoint.Write(_temp.Path);
        _folder = Path.Combine(_temp.Path, "small");
        ModelConverter.ConvertLlama2c(checkpoint, tokenizer, _folder);
    }

    public void Dispose() => _temp.Dispose();

    public static TheoryData<string> Texts => new(
        "the cat and the dog",
        "The king is singing. There!",
        "zq€€j",
        "z€q€j",
        "€ at the start, at the end €",
        "東京 and café, naïve 🙂🙃 ∑",
        "  two spaces\nand a newline  ",
        "tab\there",
        "",
        "€");

    [Fact]
    public void Convert_VocabularyWithoutByteTokens_WritesTokenizerJsonWithoutByteFallbackAndWithUnk()
    {
        JsonNode model = JsonNode.Parse(File.ReadAllText(Path.Combine(_folder, "tokenizer.json")))!["model"]!;

        Assert.Equal("BPE", model["type"]!.GetValue<string>());
        Assert.False(model["byte_fallback"]!.GetValue<bool>());
        Assert.True(model["fuse_unk"]!.GetValue<bool>());
        Assert.Equal("<unk>", model["unk_token"]!.GetValue<string>());
        Assert.Equal(SmallVocabularyCheckpoint.UnkId, model["vocab"]!["<unk>"]!.GetValue<int>());
        Assert.Equal(SmallVocabularyCheckpoint.Config.VocabSize, model["vocab"]!.AsObject().Count);
    }

    [Fact]
    public void Encode_CharactersOutsideTheVocabulary_BecomeUnkAtTheirPositions_ARunBecomingOne()
    {
        using LanguageModel lm = LanguageModel.Load(_folder, ExecutionProviderPreference.Cpu);
        int unk = SmallVocabularyCheckpoint.UnkId, space = Id(" "), z = Id("z"), q = Id("q"), j = Id("j");

        Assert.Equal([SmallVocabularyCheckpoint.BosId, space, z, q, unk, j], lm.Tokenizer.Encode("zq€€j", addBos: true));
        Assert.Equal([space, z, unk, q, unk, j], lm.Tokenizer.Encode("z€q€j", addBos: false));
        Assert.Equal([space, unk, Id(" the"), unk], lm.Tokenizer.Encode("東京 the🙂", addBos: false));
        Assert.Equal([space, unk], lm.Tokenizer.Encode("€", addBos: false));
    }

    [Fact]
    public void Encode_KnownWords_MergeAsLlama2cDoes()
    {
        using LanguageModel lm = LanguageModel.Load(_folder, ExecutionProviderPreference.Cpu);

        Assert.Equal([Id(" The"), Id(" "), Id("k"), Id("ing"), Id(" and"), Id(" the"), Id(" s"), Id("on")], lm.Tokenizer.Encode("The king and the son", addBos: false));
    }

    [Theory]
    [MemberData(nameof(Texts))]
    public void Encode_TokenizerJson_GivesTheSameIdsAsTheLlama2cEncoder(string text)
    {
        var llama2c = SentencePieceBpeTokenizer.ReadLlama2c(Path.Combine(_temp.Path, "small-tok.bin"), SmallVocabularyCheckpoint.Config.VocabSize);
        using LanguageModel lm = LanguageModel.Load(_folder, ExecutionProviderPreference.Cpu);

        Assert.False(llama2c.HasByteFallback);
        Assert.Equal(llama2c.Encode(text, addBos: true), lm.Tokenizer.Encode(text, addBos: true));
    }

    [Theory]
    [InlineData("the cat and the dog")]
    [InlineData("The King said: \"Hello, 42 times!\"\nthen left.")]
    [InlineData("  leading and trailing spaces  ")]
    public void Decode_KnownCharacters_RoundTrip(string text)
    {
        using LanguageModel lm = LanguageModel.Load(_folder, ExecutionProviderPreference.Cpu);

        Assert.Equal(text, lm.Tokenizer.Decode(lm.Tokenizer.Encode(text, addBos: true)));
    }

    [Fact]
    public void Decode_Unk_IsDroppedLikeOtherSpecialTokens()
    {
        // Hugging Face tokenizers' decode with skip_special_tokens=True, as every ITokenizer decodes special tokens.
        using LanguageModel lm = LanguageModel.Load(_folder, ExecutionProviderPreference.Cpu);

        Assert.Equal("zqj", lm.Tokenizer.Decode(lm.Tokenizer.Encode("zq€€j", addBos: true)));
        Assert.Equal(0, lm.Tokenizer.TokenBytes(SmallVocabularyCheckpoint.UnkId).Length);
    }

    [Fact]
    public async Task Generate_Greedy_TokensEqualTheReferenceForwardPass()
    {
        const int steps = 12;
        using LanguageModel lm = LanguageModel.Load(_folder, ExecutionProviderPreference.Cpu);
        int[] prompt = lm.Tokenizer.Encode("the king €€ sang", addBos: true);
        Assert.Contains(SmallVocabularyCheckpoint.UnkId, prompt);

        var generated = new List<int>();
        using var cts = new CancellationTokenSource(Timeout);
        await foreach (GenerationUpdate update in lm.GenerateAsync(new GenerationRequest(prompt, steps, Temperature: 0) { Logprobs = true }, cts.Token))
        {
            generated.AddRange(update.Logprobs?.Select(l => l.TokenId) ?? []);
        }

        var reference = new ReferenceLlama(SmallVocabularyCheckpoint.Config, SmallVocabularyCheckpoint.Weights);
        float[] logits = [];
        foreach (int token in prompt)
        {
            logits = reference.Forward(token);
        }

        var expected = new List<int>();
        while (expected.Count < steps)
        {
            int next = Sampler.ArgMax(logits);
            expected.Add(next);
            if (next == SmallVocabularyCheckpoint.EosId)
            {
                break;
            }

            logits = reference.Forward(next);
        }

        Assert.True(expected.Count >= 4, $"the reference stops after {expected.Count} tokens; pick another prompt or seed");
        Assert.Equal(expected, generated);
    }

    [Fact]
    public void Constructor_SomeButNotAllByteTokens_IsRefusedNamingTheFirstMissing()
    {
        string[] pieces = ["<unk>", "<s>", "</s>", "<0x00>", "<0x01>", "a"];

        var error = Assert.Throws<InvalidDataException>(() => new SentencePieceBpeTokenizer(pieces, new float[pieces.Length]));

        Assert.Contains("2 of the 256", error.Message, StringComparison.Ordinal);
        Assert.Contains("<0x02>", error.Message, StringComparison.Ordinal);
    }

    private static int Id(string piece) => SmallVocabularyCheckpoint.Id(piece);
}
