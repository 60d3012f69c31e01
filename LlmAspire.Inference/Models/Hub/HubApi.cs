using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;

namespace LlmAspire.Inference.Models.Hub;

/// <summary>
/// The two hub calls: the repository's file list (<c>GET {endpoint}/api/models/{owner}/{repo}/revision/{revision}?blobs=true</c>)
/// and a file (<c>GET {endpoint}/{owner}/{repo}/resolve/{revision}/{path}</c>), downloaded to <c>{file}.partial</c>,
/// resumed with <c>Range: bytes=N-</c>, checked against the listed size and SHA-256, then renamed into place.
/// </summary>
internal sealed class HubApi(HttpClient httpClient, HubOptions options)
{
    private const int BufferSize = 1 << 16;

    /// <summary>How much of an error body is read for its message.</summary>
    private const int MaxErrorBodyChars = 2048;

    /// <summary>Lists the repository at the reference's revision.</summary>
    public async Task<HubModelInfo> GetModelInfoAsync(HubModelReference reference, CancellationToken cancellationToken)
    {
        var uri = new Uri($"{Base}/api/models/{Escape(reference.Owner)}/{Escape(reference.Repository)}/revision/{Escape(reference.Revision)}?blobs=true");
        using var request = CreateRequest(uri);
        HttpResponseMessage response;
        try
        {
            response = await httpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (IsTransportFailure(exception, cancellationToken))
        {
            throw new HubUnreachableException($"Cannot reach the hub at {options.Endpoint} to list {reference}: {exception.Message}", exception);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw await FailureAsync(reference, "listing", response, cancellationToken).ConfigureAwait(false);
            }

            try
            {
                var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                return JsonSerializer.Deserialize(body, HubJsonContext.Default.HubModelInfo)
                    ?? throw new HubException($"The hub at {options.Endpoint} listed {reference} as JSON null.");
            }
            catch (JsonException exception)
            {
                throw new HubException($"The hub at {options.Endpoint} answered the listing of {reference} with something other than the model API's JSON: {exception.Message}", exception);
            }
            catch (Exception exception) when (exception is IOException or HttpRequestException)
            {
                throw new HubUnreachableException($"The connection to the hub at {options.Endpoint} broke while listing {reference}: {exception.Message}", exception);
            }
        }
    }

    /// <summary>
    /// Downloads <paramref name="file"/> to <paramref name="localPath"/>, resuming across up to
    /// <see cref="HubOptions.MaxAttempts"/> broken transfers; a failed check deletes the file and throws.
    /// </summary>
    public async Task DownloadAsync(HubModelReference reference, string revision, HubSnapshotFile file, string localPath, IProgress<HubProgress>? progress, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(localPath)!);
        var partial = localPath + ".partial";
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await DownloadOnceAsync(reference, revision, file, localPath, partial, progress, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (HubTransferException exception)
            {
                if (attempt >= options.MaxAttempts)
                {
                    throw new HubUnreachableException(
                        $"Downloading {file.Path} of {reference} from {options.Endpoint} failed {attempt} times; the last time: {exception.Message} "
                        + $"The {PartialLength(partial)} bytes received are kept in '{partial}', and the next try resumes from there.",
                        exception);
                }

                progress?.Report(new HubProgress(HubProgressKind.Retrying, file.Path, PartialLength(partial), file.Size, exception.Message));
                await Task.Delay(options.RetryDelay * attempt, options.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>True when <paramref name="localPath"/> has <paramref name="file"/>'s listed size and SHA-256 (when listed).</summary>
    public static async Task<bool> IsIntactAsync(HubSnapshotFile file, string localPath, CancellationToken cancellationToken)
    {
        var info = new FileInfo(localPath);
        if (!info.Exists || (file.Size is { } size && info.Length != size))
        {
            return false;
        }

        if (file.Sha256 is null)
        {
            return true;
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await HashFileAsync(localPath, hash, cancellationToken).ConfigureAwait(false);
        return string.Equals(Convert.ToHexStringLower(hash.GetHashAndReset()), file.Sha256, StringComparison.OrdinalIgnoreCase);
    }

    private string Base => options.Endpoint.AbsoluteUri.TrimEnd('/');

    private async Task DownloadOnceAsync(
        HubModelReference reference, string revision, HubSnapshotFile file, string localPath, string partial, IProgress<HubProgress>? progress, CancellationToken cancellationToken)
    {
        var existing = PartialLength(partial);
        if (file.Size is { } listedSize && existing > listedSize)
        {
            File.Delete(partial);
            existing = 0;
        }

        var path = string.Join('/', file.Path.Split('/').Select(Escape));
        using var request = CreateRequest(new Uri($"{Base}/{Escape(reference.Owner)}/{Escape(reference.Repository)}/resolve/{Escape(revision)}/{path}"));
        if (existing > 0)
        {
            request.Headers.Range = new RangeHeaderValue(existing, null);
        }

        progress?.Report(new HubProgress(HubProgressKind.Starting, file.Path, existing, file.Size));
        HttpResponseMessage response;
        try
        {
            response = await httpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (IsTransportFailure(exception, cancellationToken))
        {
            throw new HubTransferException($"No answer from {options.Endpoint}: {exception.Message}", exception);
        }

        using (response)
        {
            bool append;
            switch (response.StatusCode)
            {
                case HttpStatusCode.PartialContent when existing > 0:
                    if (response.Content.Headers.ContentRange?.From != existing)
                    {
                        File.Delete(partial);
                        throw new HubTransferException($"The hub answered the resume at byte {existing} with another range ({response.Content.Headers.ContentRange}); starting over.");
                    }

                    append = true;
                    break;
                case HttpStatusCode.OK:
                    // A server that ignores Range sends the whole file: start over.
                    append = false;
                    existing = 0;
                    break;
                case HttpStatusCode.RequestedRangeNotSatisfiable:
                    File.Delete(partial);
                    throw new HubTransferException($"The hub refused to resume at byte {existing}; starting over.");
                case var status when IsTransient(status):
                    throw new HubTransferException($"The hub answered {(int)status} {response.ReasonPhrase}.");
                default:
                    throw await FailureAsync(reference, $"downloading {file.Path} of", response, cancellationToken).ConfigureAwait(false);
            }

            var expectedSize = file.Size ?? (response.Content.Headers.ContentLength is { } length ? length + existing : null);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            if (append)
            {
                await HashFileAsync(partial, hash, cancellationToken).ConfigureAwait(false);
            }

            var received = await CopyBodyAsync(response, partial, append, existing, expectedSize, hash, file, progress, cancellationToken).ConfigureAwait(false);
            if (expectedSize is { } size && received < size)
            {
                throw new HubTransferException($"The connection closed after {received} of {size} bytes.");
            }

            if (expectedSize is { } limit && received > limit)
            {
                File.Delete(partial);
                throw new HubException($"{file.Path} of {reference} is longer than the {limit} bytes the hub lists; the file was deleted.");
            }

            var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (file.Sha256 is { } expected && !string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase))
            {
                File.Delete(partial);
                throw new HubException(
                    $"SHA-256 mismatch for {file.Path} of {reference}: the hub lists {expected}, the downloaded file hashes to {actual}. "
                    + "The file was deleted; resolving again downloads it anew. If this repeats, a proxy or mirror serves wrong bytes.");
            }

            File.Move(partial, localPath, overwrite: true);
            progress?.Report(new HubProgress(
                HubProgressKind.Downloaded, file.Path, received, expectedSize,
                file.Sha256 is null ? "size checked (the hub lists no SHA-256 for it)" : "SHA-256 verified"));
        }
    }

    /// <summary>Appends the body to the partial file and the hash; returns the partial file's new length.</summary>
    private async Task<long> CopyBodyAsync(
        HttpResponseMessage response, string partial, bool append, long existing, long? expectedSize, IncrementalHash hash,
        HubSnapshotFile file, IProgress<HubProgress>? progress, CancellationToken cancellationToken)
    {
        var received = existing;
        var lastReport = options.TimeProvider.GetTimestamp();
        var buffer = new byte[BufferSize];
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var output = new FileStream(partial, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, BufferSize, useAsync: true);
        await using (output.ConfigureAwait(false))
        {
            try
            {
                var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                await using (body.ConfigureAwait(false))
                {
                    while (true)
                    {
                        stall.CancelAfter(options.StallTimeout);
                        var read = await body.ReadAsync(buffer, stall.Token).ConfigureAwait(false);
                        if (read == 0)
                        {
                            break;
                        }

                        await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                        hash.AppendData(buffer, 0, read);
                        received += read;
                        if (expectedSize is { } limit && received > limit)
                        {
                            break;
                        }

                        if (options.TimeProvider.GetElapsedTime(lastReport) >= options.ProgressInterval)
                        {
                            lastReport = options.TimeProvider.GetTimestamp();
                            progress?.Report(new HubProgress(HubProgressKind.Downloading, file.Path, received, expectedSize));
                        }
                    }
                }
            }
            catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
            {
                throw new HubTransferException($"No data for {options.StallTimeout.TotalSeconds:F0} s after {received} bytes.", exception);
            }
            catch (Exception exception) when (exception is IOException or HttpRequestException)
            {
                throw new HubTransferException($"The connection broke after {received} bytes: {exception.Message}", exception);
            }
        }

        return received;
    }

    private HttpRequestMessage CreateRequest(Uri uri)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (options.Token is { } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return request;
    }

    /// <summary>The exception for a non-success answer: 5xx and 429 mean "unreachable", anything else is the reference's fault.</summary>
    private async Task<HubException> FailureAsync(HubModelReference reference, string doing, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = response.StatusCode;
        var hubMessage = await ReadErrorMessageAsync(response, cancellationToken).ConfigureAwait(false);
        var answered = $"{(int)status} {response.ReasonPhrase}{(hubMessage is null ? "" : ": " + hubMessage)}";
        return status switch
        {
            _ when IsTransient(status) => new HubUnreachableException(
                $"The hub at {options.Endpoint} is unavailable ({answered}) while {doing} {reference}.", status),
            HttpStatusCode.NotFound => new HubException(
                $"{reference} was not found on {options.Endpoint} ({answered}). Check the owner, repository, subfolder and revision.", status),
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new HubException(
                $"The hub at {options.Endpoint} refused {doing} {reference} ({answered}): the repository does not exist, or it is private or gated. "
                + $"For a gated or private repository, set {HubEnvironment.Token} to a token that may read it.", status),
            _ => new HubException($"The hub at {options.Endpoint} answered {answered} while {doing} {reference}.", status),
        };
    }

    private static async Task<string?> ReadErrorMessageAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Headers.TryGetValues("X-Error-Message", out var values) && values.FirstOrDefault() is { Length: > 0 } header)
        {
            return header;
        }

        try
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (body.Length > MaxErrorBodyChars)
            {
                body = body[..MaxErrorBodyChars];
            }

            try
            {
                return JsonSerializer.Deserialize(body, HubJsonContext.Default.HubError)?.Error ?? NullIfBlank(body);
            }
            catch (JsonException)
            {
                return NullIfBlank(body);
            }
        }
        catch (Exception exception) when (exception is IOException or HttpRequestException)
        {
            return null;
        }
    }

    private static string? NullIfBlank(string text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    private static bool IsTransient(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout;

    /// <summary>
    /// Anything <see cref="HttpClient.SendAsync(HttpRequestMessage, HttpCompletionOption, CancellationToken)"/> throws means no
    /// answer came (DNS, refused, TLS, timeout, an open circuit breaker), except our own cancellation and argument errors.
    /// </summary>
    private static bool IsTransportFailure(Exception exception, CancellationToken cancellationToken) =>
        exception is not ArgumentException && !(exception is OperationCanceledException && cancellationToken.IsCancellationRequested);

    private static long PartialLength(string partial) => File.Exists(partial) ? new FileInfo(partial).Length : 0;

    private static async Task HashFileAsync(string path, IncrementalHash hash, CancellationToken cancellationToken)
    {
        var buffer = new byte[BufferSize];
        var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true);
        await using (input.ConfigureAwait(false))
        {
            int read;
            while ((read = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
        }
    }

    private static string Escape(string segment) => Uri.EscapeDataString(segment);
}
