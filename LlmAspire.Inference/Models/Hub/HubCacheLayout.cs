using System.Text.Json;

namespace LlmAspire.Inference.Models.Hub;

/// <summary>
/// Where one reference lives in the cache:
/// <code>
/// {root}/{owner}--{repo}/{revision}/
///   .lock                               held while downloading or converting (by any process)
///   files/{repo}/{repo paths}           the files as on the hub; "*.partial" while a transfer is incomplete
///   snapshots/{key}.json                written last: the reference's files are all there and verified
///   models/{key}/{engine}/{name}/       the converted model folder (llama2.c and Hugging Face snapshots)
/// </code>
/// The key is the subfolder with '/' as '@' ('@' alone for the root); the name is <see cref="HubModelReference.Name"/>;
/// the engine is <see cref="EngineBuild"/>, so a changed converter converts again rather than serving an old graph.
/// </summary>
internal sealed class HubCacheLayout
{
    public HubCacheLayout(string root, HubModelReference reference)
    {
        Reference = reference;
        RevisionDirectory = Path.Combine(Path.GetFullPath(root), $"{reference.Owner}--{reference.Repository}", reference.Revision.Replace("/", "--", StringComparison.Ordinal));
        FilesDirectory = Path.Combine(RevisionDirectory, "files", reference.Repository);
        SourceDirectory = reference.Subfolder.Length == 0 ? FilesDirectory : LocalPath(reference.Subfolder);
        var key = reference.Subfolder.Length == 0 ? "@" : reference.Subfolder.Replace('/', '@');
        ManifestPath = Path.Combine(RevisionDirectory, "snapshots", key + ".json");
        ConversionsDirectory = Path.Combine(RevisionDirectory, "models", key);
        ModelsDirectory = Path.Combine(ConversionsDirectory, EngineBuild);
        ConvertedFolder = Path.Combine(ModelsDirectory, reference.Name);
        LockPath = Path.Combine(RevisionDirectory, ".lock");
    }

    /// <summary>
    /// The build of the engine (its deterministic module version id): conversions made by another build of the
    /// converter are not reused.
    /// </summary>
    public static string EngineBuild { get; } = "engine-" + typeof(ModelConverter).Assembly.ManifestModule.ModuleVersionId.ToString("N")[..12];

    public HubModelReference Reference { get; }

    public string RevisionDirectory { get; }

    public string FilesDirectory { get; }

    /// <summary>The reference's folder among the downloaded files.</summary>
    public string SourceDirectory { get; }

    public string ManifestPath { get; }

    /// <summary>The conversions of this reference, one folder per <see cref="EngineBuild"/>.</summary>
    public string ConversionsDirectory { get; }

    /// <summary>The parent of <see cref="ConvertedFolder"/>, where conversions are staged.</summary>
    public string ModelsDirectory { get; }

    public string ConvertedFolder { get; }

    public string LockPath { get; }

    /// <summary>The local path of a repository file.</summary>
    public string LocalPath(string repositoryPath) => Path.Combine([FilesDirectory, .. repositoryPath.Split('/')]);

    /// <summary>The folder to load for a snapshot of <paramref name="format"/>.</summary>
    public string ModelFolder(HubModelFormat format) => format == HubModelFormat.ModelFolder ? SourceDirectory : ConvertedFolder;

    /// <summary>The manifest, when it exists, matches the reference and its files are all on disk at their sizes; else null.</summary>
    public HubSnapshotManifest? TryReadManifest()
    {
        if (!File.Exists(ManifestPath))
        {
            return null;
        }

        HubSnapshotManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(File.ReadAllText(ManifestPath), HubJsonContext.Default.HubSnapshotManifest);
        }
        catch (Exception exception) when (exception is JsonException or IOException)
        {
            return null;
        }

        if (manifest is null || manifest.Reference != Reference.ToString() || manifest.Files.Count == 0)
        {
            return null;
        }

        foreach (var file in manifest.Files)
        {
            var info = new FileInfo(LocalPath(file.Path));
            if (!info.Exists || (file.Size is { } size && info.Length != size))
            {
                return null;
            }
        }

        return manifest;
    }

    /// <summary>A manifest whose model folder exists too: usable as is, without the network or the lock.</summary>
    public HubSnapshotManifest? TryReadCompleteSnapshot() =>
        TryReadManifest() is { } manifest && Directory.Exists(ModelFolder(manifest.Format)) ? manifest : null;

    /// <summary>Writes the manifest atomically (temp file, then rename).</summary>
    public void WriteManifest(HubSnapshotManifest manifest)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(ManifestPath)!);
        var temp = ManifestPath + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(manifest, HubJsonContext.Default.HubSnapshotManifest));
        File.Move(temp, ManifestPath, overwrite: true);
    }
}
