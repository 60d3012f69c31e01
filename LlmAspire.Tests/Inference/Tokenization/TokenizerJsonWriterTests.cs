using System.Text;
using System.Text.Json;
using LlmAspire.Inference.Tokenization;

namespace LlmAspire.Tests.Inference.Tokenization;

/// <summary>tok512 written as tokenizer.json and loaded back must tokenize exactly as llama2.c's encoder does.</summary>
public sealed class TokenizerJsonWriterTests
{
    // The written files' text, and the tokenizer loaded from them (the folder is gone once loaded).
    private static readonly Lazy<(SentencePieceBpeTokenizer Original, HuggingFaceTokenizer Json, (string Tokenizer, string Config) Files)> Tok512 = new(() =>
    {
        var original = SentencePieceBpeTokenizer.ReadLlama2c(TestPaths.Stories260KTokenizer, 512);
        using var temp = TestPaths.CreateTempDirectory();
        TokenizerJsonWriter.Write(original, temp.Path, modelMaxLength: 512);
        var files = (File.ReadAllText(Path.Combine(temp.Path, "tokenizer.json")), File.ReadAllText(Path.Combine(temp.Path, "tokenizer_config.json")));
        return (original, TokenizerJson.Load(temp.Path), files);
    });

    public static TheoryData<string> Texts => new(SampleTexts);

    internal static readonly string[] SampleTexts =
    [
        "Once upon a time",
        "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.",
        "Lily and Ben went to the park. They saw a big dog!",
        "\"Can I play?\" asked Tom. 'Yes,' said Mom; (maybe) — later…",
        "  two leading spaces, trailing too  ",
        "   ",
        " ",
        "a",
        "Tabs\tand\nnewlines\r\n\n\n",
        "many     spaces   between    words",
        "Zoë's café: naïve façade — crème brûlée, jalapeño, São Paulo",
        "東京 北京 你好，世界！ 日本語のテキスト",
        "emoji 🙂🙃 👩‍👩‍👧 🇫🇷 and ∑∫√ symbols",
        "numbers 12345 3.14159 -42 1,000,000",
        "MiXeD CaSe WoRdS and ALLCAPS",
        "a🙂b",
        "\u00a0non-breaking\u00a0space™ [brackets] ~tilde~ |pipe|",
        "\u200a hair space",
    ];

    [Tok512Theory]
    [MemberData(nameof(Texts))]
    public void Encode_WrittenTokenizerJson_GivesTheSameIdsAsLlama2c(string text)
    {
        var (original, json, _) = Tok512.Value;

        Assert.Equal(original.Encode(text, addBos: true), json.Encode(text, addBos: true));
        Assert.Equal(original.Encode(text, addBos: false), json.Encode(text, addBos: false));
    }

    [Tok512Fact]
    public void TryGetTokenId_BothTokenizers_FindPiecesAsTheirVocabularySpellsThem()
    {
        var (original, json, _) = Tok512.Value;

        Assert.True(original.TryGetTokenId(" t", out int plain));
        Assert.True(json.TryGetTokenId("▁t", out int metaspace));
        Assert.Equal(259, plain);
        Assert.Equal(259, metaspace);
        Assert.True(json.TryGetTokenId("</s>", out int eos));
        Assert.Equal(original.EosId, eos);
        Assert.False(json.TryGetTokenId("no such piece", out int none));
        Assert.Equal(-1, none);
    }

    [Tok512Theory]
    [MemberData(nameof(Texts))]
    public void Decode_WrittenTokenizerJson_RoundTripsLikeLlama2c(string text)
    {
        var (original, json, _) = Tok512.Value;
        int[] ids = json.Encode(text, addBos: true);

        Assert.Equal(text, json.Decode(ids));
        Assert.Equal(original.Decode(ids), json.Decode(ids));
        for (int id = 0; id < original.VocabularySize; id++)
        {
            Assert.True(original.TokenBytes(id).SequenceEqual(json.TokenBytes(id)), $"token {id}");
        }
    }

    [Tok512Fact]
    public void Encode_ManyRandomStrings_GivesTheSameIdsAsLlama2c()
    {
        var (original, json, _) = Tok512.Value;
        // Characters from the vocabulary (so merges fire), whitespace runs and characters outside it (byte fallback).
        string[] alphabet =
        [
            "a", "e", "t", "h", "o", "n", "s", "d", "i", "r", "l", "T", "L", "B", " ", " ", " ", " ", "  ", "\n", "\t", ".", ",", "!", "?", "\"", "'",
            "the", " the", "and", "was", "ing", "ed", "é", "ñ", "ü", "东", "京", "🙂", "👍🏽", "\u00a0", "\u200a", "™", "…", "—", "0", "7", "<", ">", "|",
        ];
        var random = new Random(20261126);
        for (int n = 0; n < 3000; n++)
        {
            var text = new StringBuilder();
            int length = random.Next(0, 40);
            for (int i = 0; i < length; i++)
            {
                text.Append(alphabet[random.Next(alphabet.Length)]);
            }

            string s = text.ToString();
            if (s.Contains("<s>", StringComparison.Ordinal) || s.Contains("</s>", StringComparison.Ordinal) || s.Contains("<unk>", StringComparison.Ordinal))
            {
                continue; // special-token text: see Encode_SpecialTokenText_IsTheSpecialToken
            }

            Assert.True(original.Encode(s, addBos: true).SequenceEqual(json.Encode(s, addBos: true)), $"'{s}'");
            Assert.Equal(s, json.Decode(json.Encode(s, addBos: true)));
        }
    }

    [Tok512Fact]
    public void Encode_SpecialTokenText_IsTheSpecialToken()
    {
        var (original, json, _) = Tok512.Value;

        // As Hugging Face does: "<s>" in the text is BOS, not the characters '<', 's', '>' that llama2.c sees.
        Assert.Equal(new[] { original.BosId }, json.Encode("<s>", addBos: false));
        int[] ids = json.Encode("Hi</s>", addBos: false);
        Assert.Equal(original.EosId, ids[^1]);
        Assert.Equal("Hi", json.Decode(ids));
    }

    [Tok512Fact]
    public void Encode_LiteralMetaspaceCharacter_IsASpaceAsInSentencePiece()
    {
        var (original, json, _) = Tok512.Value;

        // tokenizer.json spells a space "▁", so a literal U+2581 in the text is a space there (as in SentencePiece and
        // Hugging Face); llama2.c's vocabulary stores a plain space, so it sees an unknown character and its bytes.
        Assert.Equal(json.Encode("a b", addBos: false), json.Encode("a\u2581b", addBos: false));
        Assert.NotEqual(original.Encode("a\u2581b", addBos: false), json.Encode("a\u2581b", addBos: false));
    }

    [Tok512Fact]
    public void Write_Tok512_HasTheShapeLlamaTokenizerFastWrites()
    {
        var (tokenizerJson, configJson) = Tok512.Value.Files;
        using JsonDocument tokenizer = JsonDocument.Parse(tokenizerJson);
        JsonElement root = tokenizer.RootElement;

        Assert.Equal("Sequence", root.GetProperty("normalizer").GetProperty("type").GetString());
        Assert.Equal("▁", root.GetProperty("normalizer").GetProperty("normalizers")[0].GetProperty("prepend").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("pre_tokenizer").ValueKind);
        Assert.Equal(
            ["Replace", "ByteFallback", "Fuse", "Strip"],
            root.GetProperty("decoder").GetProperty("decoders").EnumerateArray().Select(d => d.GetProperty("type").GetString()!));
        JsonElement model = root.GetProperty("model");
        Assert.Equal("BPE", model.GetProperty("type").GetString());
        Assert.True(model.GetProperty("byte_fallback").GetBoolean());
        Assert.True(model.GetProperty("fuse_unk").GetBoolean());
        Assert.Equal(512, model.GetProperty("vocab").EnumerateObject().Count());
        Assert.Equal(1, model.GetProperty("vocab").GetProperty("<s>").GetInt32());
        Assert.Equal(3 + 0x0A, model.GetProperty("vocab").GetProperty("<0x0A>").GetInt32());
        Assert.Equal(259, model.GetProperty("vocab").GetProperty("▁t").GetInt32());
        // The first merge makes the best-scoring piece.
        Assert.Equal("▁ t", model.GetProperty("merges")[0].GetString());
        Assert.Equal(
            ["<unk>", "<s>", "</s>"],
            root.GetProperty("added_tokens").EnumerateArray().Select(t => t.GetProperty("content").GetString()!));

        using JsonDocument config = JsonDocument.Parse(configJson);
        Assert.True(config.RootElement.GetProperty("add_bos_token").GetBoolean());
        Assert.False(config.RootElement.GetProperty("add_eos_token").GetBoolean());
        Assert.Equal("LlamaTokenizer", config.RootElement.GetProperty("tokenizer_class").GetString());
        Assert.Equal("<s>", config.RootElement.GetProperty("bos_token").GetString());
        Assert.Equal(512, config.RootElement.GetProperty("model_max_length").GetInt32());
    }

    [Tok512Fact]
    public void Load_WrittenTok512_ResolvesBosEosAndAddsBos()
    {
        var (original, json, _) = Tok512.Value;

        Assert.Equal(original.BosId, json.BosId);
        Assert.Equal(original.EosId, json.EosId);
        Assert.Equal(original.UnkId, json.UnkId);
        Assert.True(json.AddsBos);
        Assert.False(json.AddsEos);
        Assert.False(json.IsByteLevel);
        Assert.Equal(512, json.VocabularySize);
        Assert.Equal(original.BosId, json.Encode("hello", addBos: true)[0]);
    }

    [Fact]
    public void DeriveMerges_EverySplitIntoVocabularyPieces_OrderedByScoreThenLongerLeftHalf()
    {
        string[] pieces = ["a", "b", "c", "ab", "bc", "abc"];
        float[] scores = [0, 0, 0, -1, -2, -3];

        var merges = TokenizerJsonWriter.DeriveMerges(pieces, scores);

        // abc splits two ways; the longer left half ("ab" + "c") ranks first, as transformers orders them.
        Assert.Equal([("a", "b"), ("b", "c"), ("ab", "c"), ("a", "bc")], merges);
    }
}
