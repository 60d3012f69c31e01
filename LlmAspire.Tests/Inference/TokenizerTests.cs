using System.Text;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Tokenization;

namespace LlmAspire.Tests.Inference;

public sealed class TokenizerTests
{
    // Lazy: the class must load even where ../shared is absent (its tests then skip).
    private static readonly Lazy<SentencePieceBpeTokenizer> LazyTok512 = new(() => SentencePieceBpeTokenizer.ReadLlama2c(TestPaths.Stories260KTokenizer, 512));

    private static SentencePieceBpeTokenizer Tok512 => LazyTok512.Value;

    [Stories260KTheory]
    [InlineData("Once upon a time")]
    [InlineData("Lily and Ben went to the park. They saw a big dog!")]
    [InlineData("  two leading spaces, trailing too  ")]
    [InlineData("Tabs\tand\nnewlines\r\n")]
    [InlineData("Zoë's café: naïve façade — 東京 🙂 ∑")]
    [InlineData("")]
    public void EncodeDecode_RoundTripsText_IncludingByteFallback(string text)
    {
        int[] ids = Tok512.Encode(text, addBos: true);

        Assert.Equal(Tok512.BosId, ids[0]);
        Assert.Equal(text, Tok512.Decode(ids));
    }

    [Stories260KFact]
    public void Encode_CharactersOutsideTheVocabulary_FallBackToTheirUtf8Bytes()
    {
        int[] ids = Tok512.Encode("東", addBos: false);

        // Dummy-prefix space, then the three UTF-8 bytes of 東 (E6 9D B1) as <0xXX> tokens (ids 3 + byte).
        Assert.Equal(new[] { 3 + 0xE6, 3 + 0x9D, 3 + 0xB1 }, ids[^3..]);
    }

    [Stories260KFact]
    public void Encode_MergesIntoTheHighestScoringPieces()
    {
        int[] ids = Tok512.Encode("Once upon a time", addBos: true);

        // BOS + four pieces: " Once", " upon", " a", " time" — what llama2.c's encoder gives.
        Assert.Equal(5, ids.Length);
        Assert.Equal(new[] { " Once", " upon", " a", " time" }, ids[1..].Select(id => Tok512.Pieces[id]));
    }

    [Stories260KFact]
    public void StreamingDetokenizer_SplitMultibyteCharacter_NeverEmitsABrokenSequence()
    {
        int[] ids = Tok512.Encode("a🙂b", addBos: false);
        var detokenizer = new StreamingDetokenizer(Tok512);
        var pieces = ids.Select(detokenizer.Push).ToList();

        Assert.All(pieces, piece => Assert.DoesNotContain('\uFFFD', piece));
        Assert.Contains(pieces, piece => piece.Length == 0); // the emoji's first bytes wait for the rest
        Assert.Equal(" a🙂b", string.Concat(pieces) + detokenizer.Flush());
    }

    [Stories260KFact]
    public void StreamingDetokenizer_TruncatedSequenceAtEnd_FlushesReplacementCharacter()
    {
        var detokenizer = new StreamingDetokenizer(Tok512);
        Assert.Equal(string.Empty, detokenizer.Push(3 + 0xE6));
        Assert.Equal("\uFFFD", detokenizer.Flush());
    }

    [Stories260KFact]
    public void WriteLlama2c_ThenRead_GivesTheSameVocabulary()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string path = Path.Combine(temp.Path, "tok.bin");
        Tok512.WriteLlama2c(path);

        var copy = SentencePieceBpeTokenizer.ReadLlama2c(path, 512);

        Assert.Equal(Tok512.Pieces, copy.Pieces);
        Assert.Equal(Tok512.Scores, copy.Scores);
        Assert.Equal(File.ReadAllBytes(TestPaths.Stories260KTokenizer), File.ReadAllBytes(path));
    }

    [Stories260KFact]
    public void DemoVocabulary_RoundTripsAnyText()
    {
        SentencePieceBpeTokenizer demo = BuiltInModels.DemoVocabulary();
        const string text = "Hello, world! ünïcödé → 42";

        Assert.Equal(text, demo.Decode(demo.Encode(text, addBos: true)));
        // ü ï ö é → are outside the demo vocabulary: their UTF-8 bytes become byte tokens.
        Assert.Equal(Encoding.UTF8.GetByteCount("üïöé→"), demo.Encode("ünïcödé→", addBos: false).Count(id => id >= 3 && id < 259));
    }

    [Stories260KFact]
    public void ReadLlama2c_TruncatedFile_ThrowsClearError()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string path = Path.Combine(temp.Path, "tok.bin");
        File.WriteAllBytes(path, File.ReadAllBytes(TestPaths.Stories260KTokenizer)[..1000]);

        var error = Assert.Throws<InvalidDataException>(() => SentencePieceBpeTokenizer.ReadLlama2c(path, 512));
        Assert.Contains("ends after", error.Message, StringComparison.Ordinal);
    }
}
