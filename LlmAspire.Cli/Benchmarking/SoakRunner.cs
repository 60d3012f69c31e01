using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace LlmAspire.Cli.Benchmarking;

/// <summary>
/// Sends <see cref="SoakRequest"/>s through one endpoint, so many at a time, and tallies each kind's outcomes:
/// <c>ok</c> (a 200 read whole: JSON, or a stream through <c>[DONE]</c> with no error event), <c>cancelled</c> (the
/// client dropped a stream after its first events), <c>finished_before_cancel</c>, <c>rejected</c> (an invalid
/// request refused with a 4xx in the OpenAI error shape), and <c>failed</c> (anything else: a 5xx, a reset, a
/// timeout, a broken stream, a refusal of a valid request, an invalid request accepted).
/// </summary>
public sealed class SoakRunner(HttpClient http, string? model, int maxTokens, int seed, TimeSpan timeout)
{
    public const string Ok = "ok";
    public const string Cancelled = "cancelled";
    public const string FinishedBeforeCancel = "finished_before_cancel";
    public const string Rejected = "rejected";
    public const string Failed = "failed";

    private readonly Dictionary<SoakRequestKind, Dictionary<string, int>> _counts = [];
    private readonly Dictionary<string, int> _statuses = new(StringComparer.Ordinal);
    private readonly List<string> _failures = [];

    /// <summary>Outcomes so far, per kind.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> Counts
    {
        get
        {
            lock (_counts)
            {
                return _counts.ToDictionary(
                    kind => kind.Key.ToString().ToLowerInvariant(),
                    kind => (IReadOnlyDictionary<string, int>)new SortedDictionary<string, int>(kind.Value, StringComparer.Ordinal));
            }
        }
    }

    /// <summary>HTTP statuses so far (<c>none</c>: no answer).</summary>
    public IReadOnlyDictionary<string, int> Statuses
    {
        get
        {
            lock (_counts)
            {
                return new SortedDictionary<string, int>(_statuses, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>The first failures, described.</summary>
    public IReadOnlyList<string> Failures
    {
        get
        {
            lock (_counts)
            {
                return [.. _failures];
            }
        }
    }

    /// <summary>Requests that failed so far.</summary>
    public int FailedCount
    {
        get
        {
            lock (_counts)
            {
                return _counts.Values.Sum(outcomes => outcomes.GetValueOrDefault(Failed));
            }
        }
    }

    /// <summary>Sends requests <paramref name="from"/> to <paramref name="to"/> (exclusive), <paramref name="concurrency"/> at a time.</summary>
    public Task RunAsync(int from, int to, int concurrency, IProgress<int>? progress, CancellationToken cancellationToken)
    {
        int finished = 0;
        return Parallel.ForEachAsync(
            Enumerable.Range(from, to - from),
            new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
            async (index, token) =>
            {
                var request = SoakRequest.Create(index, seed, model, maxTokens);
                var (status, outcome, detail) = await SendAsync(request, token);
                Record(request.Kind, status, outcome, detail is null ? null : $"#{index} {request.Kind} {request.Path}: {detail}");
                progress?.Report(Interlocked.Increment(ref finished));
            });
    }

    private void Record(SoakRequestKind kind, int? status, string outcome, string? failure)
    {
        lock (_counts)
        {
            if (!_counts.TryGetValue(kind, out var outcomes))
            {
                _counts[kind] = outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
            }

            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            var key = status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none";
            _statuses[key] = _statuses.GetValueOrDefault(key) + 1;
            if (outcome == Failed && failure is not null && _failures.Count < 20)
            {
                _failures.Add(failure);
            }
        }
    }

    private async Task<(int? Status, string Outcome, string? Detail)> SendAsync(SoakRequest soak, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, soak.Path) { Content = new ByteArrayContent(soak.Body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(soak.ContentType);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        int? status = null;
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, bounded.Token);
            status = (int)response.StatusCode;
            if (soak.Kind == SoakRequestKind.Invalid)
            {
                var text = await response.Content.ReadAsStringAsync(bounded.Token);
                return status is >= 400 and < 500 && IsOpenAIError(text)
                    ? (status, Rejected, null)
                    : (status, Failed, $"expected a 4xx OpenAI error, got {status}: {Excerpt(text)}");
            }

            if (status != 200)
            {
                return (status, Failed, $"HTTP {status}: {Excerpt(await response.Content.ReadAsStringAsync(bounded.Token))}");
            }

            if (soak.Kind == SoakRequestKind.Plain)
            {
                using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(bounded.Token));
                return document.RootElement.TryGetProperty("choices", out _) ? (status, Ok, null) : (status, Failed, "a 200 without choices");
            }

            await using var stream = await response.Content.ReadAsStreamAsync(bounded.Token);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            int events = 0;
            while (await reader.ReadLineAsync(bounded.Token) is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    continue;
                }

                var data = line["data: ".Length..];
                if (data == "[DONE]")
                {
                    return (status, soak.Kind == SoakRequestKind.Cancelled ? FinishedBeforeCancel : Ok, null);
                }

                if (IsOpenAIError(data))
                {
                    return (status, Failed, $"an error event: {Excerpt(data)}");
                }

                if (soak.Kind == SoakRequestKind.Cancelled && ++events >= soak.CancelAfterEvents)
                {
                    // Going away mid-stream: disposing the response drops the connection; the servers must free the row.
                    return (status, Cancelled, null);
                }
            }

            return (status, Failed, "the stream ended without data: [DONE]");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (status, Failed, $"no complete answer within {timeout.TotalSeconds:F0} s");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or JsonException)
        {
            return (status, Failed, $"{ex.GetType().Name}: {ex.Message}");
        }
    }

    private static bool IsOpenAIError(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error", out var error)
                && error.ValueKind == JsonValueKind.Object
                && error.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String
                && error.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
                && error.TryGetProperty("param", out _) && error.TryGetProperty("code", out _);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string Excerpt(string text) => text.Length > 200 ? text[..200] + "…" : text;
}
