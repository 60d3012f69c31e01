using System.Text.Json.Serialization;

namespace LlmAspire.Inference.Models.Hub;

/// <summary>The part of the hub's <c>GET /api/models/{repo}/revision/{revision}?blobs=true</c> answer we use.</summary>
internal sealed record HubModelInfo(
    [property: JsonPropertyName("sha")] string? Sha,
    [property: JsonPropertyName("siblings")] IReadOnlyList<HubSibling>? Siblings);

/// <summary>One file of the repository.</summary>
internal sealed record HubSibling(
    [property: JsonPropertyName("rfilename")] string RelativeFileName,
    [property: JsonPropertyName("size")] long? Size,
    [property: JsonPropertyName("lfs")] HubLfsInfo? Lfs);

/// <summary>Large-file storage details: the content's SHA-256 and size.</summary>
internal sealed record HubLfsInfo(
    [property: JsonPropertyName("sha256")] string? Sha256,
    [property: JsonPropertyName("size")] long? Size);

/// <summary>The hub's error body, <c>{"error": "..."}</c>.</summary>
internal sealed record HubError([property: JsonPropertyName("error")] string? Error);

/// <summary>
/// Written beside the downloaded files once every file of a reference is on disk and verified: its presence
/// makes a snapshot complete, so later resolutions use it without any network access.
/// </summary>
internal sealed record HubSnapshotManifest(
    [property: JsonPropertyName("reference")] string Reference,
    [property: JsonPropertyName("commit")] string? Commit,
    [property: JsonPropertyName("format")] HubModelFormat Format,
    [property: JsonPropertyName("files")] IReadOnlyList<HubSnapshotFile> Files);

/// <summary>One downloaded file: its repository path, size and (when the hub gave it) SHA-256.</summary>
internal sealed record HubSnapshotFile(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("size")] long? Size,
    [property: JsonPropertyName("sha256")] string? Sha256);

[JsonSourceGenerationOptions(WriteIndented = true, UseStringEnumConverter = true)]
[JsonSerializable(typeof(HubModelInfo))]
[JsonSerializable(typeof(HubError))]
[JsonSerializable(typeof(HubSnapshotManifest))]
internal sealed partial class HubJsonContext : JsonSerializerContext;
