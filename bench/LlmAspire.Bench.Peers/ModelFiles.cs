using LLama;
using LLama.Native;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.Gguf;
using LlmAspire.Inference.Models.Quantization;

namespace LlmAspire.Bench.Peers;

/// <summary>
/// Writes every model a run needs under a work folder, once (a file or folder already there is reused; they are
/// deterministic): the random 100M llama2.c checkpoint with tok512 as its vocabulary, our float32 folder converted from
/// it (<c>model convert</c>), our default int8 folder (<c>model quantize --bits 8</c>), its F32 GGUF and llama.cpp's Q8_0
/// of that; for stories260K the float32 folder and the F32 GGUF.
/// </summary>
internal sealed class ModelFiles(string workFolder, string stories260KFolder, TextWriter log)
{
    /// <summary>dim 768, 12 layers, 12 heads, 4 KV heads, FFN 3072: the 100m demo preset's shape with tok512's 512 pieces.</summary>
    public static LlamaConfig Config100M { get; } = DemoPresets.Base100M.Config with { VocabSize = 512 };

    private string Tokenizer => Path.Combine(stories260KFolder, "tok512.bin");

    /// <summary>The files of <paramref name="model"/> in float32 or int8, written if missing.</summary>
    public PeerModel Get(string model, bool int8)
    {
        string dir = Path.Combine(workFolder, model);
        Directory.CreateDirectory(dir);
        string checkpoint = model == Workload.Model100M ? Path.Combine(dir, "model.bin") : Path.Combine(stories260KFolder, "stories260K.bin");
        if (model == Workload.Model100M)
        {
            Once(checkpoint, path =>
            {
                DemoPreset preset = DemoPresets.Base100M;
                Llama2cCheckpoint.Write(path, Config100M, BuiltInModels.RandomWeights(Config100M, preset.Seed, preset.Scale));
            });
        }
        else if (int8)
        {
            throw new ArgumentException("stories260K runs in float32 only.", nameof(int8));
        }

        string fp32 = Path.Combine(dir, "fp32");
        Once(fp32, path => ModelConverter.ConvertLlama2c(checkpoint, Tokenizer, path), folder: true);
        string f32Gguf = Path.Combine(dir, "model-f32.gguf");
        Once(f32Gguf, path => Llama2cGguf.Write(checkpoint, Tokenizer, path, model));
        LlamaConfig config = Llama2cCheckpoint.Read(checkpoint).Config;
        if (!int8)
        {
            return new PeerModel(fp32, f32Gguf, config);
        }

        string int8Folder = Path.Combine(dir, "int8");
        Once(int8Folder, path => ModelQuantizer.QuantizeFolder(fp32, path, new QuantizationOptions { Bits = 8 }), folder: true);
        string q8Gguf = Path.Combine(dir, "model-q8_0.gguf");
        Once(q8Gguf, path =>
        {
            if (!LLamaQuantizer.Quantize(f32Gguf, path, LLamaFtype.MOSTLY_Q8_0, nthread: Environment.ProcessorCount, allowRequantize: false, quantizeOutputTensor: true))
            {
                throw new InvalidOperationException($"llama.cpp could not quantize {f32Gguf} to Q8_0.");
            }
        });
        return new PeerModel(int8Folder, q8Gguf, config);
    }

    /// <summary>Writes <paramref name="path"/> through a staging name, so an interrupted run never leaves half a model to reuse.</summary>
    private void Once(string path, Action<string> write, bool folder = false)
    {
        if (folder ? Directory.Exists(path) : File.Exists(path))
        {
            return;
        }

        string staging = path + ".partial";
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }

        File.Delete(staging);
        log.WriteLine($"writing {path}");
        write(staging);
        if (folder)
        {
            Directory.Move(staging, path);
        }
        else
        {
            File.Move(staging, path);
        }
    }
}
