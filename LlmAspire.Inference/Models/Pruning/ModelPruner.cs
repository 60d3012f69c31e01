using System.Text.Json;
using LlmAspire.Inference.Models.Calibration;
using LlmAspire.Inference.Models.Quantization;
using LlmAspire.Inference.Tokenization;

namespace LlmAspire.Inference.Models.Pruning;

/// <summary>
/// Structured pruning of a model folder into a new, smaller one: read the weights back (<see cref="LlamaFolderReader"/>),
/// run the calibration text through them (<see cref="CalibrationPass"/>), choose what to remove
/// (<see cref="PruningPlan.Choose"/>), cut it (<see cref="WeightPruner"/>) and write an ordinary folder with the
/// builder, projections fused as the source had them, tokenizer and the rest of the source's files copied, and
/// <see cref="PruningManifest.FileName"/> beside them.
/// </summary>
public static class ModelPruner
{
    /// <summary>Tokens read of each calibration document (BOS included); the rest is cut, as the statistics need no more.</summary>
    public const int MaxTokensPerDocument = 512;

    /// <summary>The folder's files <see cref="WriteFolder"/> writes itself rather than copies.</summary>
    private static readonly string[] Rewritten =
    [
        ModelFolder.ModelFile, ModelFolder.ExternalDataFile, ModelFolder.ConfigFile, ModelFolder.ArchitectureFile, PruningManifest.FileName,
    ];

    /// <summary>
    /// Prunes <paramref name="inputDirectory"/> into <paramref name="outputDirectory"/> (which must not exist or be empty
    /// unless <paramref name="overwrite"/>), calibrating on <paramref name="calibrationFile"/> or, when null, the built-in
    /// sample. The folder appears whole or not at all.
    /// </summary>
    public static PruningManifest PruneFolder(string inputDirectory, string outputDirectory, PruningOptions options, string? calibrationFile = null, bool overwrite = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(inputDirectory);
        ArgumentNullException.ThrowIfNull(options);
        LlamaFolderReader.CheckWrittenByBuilder(inputDirectory);
        (LlamaConfig config, _) = ModelFolder.ReadConfig(inputDirectory);
        if (options.Problem(config) is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        IReadOnlyList<string> documents = CalibrationText.Load(calibrationFile);
        string? sha = calibrationFile is null ? null : CalibrationText.Sha256(calibrationFile);
        BuilderFolder source = LlamaFolderReader.Read(inputDirectory);
        IReadOnlyList<int[]> sequences = Tokenize(inputDirectory, source, documents);
        CalibrationStatistics statistics = CalibrationPass.Run(source.Config, source.Weights, sequences);
        PruningPlan plan = PruningPlan.Choose(source.Config, statistics, options);
        var calibration = new CalibrationSource(calibrationFile is null ? "built-in" : Path.GetFullPath(calibrationFile), sha, documents.Count);
        return WriteFolder(inputDirectory, outputDirectory, source, plan, statistics, calibration, overwrite);
    }

    /// <summary>The calibration documents as token sequences of the folder's tokenizer, each with BOS, at most <see cref="MaxTokensPerDocument"/> (or the context) long.</summary>
    public static IReadOnlyList<int[]> Tokenize(string directory, BuilderFolder source, IReadOnlyList<string> documents)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(documents);
        ITokenizer tokenizer = ModelFolder.ReadTokenizer(directory, source.GenAi);
        int limit = Math.Min(MaxTokensPerDocument, source.Config.ContextLength);
        int[][] sequences = [.. documents.Select(d => tokenizer.Encode(d, addBos: true)).Select(ids => ids.Length > limit ? ids[..limit] : ids).Where(ids => ids.Length > 0)];
        return sequences.Length > 0 ? sequences : throw new InvalidDataException("The calibration text has no tokens.");
    }

    /// <summary>Applies <paramref name="plan"/> to <paramref name="source"/> (read from <paramref name="inputDirectory"/>) and writes the pruned folder.</summary>
    public static PruningManifest WriteFolder(
        string inputDirectory, string outputDirectory, BuilderFolder source, PruningPlan plan, CalibrationStatistics statistics, CalibrationSource calibration, bool overwrite = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(inputDirectory);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputDirectory);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(statistics);
        ArgumentNullException.ThrowIfNull(calibration);
        string input = Path.TrimEndingDirectorySeparator(Path.GetFullPath(inputDirectory));
        string output = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outputDirectory));
        if (string.Equals(input, output, StringComparison.Ordinal))
        {
            throw new ArgumentException("The output folder must differ from the input folder.", nameof(outputDirectory));
        }

        if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any() && !overwrite)
        {
            throw new IOException($"'{output}' exists and is not empty.");
        }

        (LlamaConfig config, LlamaWeights weights) = WeightPruner.Apply(source.Config, source.Weights, plan);
        return StagedFolder.Write(output, staging =>
        {
            GenAiModel model = source.GenAi.Model;
            var tokens = new TokenIds(model.BosTokenId ?? 0, model.EosTokenId ?? [], model.PadTokenId ?? 0);
            ModelFolder.WriteModel(staging, config, weights, $"{source.Source ?? input} (pruned)", tokens, fuseProjections: source.FusedProjections);

            // The source's genai_config.json with the new shape: its search defaults and token ids stay as they were.
            GenAiConfig genai = JsonSerializer.Deserialize(File.ReadAllText(Path.Combine(input, ModelFolder.ConfigFile)), ModelJsonContext.Default.GenAiConfig)!;
            genai.Model.Decoder.Filename = ModelFolder.ModelFile;
            genai.Model.Decoder.NumHiddenLayers = config.Layers;
            genai.Model.Decoder.NumAttentionHeads = config.Heads;
            genai.Model.Decoder.NumKeyValueHeads = config.KvHeads;
            genai.Model.Decoder.HeadSize = config.AttentionHeadSize;
            File.WriteAllText(Path.Combine(staging, ModelFolder.ConfigFile), JsonSerializer.Serialize(genai, ModelJsonContext.Default.GenAiConfig));

            var skip = new HashSet<string>(Rewritten, StringComparer.Ordinal) { model.Decoder.Filename, model.Decoder.Filename + ".data" };
            StagedFolder.CopyFiles(input, staging, skip);

            LlamaConfig before = source.Config;
            var manifest = new PruningManifest
            {
                Source = input,
                Calibration = calibration.Name,
                CalibrationSha256 = calibration.Sha256,
                CalibrationDocuments = calibration.Documents,
                CalibrationTokens = statistics.Tokens,
                BlockInfluence = [.. statistics.BlockInfluence.Select(b => Math.Round(b, 6))],
                DroppedLayers = plan.DroppedLayers,
                Layers = new ShapeChange(before.Layers, config.Layers),
                Ffn = new ShapeChange(before.HiddenDim, config.HiddenDim),
                Heads = new ShapeChange(before.Heads, config.Heads),
                KvHeads = new ShapeChange(before.KvHeads, config.KvHeads),
                SourceBytes = OnnxModelFile.SizeOnDisk(Path.Combine(input, model.Decoder.Filename)),
                Bytes = OnnxModelFile.SizeOnDisk(Path.Combine(staging, ModelFolder.ModelFile)),
            };
            File.WriteAllText(Path.Combine(staging, PruningManifest.FileName), JsonSerializer.Serialize(manifest, PruningJsonContext.Default.PruningManifest));
            return manifest;
        });
    }

    /// <summary>Reads a folder's <see cref="PruningManifest.FileName"/>, or null when it has none.</summary>
    public static PruningManifest? ReadManifest(string directory)
    {
        string path = Path.Combine(directory, PruningManifest.FileName);
        return File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllText(path), PruningJsonContext.Default.PruningManifest) : null;
    }
}
