namespace LlmAspire.Inference.Models.Hub;

/// <summary>What a hub folder holds and which of its files to download, decided from the file list alone.</summary>
internal sealed record HubSnapshotPlan(HubModelFormat Format, IReadOnlyList<HubSnapshotFile> Files)
{
    /// <summary>The names model folders must have.</summary>
    private const string GenAiConfigFile = "genai_config.json";

    private const string HuggingFaceConfigFile = "config.json";

    /// <summary>What a Hugging Face folder needs besides its safetensors: configs, tokenizers, chat templates.</summary>
    private static readonly string[] s_huggingFaceExtensions = [".json", ".safetensors", ".model", ".txt", ".tiktoken", ".jinja"];

    /// <summary>Plans the download of <paramref name="reference"/>'s folder (its files directly inside it) from the repository list.</summary>
    public static HubSnapshotPlan Create(HubModelReference reference, IReadOnlyList<HubSibling> siblings, Uri endpoint)
    {
        if (reference.IsGgufFile)
        {
            var sibling = siblings.FirstOrDefault(s => s.RelativeFileName == reference.Subfolder)
                ?? throw new HubException(
                    $"{reference}: {reference.RepositoryId} at revision '{reference.Revision}' on {endpoint} has no file '{reference.Subfolder}'.",
                    System.Net.HttpStatusCode.NotFound);
            return new HubSnapshotPlan(HubModelFormat.Gguf, [new HubSnapshotFile(sibling.RelativeFileName, sibling.Lfs?.Size ?? sibling.Size, sibling.Lfs?.Sha256?.ToLowerInvariant())]);
        }

        var prefix = reference.Subfolder.Length == 0 ? "" : reference.Subfolder + "/";
        var files = new List<HubSnapshotFile>();
        foreach (var sibling in siblings)
        {
            var path = sibling.RelativeFileName;
            if (!path.StartsWith(prefix, StringComparison.Ordinal) || path.AsSpan(prefix.Length).Contains('/'))
            {
                continue;
            }

            if (!HubModelReference.IsSafePathSegment(path[prefix.Length..]))
            {
                throw new HubException($"{reference} lists a file named '{path}', which is not a safe file name; refusing to download it.");
            }

            files.Add(new HubSnapshotFile(path, sibling.Lfs?.Size ?? sibling.Size, sibling.Lfs?.Sha256?.ToLowerInvariant()));
        }

        if (files.Count == 0)
        {
            var where = reference.Subfolder.Length == 0 ? "its root" : $"the folder '{reference.Subfolder}'";
            throw new HubException(
                $"{reference}: {reference.RepositoryId} at revision '{reference.Revision}' on {endpoint} has no files in {where}. Check the subfolder in ModelPath.",
                System.Net.HttpStatusCode.NotFound);
        }

        static string Name(HubSnapshotFile file) => file.Path[(file.Path.LastIndexOf('/') + 1)..];
        static bool HasExtension(HubSnapshotFile file, string extension) => Name(file).EndsWith(extension, StringComparison.OrdinalIgnoreCase);

        if (files.Any(file => Name(file) == GenAiConfigFile) && files.Any(file => HasExtension(file, ".onnx")))
        {
            return new HubSnapshotPlan(HubModelFormat.ModelFolder, [.. files.Where(file => Name(file) != ".gitattributes")]);
        }

        if (files.Any(file => Name(file) == HuggingFaceConfigFile) && files.Any(file => HasExtension(file, ".safetensors")))
        {
            return new HubSnapshotPlan(
                HubModelFormat.HuggingFaceLlama,
                [.. files.Where(file => s_huggingFaceExtensions.Any(extension => HasExtension(file, extension)))]);
        }

        var ggufs = files.Where(file => HasExtension(file, ".gguf")).ToList();
        if (ggufs.Count == 1)
        {
            return new HubSnapshotPlan(HubModelFormat.Gguf, ggufs);
        }

        if (ggufs.Count > 1)
        {
            throw new HubException(
                $"{reference} holds several GGUF files ({Describe(ggufs)}); name one: hf:{reference.RepositoryId}/{ggufs[0].Path}.");
        }

        var bins = files.Where(file => HasExtension(file, ".bin")).ToList();
        if (bins.Count > 0)
        {
            var pair = Llama2cPair(reference, bins);
            return new HubSnapshotPlan(HubModelFormat.Llama2c, [pair.Checkpoint, pair.Tokenizer]);
        }

        throw new HubException(
            $"{reference} holds no model this server can load. Expected genai_config.json + *.onnx (a model folder), "
            + $"config.json + *.safetensors (Hugging Face), a GGUF file or a llama2.c checkpoint *.bin + tokenizer tok*.bin; found {Describe(files)}.");
    }

    /// <summary>The llama2.c checkpoint and tokenizer among <paramref name="files"/>: the tokenizer's name starts with "tok".</summary>
    public static (HubSnapshotFile Checkpoint, HubSnapshotFile Tokenizer) Llama2cPair(HubModelReference reference, IReadOnlyList<HubSnapshotFile> files)
    {
        var bins = files.Where(file => file.Path.EndsWith(".bin", StringComparison.OrdinalIgnoreCase)).ToList();
        var tokenizers = bins.Where(file => file.Path[(file.Path.LastIndexOf('/') + 1)..].StartsWith("tok", StringComparison.OrdinalIgnoreCase)).ToList();
        var checkpoints = bins.Except(tokenizers).ToList();
        if (checkpoints.Count == 1 && tokenizers.Count == 1)
        {
            return (checkpoints[0], tokenizers[0]);
        }

        throw new HubException(checkpoints.Count switch
        {
            0 => $"{reference} has a tokenizer but no llama2.c checkpoint *.bin; found {Describe(files)}.",
            > 1 => $"{reference} has several llama2.c checkpoints ({Describe(checkpoints)}); put each in its own folder and name that folder in the reference.",
            _ when tokenizers.Count == 0 => $"{reference} has a llama2.c checkpoint but no tokenizer (tok*.bin, e.g. tok512.bin); found {Describe(files)}.",
            _ => $"{reference} has several llama2.c tokenizers ({Describe(tokenizers)}); keep one beside the checkpoint.",
        });
    }

    private static string Describe(IEnumerable<HubSnapshotFile> files) =>
        string.Join(", ", files.Select(file => file.Path).Order(StringComparer.Ordinal).Take(20));
}
