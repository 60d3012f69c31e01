using System.Text;
using LlmAspire.Inference;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Models;
using Onnx;

namespace LlmAspire.Tests.Inference.GenAi;

/// <summary>
/// Our engine loads a folder in the layout ONNX Runtime GenAI's model builder writes: its full genai_config.json
/// (session options, every search key, eos as an array), no llmaspire.json, and graph names taken from the config
/// rather than assumed. GenAI loads the same folder, and both give stories260K's known answer.
/// </summary>
public sealed class ModelBuilderLayoutTests
{
    private const string BuilderConfig = """
        {
            "model": {
                "bos_token_id": 1,
                "context_length": 512,
                "decoder": {
                    "session_options": { "log_id": "onnxruntime-genai", "provider_options": [] },
                    "filename": "decoder_model.onnx",
                    "head_size": 16,
                    "hidden_size": 64,
                    "inputs": {
                        "input_ids": "tokens",
                        "attention_mask": "mask",
                        "past_key_names": "cache.%d.k",
                        "past_value_names": "cache.%d.v"
                    },
                    "outputs": {
                        "logits": "scores",
                        "present_key_names": "cache_out.%d.k",
                        "present_value_names": "cache_out.%d.v"
                    },
                    "num_attention_heads": 8,
                    "num_hidden_layers": 5,
                    "num_key_value_heads": 4
                },
                "eos_token_id": [2],
                "pad_token_id": 0,
                "type": "llama",
                "vocab_size": 512
            },
            "search": {
                "diversity_penalty": 0.0,
                "do_sample": false,
                "early_stopping": true,
                "length_penalty": 1.0,
                "max_length": 512,
                "min_length": 0,
                "no_repeat_ngram_size": 0,
                "num_beams": 1,
                "num_return_sequences": 1,
                "past_present_share_buffer": false,
                "repetition_penalty": 1.0,
                "temperature": 1.0,
                "top_k": 1,
                "top_p": 1.0
            }
        }
        """;

    [Stories260KFact]
    public async Task Load_ModelBuilderLayoutWithItsOwnNames_BothEnginesGiveTheKnownAnswer()
    {
        using var temp = TestPaths.CreateTempDirectory();
        string folder = Path.Combine(temp.Path, "stories260K-builder");
        ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, folder);
        RewriteAsModelBuilderFolder(folder);

        using LanguageModel ours = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu);
        int[] prompt = ours.Tokenizer.Encode("Once upon a time", addBos: true);
        var text = new StringBuilder();
        await foreach (GenerationUpdate update in ours.GenerateAsync(new GenerationRequest(prompt, 60, Temperature: 0)))
        {
            text.Append(update.Text);
        }

        Assert.Equal(Stories260KTests.KnownContinuation, text.ToString());
        int[] theirs = OrtGenAiPeerTests.GenAiGreedy(folder, prompt, prompt.Length + 60);
        Assert.Equal(OrtGenAiPeerTests.GreedyTokens(ours, prompt, 60), theirs[prompt.Length..]);
    }

    private static void RewriteAsModelBuilderFolder(string folder)
    {
        File.Delete(Path.Combine(folder, ModelFolder.ArchitectureFile));
        ModelProto model;
        using (FileStream stream = File.OpenRead(Path.Combine(folder, ModelFolder.ModelFile)))
        {
            model = ModelProto.Parser.ParseFrom(stream);
        }

        var renames = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["input_ids"] = "tokens",
            ["attention_mask"] = "mask",
            ["logits"] = "scores",
        };
        for (int l = 0; l < 5; l++)
        {
            renames[$"past_key_values.{l}.key"] = $"cache.{l}.k";
            renames[$"past_key_values.{l}.value"] = $"cache.{l}.v";
            renames[$"present.{l}.key"] = $"cache_out.{l}.k";
            renames[$"present.{l}.value"] = $"cache_out.{l}.v";
        }

        string Rename(string name) => renames.GetValueOrDefault(name, name);
        foreach (ValueInfoProto value in model.Graph.Input.Concat(model.Graph.Output))
        {
            value.Name = Rename(value.Name);
        }

        foreach (NodeProto node in model.Graph.Node)
        {
            for (int i = 0; i < node.Input.Count; i++)
            {
                node.Input[i] = Rename(node.Input[i]);
            }

            for (int i = 0; i < node.Output.Count; i++)
            {
                node.Output[i] = Rename(node.Output[i]);
            }
        }

        File.Delete(Path.Combine(folder, ModelFolder.ModelFile));
        ModelFolder.WriteOnnx(model, Path.Combine(folder, "decoder_model.onnx"));
        File.WriteAllText(Path.Combine(folder, ModelFolder.ConfigFile), BuilderConfig);
    }
}
