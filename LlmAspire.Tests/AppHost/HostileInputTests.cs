using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LlmAspire.Tests.Inference;
using Xunit.Abstractions;

namespace LlmAspire.Tests.AppHost;

/// <summary>
/// No input breaks a service: the <see cref="HostileRequests"/> sweep against a real model server and through the
/// real gateway. Every request gets a 2xx where it is valid, or a 4xx whose body is the OpenAI error; never a 5xx, a
/// reset connection or a hang; and the services answer a good request afterwards. Half the sweep runs one request at
/// a time, half eight at a time.
/// </summary>
[Collection(AspireAppCollection.Name)]
public sealed class HostileInputTests(AspireAppFixture fixture, ITestOutputHelper output)
{
    private const int Seed = 260_000;
    private const int Concurrency = 8;
    private static readonly TimeSpan s_requestTimeout = TimeSpan.FromSeconds(30);

    [Stories260KFact]
    public Task Sweep_AgainstAModelServer_AnswersEverythingWithSuccessOrAnOpenAIError() =>
        SweepAsync(AspireAppFixture.ModelServerName(0), () => fixture.CreateModelServerClient(0));

    [Stories260KFact]
    public Task Sweep_ThroughTheGateway_AnswersEverythingWithSuccessOrAnOpenAIError() =>
        SweepAsync("gateway", fixture.CreateGatewayClient);

    [Stories260KFact]
    public Task RawFraming_AgainstAModelServer_IsAnsweredWithSuccessOrAnOpenAIError() =>
        RawFramingAsync(AspireAppFixture.ModelServerName(0));

    [Stories260KFact]
    public Task RawFraming_ThroughTheGateway_IsAnsweredWithSuccessOrAnOpenAIError() =>
        RawFramingAsync("gateway");

    private async Task RawFramingAsync(string target)
    {
        using var client = target == "gateway" ? fixture.CreateGatewayClient() : fixture.CreateModelServerClient(0);
        var endpoint = client.BaseAddress!;
        var outcomes = await Task.WhenAll(HostileRequests.RawCases(AspireAppFixture.ModelId).Select(raw => SendRawAsync(endpoint, raw)));

        foreach (var outcome in outcomes)
        {
            output.WriteLine($"{target}: {outcome}");
        }

        Assert.All(outcomes, outcome => Assert.True(outcome.Problem is null, outcome.ToString()));
        await AssertServicesAnswerAsync();
    }

    private static async Task<Outcome> SendRawAsync(Uri endpoint, HostileRequests.RawCase raw)
    {
        var hostile = new HostileRequests.Case(raw.Name, "POST", HostileRequests.CompletionsPath, raw.Bytes, null, raw.Expected);
        var started = Stopwatch.GetTimestamp();
        using var timeout = new CancellationTokenSource(s_requestTimeout);
        try
        {
            using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            await socket.ConnectAsync(endpoint.Host, endpoint.Port, timeout.Token);
            // No half-close: Kestrel takes a FIN for a client gone. What is missing is waited for (then 408).
            await socket.SendAsync(raw.Bytes, System.Net.Sockets.SocketFlags.None, timeout.Token);

            using var received = new MemoryStream();
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await socket.ReceiveAsync(buffer, System.Net.Sockets.SocketFlags.None, timeout.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }

            var (status, contentType, body) = ParseResponse(received.ToArray());
            return new Outcome(hostile, status, status is { } code ? Check(hostile, code, contentType, body) : "no HTTP response", Stopwatch.GetElapsedTime(started), body);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return new Outcome(hostile, null, $"no complete answer within {s_requestTimeout.TotalSeconds} s", Stopwatch.GetElapsedTime(started), []);
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            return new Outcome(hostile, null, $"connection failed: {ex.SocketErrorCode}", Stopwatch.GetElapsedTime(started), []);
        }
    }

    /// <summary>The first HTTP/1.1 response in <paramref name="bytes"/>: status, content type and (de-chunked) body.</summary>
    private static (int? Status, MediaTypeHeaderValue? ContentType, byte[] Body) ParseResponse(byte[] bytes)
    {
        var end = bytes.AsSpan().IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            return (null, null, []);
        }

        var lines = Encoding.ASCII.GetString(bytes, 0, end).Split("\r\n");
        var status = lines[0].Split(' ') is [_, var code, ..] && int.TryParse(code, System.Globalization.CultureInfo.InvariantCulture, out var parsed) ? parsed : (int?)null;
        if (status is >= 100 and < 200)
        {
            // An interim answer (100 Continue): the response follows it.
            return ParseResponse(bytes[(end + 4)..]);
        }

        string? Header(string name) => lines.Skip(1).Where(line => line.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase)).Select(line => line[(name.Length + 1)..].Trim()).FirstOrDefault();
        var contentType = Header("Content-Type") is { } type && MediaTypeHeaderValue.TryParse(type, out var media) ? media : null;
        var rest = bytes.AsSpan(end + 4);
        if (!string.Equals(Header("Transfer-Encoding"), "chunked", StringComparison.OrdinalIgnoreCase))
        {
            var length = Header("Content-Length") is { } value ? Math.Min(int.Parse(value, System.Globalization.CultureInfo.InvariantCulture), rest.Length) : rest.Length;
            return (status, contentType, rest[..length].ToArray());
        }

        var body = new MemoryStream();
        while (rest.IndexOf("\r\n"u8) is var line and > 0
            && int.TryParse(Encoding.ASCII.GetString(rest[..line]).Split(';')[0], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var size)
            && size > 0 && line + 2 + size <= rest.Length)
        {
            body.Write(rest.Slice(line + 2, size));
            rest = rest[Math.Min(rest.Length, line + 2 + size + 2)..];
        }

        return (status, contentType, body.ToArray());
    }

    private async Task SweepAsync(string target, Func<HttpClient> createClient)
    {
        var cases = HostileRequests.Create(AspireAppFixture.ModelId, Seed);
        Assert.True(cases.Count >= 600, $"The sweep has only {cases.Count} requests.");
        using var client = createClient();
        var stopwatch = Stopwatch.StartNew();

        var outcomes = new Outcome[cases.Count];
        var half = cases.Count / 2;
        for (var i = 0; i < half; i++)
        {
            outcomes[i] = await SendAsync(client, cases[i]);
        }

        await Parallel.ForEachAsync(
            Enumerable.Range(half, cases.Count - half),
            new ParallelOptions { MaxDegreeOfParallelism = Concurrency },
            async (i, _) => outcomes[i] = await SendAsync(client, cases[i]));
        var elapsed = stopwatch.Elapsed;

        Report(target, outcomes, elapsed);
        var failures = outcomes.Where(outcome => outcome.Problem is not null).ToList();
        Assert.True(
            failures.Count == 0,
            $"{failures.Count} of {outcomes.Length} requests to {target} failed:{Environment.NewLine}"
                + string.Join(Environment.NewLine, failures.Take(60).Select(failure => failure.ToString())));

        await AssertServicesAnswerAsync();
    }

    private static async Task<Outcome> SendAsync(HttpClient client, HostileRequests.Case hostile)
    {
        var started = Stopwatch.GetTimestamp();
        using var request = new HttpRequestMessage(new HttpMethod(hostile.Method), new Uri(hostile.Path, UriKind.Relative));
        if (hostile.Body is not null)
        {
            request.Content = new ByteArrayContent(hostile.Body);
            if (hostile.ContentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", hostile.ContentType);
            }
        }

        if (hostile.Chunked)
        {
            request.Headers.TransferEncodingChunked = true;
        }

        foreach (var (name, value) in hostile.Headers ?? [])
        {
            if (!request.Headers.TryAddWithoutValidation(name, value))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, value);
            }
        }

        using var timeout = new CancellationTokenSource(s_requestTimeout);
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
            var status = (int)response.StatusCode;
            return new Outcome(hostile, status, Check(hostile, status, response.Content.Headers.ContentType, body), Stopwatch.GetElapsedTime(started), body);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return new Outcome(hostile, null, $"no complete answer within {s_requestTimeout.TotalSeconds} s", Stopwatch.GetElapsedTime(started), []);
        }
        catch (HttpRequestException ex)
        {
            return new Outcome(hostile, null, $"connection failed: {ex.Message} {ex.InnerException?.Message}", Stopwatch.GetElapsedTime(started), []);
        }
    }

    /// <summary>Null when the answer is acceptable for <paramref name="hostile"/>; else what is wrong with it.</summary>
    private static string? Check(HostileRequests.Case hostile, int status, MediaTypeHeaderValue? contentType, byte[] body)
    {
        if (status is < 200 or >= 300 and < 400 or >= 500)
        {
            return $"status {status}";
        }

        var success = status < 300;
        switch (hostile.Expected)
        {
            case HostileRequests.Expect.ProtocolError:
                return success ? $"expected a 4xx, got {status}" : body.Length == 0 ? null : CheckError(contentType, body);
            case HostileRequests.Expect.Success when !success:
                return $"expected a 2xx, got {status}";
            case HostileRequests.Expect.Rejected when success:
                return $"expected a 4xx, got {status}";
        }

        if (hostile.Method == "HEAD")
        {
            return body.Length == 0 ? null : "a HEAD answer with a body";
        }

        return success ? CheckSuccess(contentType, body) : CheckError(contentType, body);
    }

    private static string? CheckSuccess(MediaTypeHeaderValue? contentType, byte[] body)
    {
        try
        {
            switch (contentType?.MediaType)
            {
                case "text/event-stream":
                    var events = Encoding.UTF8.GetString(body).Split('\n')
                        .Where(line => line.StartsWith("data: ", StringComparison.Ordinal))
                        .Select(line => line["data: ".Length..].TrimEnd('\r'))
                        .ToList();
                    if (events.Count == 0 || events[^1] != "[DONE]")
                    {
                        return "a stream that does not end with [DONE]";
                    }

                    foreach (var data in events.SkipLast(1))
                    {
                        using var chunk = JsonDocument.Parse(data);
                        if (chunk.RootElement.TryGetProperty("error", out _))
                        {
                            return $"a stream with an error event: {data}";
                        }
                    }

                    return null;
                case "application/json":
                    using (JsonDocument.Parse(body))
                    {
                        return null;
                    }

                default:
                    return null;
            }
        }
        catch (JsonException ex)
        {
            return $"a 2xx whose body is not JSON: {ex.Message}";
        }
    }

    private static string? CheckError(MediaTypeHeaderValue? contentType, byte[] body)
    {
        if (contentType?.MediaType != "application/json")
        {
            return $"an error with content type '{contentType}'";
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("error", out var error)
                || error.ValueKind != JsonValueKind.Object)
            {
                return "an error body without an 'error' object";
            }

            if (!error.TryGetProperty("message", out var message) || message.ValueKind != JsonValueKind.String || message.GetString()!.Length == 0)
            {
                return "error.message is not a non-empty string";
            }

            if (!error.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                return "error.type is not a string";
            }

            foreach (var name in new[] { "param", "code" })
            {
                if (!error.TryGetProperty(name, out var value) || value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                {
                    return $"error.{name} is missing or neither a string nor null";
                }
            }

            return null;
        }
        catch (JsonException ex)
        {
            return $"an error body that is not JSON: {ex.Message}";
        }
    }

    private void Report(string target, Outcome[] outcomes, TimeSpan elapsed)
    {
        output.WriteLine($"{target}: {outcomes.Length} requests in {elapsed.TotalSeconds:F1} s (half one at a time, half {Concurrency} at a time); slowest {outcomes.Max(o => o.Elapsed).TotalMilliseconds:F0} ms");
        foreach (var group in outcomes.GroupBy(outcome => outcome.Status).OrderBy(group => group.Key ?? 0))
        {
            output.WriteLine($"  {(group.Key is { } status ? status.ToString(System.Globalization.CultureInfo.InvariantCulture) : "none")}: {group.Count()}");
        }

        foreach (var expectation in outcomes.GroupBy(outcome => outcome.Case.Expected))
        {
            output.WriteLine($"  expected {expectation.Key}: {expectation.Count()}");
        }

        foreach (var slow in outcomes.OrderByDescending(outcome => outcome.Elapsed).Take(5))
        {
            output.WriteLine($"  slow: {slow.Case} {slow.Elapsed.TotalMilliseconds:F0} ms");
        }

        foreach (var failure in outcomes.Where(outcome => outcome.Problem is not null))
        {
            output.WriteLine($"  FAILED {failure}");
        }
    }

    private async Task AssertServicesAnswerAsync()
    {
        var targets = new List<(string Name, HttpClient Client)> { ("gateway", fixture.CreateGatewayClient()) };
        targets.AddRange(Enumerable.Range(0, AspireAppFixture.ModelServerCount)
            .Select(index => (AspireAppFixture.ModelServerName(index), fixture.CreateModelServerClient(index))));
        foreach (var (name, client) in targets)
        {
            using (client)
            {
                foreach (var (path, body) in new[]
                {
                    (HostileRequests.CompletionsPath, HostileRequests.ValidCompletion(AspireAppFixture.ModelId)),
                    (HostileRequests.ChatPath, HostileRequests.ValidChat(AspireAppFixture.ModelId)),
                })
                {
                    var outcome = await SendAsync(client, new HostileRequests.Case("good request afterwards", "POST", path, Encoding.UTF8.GetBytes(body), "application/json", HostileRequests.Expect.Success));
                    Assert.True(outcome.Problem is null, $"{name} did not answer a good request after the sweep: {outcome}");
                }
            }
        }
    }

    private sealed record Outcome(HostileRequests.Case Case, int? Status, string? Problem, TimeSpan Elapsed, byte[] Body)
    {
        public override string ToString() =>
            $"{Case} → {Status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no answer"} in {Elapsed.TotalMilliseconds:F0} ms: {Problem ?? "ok"}"
            + (Body.Length > 0 ? $" body: {Encoding.UTF8.GetString(Body, 0, Math.Min(Body.Length, 240))}" : "");
    }
}
