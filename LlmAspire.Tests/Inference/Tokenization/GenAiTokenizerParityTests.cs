using System.Text;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Tokenization;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace LlmAspire.Tests.Inference.Tokenization;

/// <summary>ONNX Runtime GenAI 0.18 (onnxruntime-extensions inside) loads the tokenizer.json we write and agrees with us.</summary>
public sealed class GenAiTokenizerParityTests
{
    [Stories260KFact]
    public void GenAi_LoadsOurTok512TokenizerJson_AndEncodesAndDecodesAsWeDo()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string folder = Path.Combine(temp.Path, "stories260K");
        ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, folder);
        var original = SentencePieceBpeTokenizer.ReadLlama2c(TestPaths.Stories260KTokenizer, 512);
        TokenizerJsonWriter.Write(original, folder, modelMaxLength: 512);
        File.Delete(Path.Combine(folder, "tokenizer.bin"));
        HuggingFaceTokenizer ours = TokenizerJson.Load(folder);
        using var model = new Model(folder);
        using var theirs = new Tokenizer(model);

        var texts = new List<string>(TokenizerJsonWriterTests.SampleTexts.Where(t => t.Length > 0));
        string[] alphabet = ["a", "e", "t", "h", "o", "n", " ", " ", "  ", "\n", "\t", ".", ",", "!", "\"", "the", " the", "was", "é", "东", "🙂", "\u00a0", "—", "7"];
        var random = new Random(5);
        for (int n = 0; n < 500; n++)
        {
            var text = new StringBuilder();
            for (int i = random.Next(1, 30); i > 0; i--)
            {
                text.Append(alphabet[random.Next(alphabet.Length)]);
            }

            texts.Add(text.ToString());
        }

        foreach (string text in texts)
        {
            // GenAI's Encode adds no BOS; its Decode drops the dummy-prefix space only after a leading BOS.
            using Sequences sequences = theirs.Encode(text);
            int[] ids = sequences[0].ToArray();
            Assert.True(ours.Encode(text, addBos: false).SequenceEqual(ids), $"encode '{text}'");
            int[] withBos = [ours.BosId, .. ids];
            Assert.Equal(ours.Decode(withBos), theirs.Decode(withBos));
        }
    }
}
