using System.Net;
using System.Security.Cryptography;
using LlmAspire.Inference.Models;
using LlmAspire.Inference.Models.Gguf;
using LlmAspire.Inference.Models.Hub;
using LlmAspire.Tests.Inference.Gguf;
using LlmAspire.Inference;
using LlmAspire.Inference.Engine;

namespace LlmAspire.Tests.Inference.Hub;

/// <summary>
/// <see cref="HubModelResolver"/> against <see cref="FakeHub"/>, which serves stories260K from ../shared as
/// karpathy/tinyllamas has it (those tests skip, saying why, where ../shared is absent). Each test has its own hub
/// and cache folder.
/// </summary>
public sealed class HubModelResolverTests
{
    private const string TinyLlamas = "karpathy/tinyllamas";
    private const string CheckpointPath = "stories260K/stories260K.bin";
    private const string TokenizerPath = "stories260K/tok512.bin";

    /// <summary>The published SHA-256 of stories260K.bin (../shared/models/stories260K/README.md).</summary>
    private const string CheckpointSha256 = "b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696";

    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);
    private static readonly HubModelReference s_stories = HubModelReference.Parse("hf:karpathy/tinyllamas/stories260K");

    [Stories260KFact]
    public async Task Resolve_FirstTime_DownloadsVerifiesAndConvertsOnlyWhatTheModelNeeds()
    {
        await using var hub = await FakeHub.StartWithTinyLlamasAsync();
        using var cache = TestPaths.CreateTempDirectory();
        using var http = new HttpClient();
        var progress = new ProgressRecorder();

        var resolution = await Resolver(http, hub.Endpoint, cache.Path).ResolveAsync(s_stories, progress).WaitAsync(s_timeout);

        Assert.Equal(HubModelFormat.Llama2c, resolution.Format);
        Assert.False(resolution.FromCache);
        Assert.Equal(FakeHub.Commit, resolution.Commit);
        Assert.Equal("stories260K", Path.GetFileName(resolution.Folder));
        Assert.StartsWith(Path.GetFullPath(cache.Path), resolution.Folder, StringComparison.Ordinal);

        // One listing with blob details, then exactly the checkpoint and the tokenizer, pinned to the listed commit.
        Assert.Equal($"/api/models/karpathy/tinyllamas/revision/main?blobs=true", hub.Requests[0].Path);
        Assert.Equal([CheckpointPath, TokenizerPath], hub.Downloads.Select(request => request.FilePath).Order(StringComparer.Ordinal));
        Assert.All(hub.Downloads, request => Assert.Contains($"/resolve/{FakeHub.Commit}/", request.Path, StringComparison.Ordinal));
        Assert.All(hub.Downloads, request => Assert.Null(request.Range));

        var downloaded = progress.Reports.Where(report => report.Kind == HubProgressKind.Downloaded).ToList();
        Assert.Equal(2, downloaded.Count);
        Assert.All(downloaded, report => Assert.Equal("SHA-256 verified", report.Detail));
        Assert.Contains(progress.Reports, report => report.Kind == HubProgressKind.Converting);

        Assert.StartsWith(HubTestModels.KnownStart, await HubTestModels.GreedyAsync(resolution.Folder, 20, s_timeout).WaitAsync(s_timeout), StringComparison.Ordinal);
    }

    [Stories260KFact]
    public async Task Resolve_HubStoppedAfterFirstResolution_ReusesTheCacheWithoutNetwork()
    {
        var hub = await FakeHub.StartWithTinyLlamasAsync();
        using var cache = TestPaths.CreateTempDirectory();
        using var http = new HttpClient();
        HubResolution first;
        await using (hub)
        {
            first = await Resolver(http, hub.Endpoint, cache.Path).ResolveAsync(s_stories).WaitAsync(s_timeout);
        }

        // The same endpoint, now refusing connections; the offline flag as well, to prove no request is even tried.
        var second = await Resolver(http, hub.Endpoint, cache.Path).ResolveAsync(s_stories).WaitAsync(s_timeout);
        var offline = await new HubModelResolver(http, new HubOptions { Endpoint = hub.Endpoint, CacheDirectory = cache.Path, Offline = true })
            .ResolveAsync(s_stories).WaitAsync(s_timeout);

        Assert.True(second.FromCache);
        Assert.Equal(first.Folder, second.Folder);
        Assert.Equal(first.Folder, offline.Folder);
        Assert.StartsWith(HubTestModels.KnownStart, await HubTestModels.GreedyAsync(second.Folder, 20, s_timeout).WaitAsync(s_timeout), StringComparison.Ordinal);
    }

    [Stories260KFact]
    public async Task Resolve_ConversionMissingButFilesCached_ConvertsAgainWithoutNetworkAndDropsOtherEngineBuilds()
    {
        var hub = await FakeHub.StartWithTinyLlamasAsync();
        using var cache = TestPaths.CreateTempDirectory();
        using var http = new HttpClient();
        HubResolution first;
        await using (hub)
        {
            first = await Resolver(http, hub.Endpoint, cache.Path).ResolveAsync(s_stories).WaitAsync(s_timeout);
        }

        // As if an older engine had converted it once, and this engine's conversion were lost.
        var conversions = Path.GetDirectoryName(Path.GetDirectoryName(first.Folder))!;
        var older = Directory.CreateDirectory(Path.Combine(conversions, "engine-000000000000", "stories260K")).Parent!.FullName;
        Directory.Delete(first.Folder, recursive: true);

        var second = await Resolver(http, hub.Endpoint, cache.Path).ResolveAsync(s_stories).WaitAsync(s_timeout);

        Assert.True(second.FromCache);
        Assert.Equal(first.Folder, second.Folder);
        Assert.False(Directory.Exists(older));
        Assert.StartsWith(HubTestModels.KnownStart, await HubTestModels.GreedyAsync(second.Folder, 20, s_timeout).WaitAsync(s_timeout), StringComparison.Ordinal);
    }

    [Stories260KFact]
    public async Task Resolve_ConnectionDroppedMidFile_ResumesWithRangeAndVerifiesSha256()
    {
        await using var hub = await FakeHub.StartWithTinyLlamasAsync();
        hub.DropConnectionOnce(TinyLlamas, CheckpointPath, bytes: 400_000);
        using var cache = TestPaths.CreateTempDirectory();
        using var http = new HttpClient();
        var progress = new ProgressRecorder();

        var resolution = await Resolver(http, hub.Endpoint, cache.Path).ResolveAsync(s_stories, progress).WaitAsync(s_timeout);

        var attempts = hub.Downloads.Where(request => request.FilePath == CheckpointPath).ToList();
        Assert.Equal(2, attempts.Count);
        Assert.Null(attempts[0].Range);
        var resumedAt = ParseRangeStart(attempts[1].Range);
        Assert.InRange(resumedAt, 1, 400_000);
        Assert.Contains(progress.Reports, report => report.Kind == HubProgressKind.Retrying && report.File == CheckpointPath);
        Assert.Contains(progress.Reports, report => report.Kind == HubProgressKind.Starting && report.File == CheckpointPath && report.Bytes == resumedAt);

        var checkpoint = CachedFile(cache.Path, CheckpointPath);
        Assert.Equal(CheckpointSha256, Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(checkpoint).WaitAsync(s_timeout))));
        Assert.False(File.Exists(checkpoint + ".partial"));
        Assert.StartsWith(HubTestModels.KnownStart, await HubTestModels.GreedyAsync(resolution.Folder, 20, s_timeout).WaitAsync(s_timeout), StringComparison.Ordinal);
    }

    [Stories260KFact]
    public async Task Resolve_InterruptedOnTheOnlyTry_KeepsThePartialFileAndTheNextResolutionResumesIt()
    {
        await using var hub = await FakeHub.StartWithTinyLlamasAsync();
        hub.DropConnectionOnce(TinyLlamas, CheckpointPath, bytes: 300_000);
        using var cache = TestPaths.CreateTempDirectory();
        using var http = new HttpClient();
        var options = new HubOptions { Endpoint = hub.Endpoint, CacheDirectory = cache.Path, MaxAttempts = 1, RetryDelay = TimeSpan.Zero };

        var failure = await Assert.ThrowsAsync<HubUnreachableException>(
            () => new HubModelResolver(http, options).ResolveAsync(s_stories).WaitAsync(s_timeout));
        var partial = CachedFile(cache.Path, CheckpointPath) + ".partial";
        Assert.True(File.Exists(partial), failure.Message);
        var kept = new FileInfo(partial).Length;
        Assert.Contains(CheckpointPath, failure.Message, StringComparison.Ordinal);
        Assert.Contains("resumes", failure.Message, StringComparison.Ordinal);

        var resolution = await new HubModelResolver(http, options).ResolveAsync(s_stories).WaitAsync(s_timeout);

        Assert.Equal($"bytes={kept}-", hub.Downloads.Last(request => request.FilePath == CheckpointPath).Range);
        Assert.Equal(CheckpointSha256, Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(CachedFile(cache.Path, CheckpointPath)).WaitAsync(s_timeout))));
        Assert.True(Directory.Exists(resolution.Folder));
    }

    [Stories260KFact]
    public async Task Resolve_Sha256Mismatch_FailsNamingTheFileAndDeletesIt()
    {
        await using var hub = await FakeHub.StartWithTinyLlamasAsync();
        var wrong = new string('0', 64);
        hub.ListWrongSha256(TinyLlamas, TokenizerPath, wrong);
        using var cache = TestPaths.CreateTempDirectory();
        using var http = new HttpClient();

        var exception = await Assert.ThrowsAsync<HubException>(
            () => Resolver(http, hub.Endpoint, cache.Path).ResolveAsync(s_stories).WaitAsync(s_timeout));

        Assert.IsNotType<HubUnreachableException>(exception);
        Assert.Contains("SHA-256 mismatch", exception.Message, StringComparison.Ordinal);
        Assert.Contains(TokenizerPath, exception.Message, StringComparison.Ordinal);
        Assert.Contains(wrong, exception.Message, StringComparison.Ordinal);
        var tokenizer = CachedFile(cache.Path, TokenizerPath);
        Assert.False(File.Exists(tokenizer));
        Assert.False(File.Exists(tokenizer + ".partial"));

        // Nothing was marked complete: the next resolution goes back to the hub rather than trusting the cache.
        var offline = new HubModelResolver(http, new HubOptions { Endpoint = hub.Endpoint, CacheDirectory = cache.Path, Offline = true });
        await Assert.ThrowsAsync<HubUnreachableException>(() => offline.ResolveAsync(s_stories).WaitAsync(s_timeout));
    }

    [Fact]
    public async Task Resolve_UnreachableEndpointAndNoCache_ThrowsHubUnreachableNamingTheEndpoint()
    {
        var endpoint = HubTestModels.ClosedEndpoint();
        using var cache = TestPaths.CreateTempDirectory();
        using var http = new HttpClient();

        var exception = await Assert.ThrowsAsync<HubUnreachableException>(
            () => Resolver(http, endpoint, cache.Path).ResolveAsync(s_stories).WaitAsync(s_timeout));

        Assert.Contains("Cannot reach the hub", exception.Message, StringComparison.Ordinal);
        Assert.Contains(endpoint.Authority, exception.Message, StringComparison.Ordinal);
        Assert.Contains(s_stories.ToString(), exception.Message, StringComparison.Ordinal);
    }

    [Stories260KFact]
    public async Task Resolve_OfflineModeAndNoCache_ThrowsUnreachableWithoutAnyRequest()
    {
        await using var hub = await FakeHub.StartWithTinyLlamasAsync();
        using var cache = TestPaths.CreateTempDirectory();
        using var http = new HttpClient();
        var resolver = new HubModelResolver(http, new HubOptions { Endpoint = hub.Endpoint, CacheDirectory = cache.Path, Offline = true });

        var exception = await Assert.ThrowsAsync<HubUnreachableException>(() => resolver.ResolveAsync(s_stories).WaitAsync(s_timeout));

        Assert.Contains(HubEnvironment.Offline, exception.Message, StringComparison.Ordinal);
        Assert.Empty(hub.Requests);
    }

    [Stories260KTheory]
    [InlineData("hf:karpathy/tinyllamaz/stories260K", "Repository not found")]
    [InlineData("hf:karpathy/tinyllamas/stories260K@no-such-branch", "Invalid rev id")]
    [InlineData("hf:karpathy/tinyllamas/stories261K", "has no files in the folder 'stories261K'")]
    public async Task Resolve_UnknownRepositoryRevisionOrFolder_ThrowsNotFoundRatherThanUnreachable(string reference, string expected)
    {
        await using var hub = await FakeHub.StartWithTinyLlamasAsync();
        using var cache = TestPaths.CreateTempDirectory();
        using var http = new HttpClient();

        var exception = await Assert.ThrowsAsync<HubException>(
            () => Resolver(http, hub.Endpoint, cache.Path).ResolveAsync(HubModelReference.Parse(reference)).WaitAsync(s_timeout));

        Assert.IsNotType<HubUnreachableException>(exception);
        Assert.Equal(HttpStatusCode.NotFound, exception.StatusCode);
        Assert.Contains(expected, exception.Message, StringComparison.Ordinal);
        Assert.Empty(hub.Downloads);
    }

    [Stories260KFact]
    public async Task Resolve_RepositoryRootWithSeveralCheckpointsAndNoTokenizer_ExplainsWhatIsMissing()
    {
        await using var hub = await FakeHub.StartWithTinyLlamasAsync();
        using var cache = TestPaths.CreateTempDirectory();
        using var http = new HttpClient();

        var exception = await Assert.ThrowsAsync<HubException>(
            () => Resolver(http, hub.Endpoint, cache.Path).ResolveAsync(HubModelReference.Parse("hf:karpathy/tinyllamas")).WaitAsync(s_timeout));

        Assert.Contains("no tokenizer", exception.Message, StringComparison.Ordinal);
        Assert.Empty(hub.Downloads);
    }

    [Stories260KFact]
    public async Task Resolve_GgufFileReference_ImportsTheFileNamedAndRequantizesToTheNearestWidth()
    {
        using var source = TestPaths.CreateTempDirectory();
        string f32 = Path.Combine(source.Path, "f32.gguf"), q8 = Path.Combine(source.Path, "q8.gguf");
        LlamaCppPeerTests.WriteStories260K(f32, GgmlType.F32);
        LlamaCppPeerTests.WriteStories260K(q8, GgmlType.Q8_0);
        await using var hub = await FakeHub.StartAsync();
        hub.AddFile("acme/stories260K-GGUF", "stories260K-F32.gguf", File.ReadAllBytes(f32));
        hub.AddFile("acme/stories260K-GGUF", "stories260K-Q8_0.gguf", File.ReadAllBytes(q8));
        using var cache = TestPaths.CreateTempDirectory();
        using var http = new HttpClient();
        HubModelResolver resolver = Resolver(http, hub.Endpoint, cache.Path);

        // A repository of several GGUF files: the reference must name one.
        var several = await Assert.ThrowsAsync<HubException>(() => resolver.ResolveAsync(HubModelReference.Parse("hf:acme/stories260K-GGUF")).WaitAsync(s_timeout));
        Assert.Contains("several GGUF files", several.Message, StringComparison.Ordinal);
        Assert.Contains("hf:acme/stories260K-GGUF/stories260K-F32.gguf", several.Message, StringComparison.Ordinal);

        var plain = await resolver.ResolveAsync(HubModelReference.Parse("hf:acme/stories260K-GGUF/stories260K-F32.gguf")).WaitAsync(s_timeout);
        var quantized = await resolver.ResolveAsync(HubModelReference.Parse("hf:acme/stories260K-GGUF/stories260K-Q8_0.gguf")).WaitAsync(s_timeout);

        Assert.Equal(HubModelFormat.Gguf, plain.Format);
        Assert.Equal("stories260K-F32", Path.GetFileName(plain.Folder));
        Assert.Equal(["stories260K-F32.gguf", "stories260K-Q8_0.gguf"], hub.Downloads.Select(request => request.FilePath).Order(StringComparer.Ordinal));
        Assert.False(File.Exists(Path.Combine(plain.Folder, "quantization.json")));
        Assert.StartsWith(HubTestModels.KnownStart, await HubTestModels.GreedyAsync(plain.Folder, 20, s_timeout).WaitAsync(s_timeout), StringComparison.Ordinal);

        // Q8_0 comes back as MatMulNBits int8, and still tells a story.
        using (var manifest = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(quantized.Folder, "quantization.json"))))
        {
            Assert.Equal(8, manifest.RootElement.GetProperty("bits").GetInt32());
        }

        Assert.False(string.IsNullOrWhiteSpace(await HubTestModels.GreedyAsync(quantized.Folder, 20, s_timeout).WaitAsync(s_timeout)));
    }

    [Stories260KFact]
    public async Task Resolve_ModelFolderRepository_IsUsedAsDownloadedAndNamedAfterTheRepository()
    {
        using var source = TestPaths.CreateTempDirectory();
        var converted = Path.Combine(source.Path, "stories260K");
        ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, converted);
        await using var hub = await FakeHub.StartAsync();
        hub.AddFolder("acme/stories260K-onnx", converted);
        hub.AddFile("acme/stories260K-onnx", ".gitattributes", "*.onnx filter=lfs\n"u8.ToArray(), lfs: false);
        using var cache = TestPaths.CreateTempDirectory();
        using var http = new HttpClient();

        var resolution = await Resolver(http, hub.Endpoint, cache.Path).ResolveAsync(HubModelReference.Parse("hf:acme/stories260K-onnx")).WaitAsync(s_timeout);

        Assert.Equal(HubModelFormat.ModelFolder, resolution.Format);
        Assert.Equal("stories260K-onnx", Path.GetFileName(resolution.Folder));
        Assert.Equal(
            Directory.EnumerateFiles(converted).Select(Path.GetFileName).Order(StringComparer.Ordinal),
            Directory.EnumerateFiles(resolution.Folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.StartsWith(HubTestModels.KnownStart, await HubTestModels.GreedyAsync(resolution.Folder, 20, s_timeout).WaitAsync(s_timeout), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resolve_HuggingFaceFolderWithoutImporter_ThrowsNotSupportedBeforeDownloading()
    {
        await using var hub = await FakeHub.StartAsync();
        AddHuggingFaceLlama(hub, "acme/tiny-llama");
        using var cache = TestPaths.CreateTempDirectory();
        using var http = new HttpClient();
        var options = new HubOptions { Endpoint = hub.Endpoint, CacheDirectory = cache.Path, HuggingFaceImporter = null };

        var exception = await Assert.ThrowsAsync<NotSupportedException>(
            () => new HubModelResolver(http, options).ResolveAsync(HubModelReference.Parse("hf:acme/tiny-llama")).WaitAsync(s_timeout));

        Assert.Contains("Hugging Face Llama folder", exception.Message, StringComparison.Ordinal);
        Assert.Empty(hub.Downloads);
    }

    [Stories260KFact]
    public async Task Resolve_HuggingFaceFolder_ImportsTheDownloadedFolderOnceIntoTheCache()
    {
        await using var hub = await FakeHub.StartAsync();
        AddHuggingFaceLlama(hub, "acme/tiny-llama");
        using var cache = TestPaths.CreateTempDirectory();
        using var http = new HttpClient();
        var imports = new List<(string Source, string[] Files, string Output)>();
        var options = new HubOptions
        {
            Endpoint = hub.Endpoint,
            CacheDirectory = cache.Path,
            HuggingFaceImporter = (source, output) =>
            {
                imports.Add((source, [.. Directory.EnumerateFiles(source).Select(Path.GetFileName).Order(StringComparer.Ordinal)!], output));
                ModelConverter.ConvertLlama2c(TestPaths.Stories260KCheckpoint, TestPaths.Stories260KTokenizer, output);
            },
        };

        var first = await new HubModelResolver(http, options).ResolveAsync(HubModelReference.Parse("hf:acme/tiny-llama")).WaitAsync(s_timeout);
        var second = await new HubModelResolver(http, options).ResolveAsync(HubModelReference.Parse("hf:acme/tiny-llama")).WaitAsync(s_timeout);

        var import = Assert.Single(imports);
        Assert.Equal(["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"], import.Files);
        Assert.NotEqual(first.Folder, import.Output);
        Assert.Equal(HubModelFormat.HuggingFaceLlama, first.Format);
        Assert.Equal("tiny-llama", Path.GetFileName(first.Folder));
        Assert.Equal(first.Folder, second.Folder);
        Assert.True(second.FromCache);
        Assert.DoesNotContain(hub.Downloads, request => request.FilePath == "pytorch_model.bin");
    }

    [Fact]
    public async Task Resolve_HuggingFaceSafetensorsFolder_DefaultImporterMakesAServableModel()
    {
        var config = new LlamaConfig(32, 64, 2, 4, 2, BuiltInModels.DemoConfig.VocabSize, 64);
        using var source = TestPaths.CreateTempDirectory();
        LlmAspire.Tests.Inference.HuggingFace.HuggingFaceImporterTests.WriteHuggingFaceFolder(source.Path, config, BuiltInModels.RandomWeights(config, 5), "BF16", sharded: true);
        LlmAspire.Inference.Tokenization.TokenizerJsonWriter.Write(BuiltInModels.DemoVocabulary(), source.Path, config.ContextLength);
        await using var hub = await FakeHub.StartAsync();
        hub.AddFolder("acme/tiny-llama", source.Path);
        using var cache = TestPaths.CreateTempDirectory();
        using var http = new HttpClient();

        var resolution = await new HubModelResolver(http, new HubOptions { Endpoint = hub.Endpoint, CacheDirectory = cache.Path })
            .ResolveAsync(HubModelReference.Parse("hf:acme/tiny-llama")).WaitAsync(s_timeout);

        Assert.Equal(HubModelFormat.HuggingFaceLlama, resolution.Format);
        using var model = LanguageModel.Load(resolution.Folder, ExecutionProviderPreference.Cpu);
        Assert.Equal("tiny-llama", model.Id);
        Assert.Equal(config.Layers, model.Config.Layers);
        int generated = 0;
        await foreach (var update in model.GenerateAsync(new GenerationRequest(model.Tokenizer.Encode("hello", addBos: true), 5, Temperature: 0)).WithCancellation(CancellationToken.None))
        {
            generated = update.CompletionTokens;
        }

        Assert.True(generated > 0);
    }

    [Stories260KFact]
    public async Task Resolve_TwoResolversAtOnce_DownloadEachFileOnceAndShareOneFolder()
    {
        await using var hub = await FakeHub.StartWithTinyLlamasAsync();
        using var cache = TestPaths.CreateTempDirectory();
        using var httpA = new HttpClient();
        using var httpB = new HttpClient();

        var results = await Task.WhenAll(
            Task.Run(() => Resolver(httpA, hub.Endpoint, cache.Path).ResolveAsync(s_stories)),
            Task.Run(() => Resolver(httpB, hub.Endpoint, cache.Path).ResolveAsync(s_stories))).WaitAsync(s_timeout);

        Assert.Equal(results[0].Folder, results[1].Folder);
        Assert.Single(hub.Downloads, request => request.FilePath == CheckpointPath);
        Assert.Single(hub.Downloads, request => request.FilePath == TokenizerPath);
        var models = Path.GetDirectoryName(results[0].Folder)!;
        Assert.Equal(["stories260K"], Directory.EnumerateFileSystemEntries(models).Select(Path.GetFileName));
        Assert.StartsWith(HubTestModels.KnownStart, await HubTestModels.GreedyAsync(results[0].Folder, 20, s_timeout).WaitAsync(s_timeout), StringComparison.Ordinal);
    }

    [Stories260KFact]
    public async Task Resolve_WithToken_SendsItAsBearerOnEveryRequest()
    {
        await using var hub = await FakeHub.StartWithTinyLlamasAsync();
        using var cache = TestPaths.CreateTempDirectory();
        using var http = new HttpClient();
        var options = new HubOptions { Endpoint = hub.Endpoint, CacheDirectory = cache.Path, Token = "hf_test_token" };

        await new HubModelResolver(http, options).ResolveAsync(s_stories).WaitAsync(s_timeout);

        Assert.NotEmpty(hub.Requests);
        Assert.All(hub.Requests, request => Assert.Equal("Bearer hf_test_token", request.Authorization));
    }

    private static HubModelResolver Resolver(HttpClient http, Uri endpoint, string cacheDirectory) =>
        new(http, new HubOptions
        {
            Endpoint = endpoint,
            CacheDirectory = cacheDirectory,
            RetryDelay = TimeSpan.Zero,
            LockPollInterval = TimeSpan.FromMilliseconds(20),
        });

    /// <summary>Where the cache keeps a karpathy/tinyllamas file downloaded at main.</summary>
    private static string CachedFile(string cacheDirectory, string repositoryPath) =>
        Path.Combine([cacheDirectory, "karpathy--tinyllamas", "main", "files", "tinyllamas", .. repositoryPath.Split('/')]);

    private static long ParseRangeStart(string? range)
    {
        Assert.NotNull(range);
        Assert.StartsWith("bytes=", range, StringComparison.Ordinal);
        Assert.EndsWith("-", range, StringComparison.Ordinal);
        return long.Parse(range["bytes=".Length..^1], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A Hugging Face Llama folder's file list (contents do not matter to the resolver), with a PyTorch duplicate to skip.</summary>
    private static void AddHuggingFaceLlama(FakeHub hub, string repositoryId)
    {
        hub.AddFile(repositoryId, "config.json", """{"model_type":"llama"}"""u8.ToArray(), lfs: false);
        hub.AddFile(repositoryId, "model.safetensors", new byte[1024]);
        hub.AddFile(repositoryId, "tokenizer.json", "{}"u8.ToArray(), lfs: false);
        hub.AddFile(repositoryId, "tokenizer_config.json", "{}"u8.ToArray(), lfs: false);
        hub.AddFile(repositoryId, "pytorch_model.bin", new byte[1024]);
    }
}
