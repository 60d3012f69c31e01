using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace LlmAspire.Tests.Inference.Hub;

/// <summary>
/// A Hugging Face hub on 127.0.0.1 (Kestrel, in process) serving the two calls the resolver makes:
/// <c>GET /api/models/{owner}/{repo}/revision/{revision}?blobs=true</c> and
/// <c>GET /{owner}/{repo}/resolve/{revision}/{path}</c> with <c>Range: bytes=N-</c>. It records every request,
/// can drop a file's connection part-way once, and can list a wrong SHA-256.
/// </summary>
internal sealed class FakeHub : IAsyncDisposable
{
    /// <summary>The commit every repository is at.</summary>
    public const string Commit = "4f2d0c1b9a8e7d6c5b4a39281706f5e4d3c2b1a0";

    /// <summary>The bound on starting and stopping the server.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, HubFile>> _repositories = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _dropOnce = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<FakeHubRequest> _requests = new();
    private WebApplication? _app;

    private FakeHub()
    {
    }

    /// <summary>The hub's base address, e.g. http://127.0.0.1:41234.</summary>
    public Uri Endpoint { get; private set; } = new("http://127.0.0.1");

    /// <summary>Every request so far, in arrival order.</summary>
    public IReadOnlyList<FakeHubRequest> Requests => [.. _requests];

    /// <summary>Downloads (resolve requests) so far.</summary>
    public IReadOnlyList<FakeHubRequest> Downloads => [.. _requests.Where(request => request.FilePath is not null)];

    /// <summary>Starts a hub on a free port.</summary>
    public static async Task<FakeHub> StartAsync()
    {
        var hub = new FakeHub();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapGet("/api/models/{owner}/{repo}/revision/{**revision}", hub.ListAsync);
        app.MapGet("/{owner}/{repo}/resolve/{revision}/{**path}", hub.ResolveAsync);
        await app.StartAsync().WaitAsync(Timeout);
        hub._app = app;
        hub.Endpoint = new Uri(app.Urls.First());
        return hub;
    }

    /// <summary>Publishes stories260K as karpathy/tinyllamas has it (its folder, with files the resolver must skip).</summary>
    public static async Task<FakeHub> StartWithTinyLlamasAsync()
    {
        var hub = await StartAsync();
        hub.AddFile("karpathy/tinyllamas", "stories260K/stories260K.bin", await File.ReadAllBytesAsync(TestPaths.Stories260KCheckpoint).WaitAsync(Timeout));
        hub.AddFile("karpathy/tinyllamas", "stories260K/tok512.bin", await File.ReadAllBytesAsync(TestPaths.Stories260KTokenizer).WaitAsync(Timeout));
        hub.AddFile("karpathy/tinyllamas", "stories260K/stories260K.pt", new byte[4096]);
        hub.AddFile("karpathy/tinyllamas", "stories260K/tok512.model", new byte[512]);
        hub.AddFile("karpathy/tinyllamas", "stories15M.bin", new byte[8192]);
        hub.AddFile("karpathy/tinyllamas", "README.md", "# tinyllamas\n"u8.ToArray(), lfs: false);
        return hub;
    }

    /// <summary>Adds a file; LFS files are listed with their SHA-256, as the real hub lists them.</summary>
    public void AddFile(string repositoryId, string path, byte[] content, bool lfs = true) =>
        _repositories.GetOrAdd(repositoryId, _ => new(StringComparer.Ordinal))[path] =
            new HubFile(content, lfs ? Convert.ToHexStringLower(SHA256.HashData(content)) : null);

    /// <summary>Adds every file of a local folder at the repository root (or under <paramref name="prefix"/>).</summary>
    public void AddFolder(string repositoryId, string folder, string prefix = "")
    {
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            var name = Path.GetFileName(file);
            AddFile(repositoryId, prefix + name, File.ReadAllBytes(file), lfs: !name.EndsWith(".json", StringComparison.Ordinal));
        }
    }

    /// <summary>Lists <paramref name="sha256"/> for a file instead of its real hash.</summary>
    public void ListWrongSha256(string repositoryId, string path, string sha256)
    {
        var files = _repositories[repositoryId];
        files[path] = files[path] with { ListedSha256 = sha256 };
    }

    /// <summary>The next download of the file sends <paramref name="bytes"/> bytes, then drops the connection.</summary>
    public void DropConnectionOnce(string repositoryId, string path, long bytes) => _dropOnce[$"{repositoryId}/{path}"] = bytes;

    /// <summary>Stops listening: later requests get "connection refused".</summary>
    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync().WaitAsync(Timeout);
            await app.DisposeAsync().AsTask().WaitAsync(Timeout);
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task ListAsync(HttpContext context, string owner, string repo, string revision)
    {
        _requests.Enqueue(new FakeHubRequest(context.Request.Path + context.Request.QueryString, null, null, Authorization(context)));
        if (!_repositories.TryGetValue($"{owner}/{repo}", out var files))
        {
            await ErrorAsync(context, HttpStatusCode.NotFound, "RepoNotFound", "Repository not found");
            return;
        }

        if (revision is not ("main" or Commit))
        {
            await ErrorAsync(context, HttpStatusCode.NotFound, "RevisionNotFound", $"Invalid rev id: {revision}");
            return;
        }

        var blobs = context.Request.Query["blobs"] == "true";
        var siblings = files.OrderBy(file => file.Key, StringComparer.Ordinal).Select(file => blobs
            ? new Dictionary<string, object?>
            {
                ["rfilename"] = file.Key,
                ["size"] = file.Value.Content.Length,
                ["lfs"] = file.Value.ListedSha256 is null
                    ? null
                    : new Dictionary<string, object?> { ["sha256"] = file.Value.ListedSha256, ["size"] = file.Value.Content.Length, ["pointerSize"] = 134 },
            }
            : new Dictionary<string, object?> { ["rfilename"] = file.Key });
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["id"] = $"{owner}/{repo}",
            ["sha"] = Commit,
            ["siblings"] = siblings.ToList(),
        }));
    }

    private async Task ResolveAsync(HttpContext context, string owner, string repo, string revision, string path)
    {
        var range = context.Request.Headers.Range.ToString();
        _requests.Enqueue(new FakeHubRequest(context.Request.Path.ToString(), path, range.Length == 0 ? null : range, Authorization(context)));
        if (!_repositories.TryGetValue($"{owner}/{repo}", out var files) || !files.TryGetValue(path, out var file) || revision is not ("main" or Commit))
        {
            await ErrorAsync(context, HttpStatusCode.NotFound, "EntryNotFound", "Entry not found");
            return;
        }

        long start = 0;
        if (range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-') && long.TryParse(range["bytes=".Length..^1], out var from))
        {
            if (from >= file.Content.Length)
            {
                context.Response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                return;
            }

            start = from;
            context.Response.StatusCode = StatusCodes.Status206PartialContent;
            context.Response.Headers.ContentRange = $"bytes {from}-{file.Content.Length - 1}/{file.Content.Length}";
        }

        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = file.Content.Length - start;
        if (_dropOnce.TryRemove($"{owner}/{repo}/{path}", out var dropAfter))
        {
            await context.Response.Body.WriteAsync(file.Content.AsMemory((int)start, (int)Math.Min(dropAfter, file.Content.Length - start)));
            await context.Response.Body.FlushAsync();
            context.Abort();
            return;
        }

        await context.Response.Body.WriteAsync(file.Content.AsMemory((int)start));
    }

    private static string? Authorization(HttpContext context) =>
        context.Request.Headers.Authorization.ToString() is { Length: > 0 } value ? value : null;

    private static async Task ErrorAsync(HttpContext context, HttpStatusCode status, string code, string message)
    {
        context.Response.StatusCode = (int)status;
        context.Response.Headers["X-Error-Code"] = code;
        context.Response.Headers["X-Error-Message"] = message;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string> { ["error"] = message }));
    }

    private sealed record HubFile(byte[] Content, string? ListedSha256);
}

/// <summary>One request the fake hub received: its path, the file it asked for (downloads only), its Range and Authorization headers.</summary>
internal sealed record FakeHubRequest(string Path, string? FilePath, string? Range, string? Authorization);
