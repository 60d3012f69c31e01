using LlmAspire.Inference.Models.Gguf;
namespace LlmAspire.Inference.Models.Hub;

/// <summary>
/// Turns a <see cref="HubModelReference"/> into a local model folder: lists the hub folder, downloads the files it
/// needs into the cache (resumable, verified), converts llama2.c and Hugging Face snapshots once, and afterwards
/// answers from the cache without any network access. Safe to run from several processes at once: downloads
/// and conversions happen under a cross-process lock, and every result appears by an atomic rename.
/// </summary>
public sealed class HubModelResolver
{
    private readonly HubOptions _options;
    private readonly HubApi _api;

    /// <summary>Creates a resolver that sends its requests through <paramref name="httpClient"/>.</summary>
    public HubModelResolver(HttpClient httpClient, HubOptions options)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxAttempts, 1);
        _options = options;
        _api = new HubApi(httpClient, options);
    }

    /// <summary>The cache folder of <paramref name="reference"/>'s repository revision.</summary>
    public string CacheFolder(HubModelReference reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return new HubCacheLayout(_options.CacheDirectory, reference).RevisionDirectory;
    }

    /// <summary>
    /// Resolves <paramref name="reference"/> to a model folder that <see cref="LanguageModel.Load"/> accepts.
    /// </summary>
    /// <exception cref="HubUnreachableException">The hub cannot be reached and the model is not cached completely.</exception>
    /// <exception cref="HubException">The hub answered, but the model is not there, not readable, or fails verification.</exception>
    /// <exception cref="NotSupportedException">The folder is a Hugging Face Llama folder and no importer is configured.</exception>
    public async Task<HubResolution> ResolveAsync(HubModelReference reference, IProgress<HubProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var layout = new HubCacheLayout(_options.CacheDirectory, reference);

        // The fast path: a complete snapshot, read without the lock or the network.
        if (layout.TryReadCompleteSnapshot() is { } cached)
        {
            return Resolution(layout, cached, fromCache: true);
        }

        using var cacheLock = await HubCacheLock.AcquireAsync(layout, _options, progress, cancellationToken).ConfigureAwait(false);

        // Another resolver may have finished while this one waited.
        var manifest = layout.TryReadManifest();
        var fromCache = manifest is not null;
        if (manifest is null)
        {
            if (_options.Offline)
            {
                throw new HubUnreachableException(
                    $"{reference} is not cached completely in '{layout.RevisionDirectory}', and {HubEnvironment.Offline} forbids downloading it.");
            }

            manifest = await DownloadAsync(reference, layout, progress, cancellationToken).ConfigureAwait(false);
        }

        if (manifest.Format != HubModelFormat.ModelFolder && !Directory.Exists(layout.ConvertedFolder))
        {
            await ConvertAsync(layout, manifest, progress, cancellationToken).ConfigureAwait(false);
        }

        return Resolution(layout, manifest, fromCache);
    }

    private async Task<HubSnapshotManifest> DownloadAsync(HubModelReference reference, HubCacheLayout layout, IProgress<HubProgress>? progress, CancellationToken cancellationToken)
    {
        var info = await _api.GetModelInfoAsync(reference, cancellationToken).ConfigureAwait(false);
        var plan = HubSnapshotPlan.Create(reference, info.Siblings ?? [], _options.Endpoint);
        if (plan.Format == HubModelFormat.HuggingFaceLlama && _options.HuggingFaceImporter is null)
        {
            throw new NotSupportedException(
                $"{reference} is a Hugging Face Llama folder (config.json + *.safetensors), and importing those is not supported yet. "
                + "Serve an ONNX model folder (genai_config.json + model.onnx) or a llama2.c checkpoint instead, or convert the model yourself and set ModelPath to the folder.");
        }

        // Files come from the commit the listing named, so a branch that moves mid-download cannot mix two commits.
        var revision = string.IsNullOrEmpty(info.Sha) ? reference.Revision : info.Sha;
        foreach (var file in plan.Files)
        {
            var localPath = layout.LocalPath(file.Path);
            if (await HubApi.IsIntactAsync(file, localPath, cancellationToken).ConfigureAwait(false))
            {
                continue;
            }

            await _api.DownloadAsync(reference, revision, file, localPath, progress, cancellationToken).ConfigureAwait(false);
        }

        var manifest = new HubSnapshotManifest(reference.ToString(), info.Sha, plan.Format, plan.Files);
        layout.WriteManifest(manifest);
        return manifest;
    }

    /// <summary>Converts the snapshot into a staging folder beside the target, then renames it into place.</summary>
    private async Task ConvertAsync(HubCacheLayout layout, HubSnapshotManifest manifest, IProgress<HubProgress>? progress, CancellationToken cancellationToken)
    {
        progress?.Report(new HubProgress(HubProgressKind.Converting, layout.ConvertedFolder, Detail: manifest.Format.ToString()));
        Directory.CreateDirectory(layout.ModelsDirectory);
        var stagingPrefix = $".{layout.Reference.Name}.staging-";

        // Under the lock no other conversion of this folder runs: leftovers are from a crash, or from older engines.
        foreach (var stale in Directory.EnumerateDirectories(layout.ModelsDirectory, stagingPrefix + "*")
            .Concat(Directory.EnumerateDirectories(layout.ConversionsDirectory).Where(folder => !string.Equals(folder, layout.ModelsDirectory, StringComparison.Ordinal))))
        {
            TryDelete(stale);
        }

        var staging = Path.Combine(layout.ModelsDirectory, stagingPrefix + Guid.NewGuid().ToString("N"));
        try
        {
            await Task.Run(
                () =>
                {
                    switch (manifest.Format)
                    {
                        case HubModelFormat.Llama2c:
                            var (checkpoint, tokenizer) = HubSnapshotPlan.Llama2cPair(layout.Reference, manifest.Files);
                            ModelConverter.ConvertLlama2c(layout.LocalPath(checkpoint.Path), layout.LocalPath(tokenizer.Path), staging);
                            break;
                        case HubModelFormat.Gguf:
                            ModelConverter.ImportGguf(layout.LocalPath(manifest.Files[0].Path), staging, GgufImporter.NearestBits);
                            break;
                        case HubModelFormat.HuggingFaceLlama:
                            var importer = _options.HuggingFaceImporter
                                ?? throw new NotSupportedException($"{layout.Reference} is a Hugging Face Llama folder, and no importer is configured.");
                            importer(layout.SourceDirectory, staging);
                            break;
                        default:
                            throw new InvalidOperationException($"A {manifest.Format} snapshot needs no conversion.");
                    }
                },
                cancellationToken).ConfigureAwait(false);

            try
            {
                Directory.Move(staging, layout.ConvertedFolder);
            }
            catch (IOException) when (Directory.Exists(layout.ConvertedFolder))
            {
                // Someone put the folder there meanwhile (by hand, or a process without the lock): keep theirs.
                TryDelete(staging);
            }
        }
        catch
        {
            TryDelete(staging);
            throw;
        }
    }

    private static HubResolution Resolution(HubCacheLayout layout, HubSnapshotManifest manifest, bool fromCache) =>
        new(layout.Reference, layout.ModelFolder(manifest.Format), manifest.Format, manifest.Commit, fromCache);

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // A leftover staging folder is harmless; the next conversion under the lock removes it.
        }
    }
}
