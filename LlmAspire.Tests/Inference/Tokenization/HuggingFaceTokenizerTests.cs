using System.Text;
using System.Text.Json.Nodes;
using LlmAspire.Inference.Tokenization;
using static LlmAspire.Tests.Inference.Tokenization.TokenizerJsonBuilder;

namespace LlmAspire.Tests.Inference.Tokenization;

/// <summary>Byte-level and SentencePiece-style tokenizer.json files built by hand, with hand-checked ids.</summary>
public sealed class HuggingFaceTokenizerTests
{
    // Merge ranks 0..5 make ids 256..261: Ġt, he, Ġthe, ll, llo, Ġw.
    private static readonly string[] Gpt2Merges = ["Ġ t", "h e", "Ġt he", "l l", "ll o", "Ġ w"];

    private static readonly (int, string, bool, bool)[] ChatTokens =
    [
        (262, "<|endoftext|>", true, false),
        (263, "<|im_start|>", true, false),
        (264, "<|im_end|>", true, false),
        (265, "[CUSTOM]", false, false),
    ];

    private static readonly HuggingFaceTokenizer Gpt2 = TokenizerJson.Parse(
        ByteLevelBpe(Gpt2Merges, added: ChatTokens),
        TokenizerConfig.Parse("""{"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "tokenizer_class": "GPT2Tokenizer"}"""));

    [Fact]
    public void Encode_Gpt2StyleByteLevel_MergesLowestRankFirstWithinEachWord()
    {
        int[] ids = Gpt2.Encode("hello the world", addBos: true);

        // "hello" → he·l·l·o → he·ll·o → he·llo; " the" → Ġt·h·e → Ġt·he → Ġthe; " world" → Ġw·o·r·l·d.
        Assert.Equal([257, 260, 258, 261, 'o', 'r', 'l', 'd'], ids);
        Assert.Equal("hello the world", Gpt2.Decode(ids));
        Assert.True(Gpt2.IsByteLevel);
        Assert.False(Gpt2.AddsBos); // GPT-2 adds nothing: addBos marks a sequence start, the config decides.
        Assert.Equal(262, Gpt2.BosId);
        Assert.Equal(262, Gpt2.EosId);
    }

    [Fact]
    public void Encode_ByteLevelWhitespaceAndControlBytes_UseTheShiftedAlphabet()
    {
        // Newline is byte 10 → "Ċ" (U+010A), a tab 9 → "ĉ" (ids 10 and 9 here). GPT-2's \s+(?!\S) takes the
        // whitespace run but its last space, which starts the next word: "\t\n ", " t" → ĉ Ċ Ġ, Ġt.
        Assert.Equal([9, 10, 32, 256], Gpt2.Encode("\t\n  t", addBos: false));
        Assert.Equal(new byte[] { 10 }, Gpt2.TokenBytes(10).ToArray());
        Assert.Equal(Encoding.UTF8.GetBytes(" the"), Gpt2.TokenBytes(258).ToArray());
    }

    [Fact]
    public void Encode_AddedTokens_AreSplitOutNeverMergedAndSpecialOnesDecodeToNothing()
    {
        int[] ids = Gpt2.Encode("<|im_start|>the\n[CUSTOM]he<|im_end|>", addBos: false);

        Assert.Equal([263, 't', 257, 10, 265, 257, 264], ids);
        Assert.Equal("the\n[CUSTOM]he", Gpt2.Decode(ids));
        Assert.True(Gpt2.TokenBytes(263).IsEmpty);
        Assert.True(Gpt2.TryGetTokenId("<|im_end|>", out int end));
        Assert.Equal(264, end);
    }

    [Fact]
    public void Encode_Llama3SplitRegex_SplitsNumbersInThreesAndAddsBeginOfText()
    {
        HuggingFaceTokenizer llama3 = TokenizerJson.Parse(
            ByteLevelBpe(["1 2", "12 3", "4 5"], preTokenizer: Llama3PreTokenizer(), postProcessor: TemplateWithBos("<|begin_of_text|>", 300), added: [(300, "<|begin_of_text|>", true, false), (301, "<|eot_id|>", true, false)]),
            TokenizerConfig.Parse("""{"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}"""));

        // "abc", " ", "123", "45": digits go in threes; letters have no merges here.
        Assert.Equal([300, 'a', 'b', 'c', ' ', 257, 258], llama3.Encode("abc 12345", addBos: true));
        Assert.True(llama3.AddsBos);
        Assert.Equal(300, llama3.BosId);
        Assert.Equal(301, llama3.EosId);
        Assert.Equal("abc 12345", llama3.Decode(llama3.Encode("abc 12345", addBos: true)));
    }

    [Fact]
    public void Encode_IgnoreMerges_TakesAWordThatIsInTheVocabularyWhole()
    {
        string whole = ByteLevel(" world");
        HuggingFaceTokenizer withIgnore = TokenizerJson.Parse(ByteLevelBpe(Gpt2Merges, extraVocab: [whole], ignoreMerges: true));
        HuggingFaceTokenizer without = TokenizerJson.Parse(ByteLevelBpe(Gpt2Merges, extraVocab: [whole], ignoreMerges: false));

        Assert.Equal([262], withIgnore.Encode(" world", addBos: false));
        Assert.Equal([261, 'o', 'r', 'l', 'd'], without.Encode(" world", addBos: false));
    }

    [Fact]
    public void EncodeDecode_ByteLevelArbitraryUnicode_RoundTrips()
    {
        var random = new Random(7);
        for (int n = 0; n < 2000; n++)
        {
            string text = RandomUnicode(random, random.Next(0, 30));
            int[] ids = Gpt2.Encode(text, addBos: false);

            Assert.Equal(text, Gpt2.Decode(ids));
            Assert.All(ids, id => Assert.InRange(id, 0, 261)); // only bytes and merges: no added token in random text
        }
    }

    [Fact]
    public void StreamingDetokenizer_ByteLevel_NeverEmitsABrokenSequence()
    {
        var random = new Random(11);
        for (int n = 0; n < 500; n++)
        {
            string text = RandomUnicode(random, random.Next(1, 20));
            var detokenizer = new StreamingDetokenizer(Gpt2);
            var pieces = Gpt2.Encode(text, addBos: false).Select(detokenizer.Push).ToList();

            Assert.All(pieces, piece => Assert.DoesNotContain('\uFFFD', piece));
            Assert.Equal(text, string.Concat(pieces) + detokenizer.Flush());
        }
    }

    [Fact]
    public void Encode_ManyThreadsAtOnce_GiveTheSameIdsAsOneThread()
    {
        HuggingFaceTokenizer fresh = TokenizerJson.Parse(ByteLevelBpe(Gpt2Merges, added: ChatTokens));
        var random = new Random(13);
        string[] texts = [.. Enumerable.Range(0, 400).Select(_ => RandomUnicode(random, random.Next(0, 40)) + " hello the world")];
        int[][] expected = [.. texts.Select(t => Gpt2.Encode(t, addBos: false))];
        var actual = new int[texts.Length][];

        Parallel.For(0, texts.Length * 4, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => actual[i % texts.Length] = fresh.Encode(texts[i % texts.Length], addBos: false));

        for (int i = 0; i < texts.Length; i++)
        {
            Assert.Equal(expected[i], actual[i]);
        }
    }

    [Fact]
    public void Encode_MaxTokens_StopsEarlyWithOneTokenMoreThanTheLimit()
    {
        const string text = "hello the world hello the world";
        int[] full = Gpt2.Encode(text, addBos: false);

        Assert.Equal(full, Gpt2.Encode(text, addBos: false, maxTokens: full.Length));
        int[] cut = Gpt2.Encode(text, addBos: false, maxTokens: 5);
        Assert.Equal(6, cut.Length);
        Assert.Equal(full[..6], cut);
        Assert.Single(Gpt2.Encode(text, addBos: false, maxTokens: 0));
    }

    [Fact]
    public void Encode_SentencePieceWithMetaspaceAndRstripTokens_MatchesHandCheckedIds()
    {
        // Phi-3 / Mistral (legacy=false) shape: Metaspace pre-tokenizer prepending "▁" to the first stretch only,
        // added chat tokens with rstrip that swallow the whitespace after them.
        var vocab = new JsonObject { ["<unk>"] = 0, ["<s>"] = 1, ["</s>"] = 2 };
        for (int b = 0; b < 256; b++)
        {
            vocab[$"<0x{b:X2}>"] = 3 + b;
        }

        string[] pieces = ["▁", "H", "i", "t", "h", "e", "r", "▁H", "▁Hi", "he", "the", "re", "there", "▁t", "▁the", "▁there"];
        foreach (string piece in pieces)
        {
            vocab[piece] = vocab.Count;
        }

        string json = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = AddedTokens([(0, "<unk>", true, false), (1, "<s>", true, false), (2, "</s>", true, false), (400, "<|end|>", true, true)]),
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "Metaspace", ["replacement"] = "▁", ["prepend_scheme"] = "first", ["split"] = false },
            ["post_processor"] = TemplateWithBos("<s>", 1),
            ["decoder"] = new JsonObject { ["type"] = "Metaspace", ["replacement"] = "▁", ["prepend_scheme"] = "first", ["split"] = false },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["unk_token"] = "<unk>",
                ["fuse_unk"] = true,
                ["byte_fallback"] = true,
                ["vocab"] = vocab,
                ["merges"] = new JsonArray("▁ H", "▁H i", "▁ t", "h e", "▁t he", "r e", "▁the re", "t he", "the re"),
            },
        }.ToJsonString();
        HuggingFaceTokenizer tokenizer = TokenizerJson.Parse(json, TokenizerConfig.Parse("""{"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}"""));
        int Id(string piece) => tokenizer.TryGetTokenId(piece, out int id) ? id : throw new KeyNotFoundException(piece);

        int[] ids = tokenizer.Encode("Hi there<|end|>\n there", addBos: true);

        // "▁Hi▁there": the first stretch gets "▁" prepended; ▁·t·h·e·r·e merges ▁t (rank 2), he (3), ▁the (4),
        // re (5), ▁there (6). <|end|> strips all whitespace after it ("\n "), and the later stretch, not at the
        // start of the input, gets no "▁" under prepend_scheme "first": "there".
        Assert.Equal([1, Id("▁Hi"), Id("▁there"), 400, Id("there")], ids);
        Assert.Equal("Hi therethere", tokenizer.Decode(ids));
        // "é" is not in the vocabulary: its UTF-8 bytes C3 A9 fall back to byte tokens.
        Assert.Equal([1, Id("▁"), 3 + 0xC3, 3 + 0xA9], tokenizer.Encode("é", addBos: true));
        Assert.Equal("é", tokenizer.Decode(tokenizer.Encode("é", addBos: true)));
    }

    [Tok512Fact]
    public void Encode_Tok512JsonSpecialTokenMidText_StartsTheNextStretchWithADummyPrefix()
    {
        HuggingFaceTokenizer json = WrittenTok512();

        // Hugging Face's legacy Llama behavior: every stretch between added tokens is normalized on its own.
        int[] expected = [.. json.Encode("a", addBos: false), json.EosId, .. json.Encode("b", addBos: false)];
        Assert.Equal(expected, json.Encode("a</s>b", addBos: false));
    }

    [Tok512Fact]
    public void StreamingDetokenizer_Tok512Json_NeverEmitsABrokenSequence()
    {
        HuggingFaceTokenizer json = WrittenTok512();
        var random = new Random(3);
        for (int n = 0; n < 300; n++)
        {
            string text = RandomUnicode(random, random.Next(1, 20));
            int[] ids = json.Encode(text, addBos: true);
            var detokenizer = new StreamingDetokenizer(json);
            var pieces = ids.Select(detokenizer.Push).ToList();

            Assert.All(pieces, piece => Assert.DoesNotContain('\uFFFD', piece));
            Assert.Equal(" " + text, string.Concat(pieces) + detokenizer.Flush()); // streaming keeps the dummy-prefix space
        }
    }

    [Tok512Fact]
    public void Encode_Tok512JsonLongStory_MatchesLlama2cAndStopsEarlyAtTheLimit()
    {
        var original = SentencePieceBpeTokenizer.ReadLlama2c(TestPaths.Stories260KTokenizer, 512);
        HuggingFaceTokenizer json = WrittenTok512();
        string story = string.Concat(Enumerable.Repeat("Once upon a time, there was a little girl named Lily. She loved to play outside in the park. ", 200));

        int[] ids = json.Encode(story, addBos: true);
        Assert.Equal(original.Encode(story, addBos: true), ids);
        Assert.True(ids.Length > 4000);
        Assert.Equal(ids[..101], json.Encode(story, addBos: true, maxTokens: 100));
        Assert.Equal(ids[..101], ((ITokenizer)original).Encode(story, addBos: true, maxTokens: 100));
    }

    [Tok512Fact]
    public void Load_GenAiIds_OverrideTheConfiguredNames()
    {
        HuggingFaceTokenizer tokenizer = WrittenTok512(bosId: 2, eosId: 1);

        Assert.Equal(2, tokenizer.BosId);
        Assert.Equal(1, tokenizer.EosId);
        Assert.Equal(2, tokenizer.Encode("x", addBos: true)[0]);
    }

    [Theory]
    [InlineData("""{"model": {"type": "WordPiece", "vocab": {"a": 0}, "unk_token": "[UNK]"}}""", "WordPiece")]
    [InlineData("""{"model": {"type": "Unigram", "vocab": [["a", 0.0]]}}""", "Unigram")]
    [InlineData("""{"model": {"type": "WordLevel", "vocab": {"a": 0}}}""", "WordLevel")]
    [InlineData("""{"normalizer": {"type": "Precompiled", "precompiled_charsmap": ""}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}""", "Precompiled")]
    [InlineData("""{"pre_tokenizer": {"type": "BertPreTokenizer"}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}""", "BertPreTokenizer")]
    [InlineData("""{"decoder": {"type": "WordPiece", "prefix": "##"}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}""", "WordPiece")]
    [InlineData("""{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [], "end_of_word_suffix": "</w>"}}""", "end_of_word_suffix")]
    public void Parse_UnsupportedComponent_ThrowsNotSupportedNamingIt(string json, string name)
    {
        var error = Assert.Throws<NotSupportedException>(() => TokenizerJson.Parse(json));

        Assert.Contains(name, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MergeOfUnknownPieces_ThrowsInvalidData()
    {
        var error = Assert.Throws<InvalidDataException>(() => TokenizerJson.Parse("""{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}"""));

        Assert.Contains("a b", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingFile_ThrowsFileNotFound()
    {
        using var temp = TestPaths.CreateTempDirectory();

        Assert.Throws<FileNotFoundException>(() => TokenizerJson.Load(temp.Path));
        Assert.False(TokenizerJson.Exists(temp.Path));
    }

    private static string RandomUnicode(Random random, int length)
    {
        var text = new StringBuilder();
        for (int i = 0; i < length; i++)
        {
            int kind = random.Next(6);
            int codePoint = kind switch
            {
                0 => random.Next(0x20, 0x7F),                 // ASCII
                1 => " \n\t\r"[random.Next(4)],                 // whitespace
                2 => random.Next(0xA0, 0x800),                 // Latin-1 … two-byte UTF-8, combining marks
                3 => random.Next(0x4E00, 0x9FFF),              // CJK
                4 => random.Next(0x1F300, 0x1FAFF),            // emoji (four bytes, surrogate pairs)
                _ => random.Next(0, 0x20),                     // control characters
            };
            text.Append(char.ConvertFromUtf32(codePoint));
        }

        return text.ToString();
    }

    private static HuggingFaceTokenizer WrittenTok512(int? bosId = null, int? eosId = null)
    {
        using var temp = TestPaths.CreateTempDirectory();
        TokenizerJsonWriter.Write(SentencePieceBpeTokenizer.ReadLlama2c(TestPaths.Stories260KTokenizer, 512), temp.Path, modelMaxLength: 512);
        return TokenizerJson.Load(temp.Path, bosId, eosId);
    }
}
