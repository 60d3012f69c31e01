using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using LlmAspire.Tests.AppHost;
using LlmAspire.Tests.Gateway.Routing;
using LlmAspire.Tests.Inference;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Xunit.Abstractions;

namespace LlmAspire.Tests.Gateway;

/// <summary>
/// A model server process killed (SIGKILL) under load, through the AppHost's gateway: the non-streamed requests it was
/// running are retried on another server within seconds, the streams it was sending end with an error event and close,
/// and it gets traffic again once restarted and healthy. The server is restarted and awaited healthy before the test
/// ends, since the topology is shared.
/// </summary>
/// <remarks>
/// The process killed is the one that serves: the one listening on the server's endpoint port (the AppHost does not
/// proxy model-server endpoints), a child of the <c>dotnet run</c> that Aspire starts for a project. Killing the wrapper
/// instead would leave the server running. The <c>resource-stop</c> command is not used: <c>dotnet run</c> does not pass
/// the orchestrator's stop signal on, so that command waits ~12 s, kills the tree and reports failure (state Unknown).
/// Killing the server itself is also the harsher case: the requests it was running are cut off mid-flight.
/// </remarks>
[Collection(AspireAppCollection.Name)]
public sealed class GatewayFailoverEndToEndTests(AspireAppFixture fixture, ITestOutputHelper output)
{
    /// <summary>How much longer than a normal request (the 95th percentile before the kill) a non-streamed request may take.</summary>
    private static readonly TimeSpan s_retryBound = TimeSpan.FromSeconds(10);

    /// <summary>How soon after the kill a stream it cut off must have ended.</summary>
    private static readonly TimeSpan s_streamEndBound = TimeSpan.FromSeconds(5);

    /// <summary>How long after the kill a stream the server had already finished may still be read to its end.</summary>
    private static readonly TimeSpan s_inFlightBound = TimeSpan.FromSeconds(0.25);

    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan s_commandTimeout = TimeSpan.FromMinutes(2);

    private const int PlainWorkers = 8;
    private const int StreamWorkers = 4;

    [Stories260KFact]
    public async Task ModelServerKilledUnderLoad_RequestsRetriedWithinSeconds_StreamsEndWithAnErrorEvent_ItReturnsWhenHealthy()
    {
        var victim = AspireAppFixture.ModelServerName(AspireAppFixture.ModelServerCount - 1);
        using var client = fixture.CreateGatewayClient();
        using var stop = new CancellationTokenSource();
        var phase = "before";
        var plain = new ConcurrentQueue<PlainResult>();
        var streams = new ConcurrentQueue<StreamResult>();
        var streaming = new ConcurrentDictionary<int, (string Server, int Events)>();
        var clock = Stopwatch.StartNew();
        await using var stalls = new ClientStalls(clock);

        var workers = Enumerable.Range(0, PlainWorkers)
            .Select(worker => Task.Run(() => RunPlainAsync(client, worker, () => phase, clock, plain, stop.Token)))
            .Concat(Enumerable.Range(0, StreamWorkers)
                .Select(worker => Task.Run(() => RunStreamsAsync(client, worker, clock, streams, streaming, stop.Token))))
            .ToArray();

        TimeSpan killedAt;
        try
        {
            await InProcessGateway.WaitUntilAsync(
                () => plain.Count(result => result.Server == victim) >= 8 && streams.Count(result => result.Server == victim) >= 2,
                s_timeout,
                $"{victim} serves requests and streams");

            // Kill while the victim runs a stream well under way and non-streamed requests (its own count, from /metrics,
            // beyond the streams the test sees), so both kinds are surely cut off.
            using var victimClient = fixture.CreateModelServerClient(AspireAppFixture.ModelServerCount - 1);
            await InProcessGateway.WaitUntilAsync(
                async () =>
                {
                    var streamsThere = streaming.Values.Where(stream => stream.Server == victim).ToList();
                    return streamsThere.Any(stream => stream.Events is > 0 and < 50)
                        && await RequestsInFlightAsync(victimClient) - streamsThere.Count >= 1;
                },
                s_commandTimeout,
                $"{victim} runs a stream well under way and a non-streamed request");
            output.WriteLine($"retries before the kill: {await RetriesAsync(client)}");
            var server = ServingProcess(victim);
            phase = "killed";
            killedAt = clock.Elapsed;
            server.Kill();
            output.WriteLine($"killed {victim}: process {server.Id} ({server.ProcessName}) at {killedAt.TotalSeconds:F1} s");
            await fixture.App.ResourceNotifications.WaitForResourceAsync(
                victim, [KnownResourceStates.Exited, KnownResourceStates.Finished]).WaitAsync(s_commandTimeout);
            output.WriteLine($"the orchestrator saw it exit after {(clock.Elapsed - killedAt).TotalSeconds:F1} s");

            // Keep the load on past passive health's reactivation period (10 s), when the dead server is offered requests again.
            await Task.Delay(TimeSpan.FromSeconds(12));

            phase = "restarting";
            var started = await fixture.App.ResourceCommands.ExecuteCommandAsync(victim, KnownResourceCommands.StartCommand).WaitAsync(s_commandTimeout);
            Assert.True(started.Success, started.Message);
            await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync(victim).WaitAsync(s_commandTimeout);
            var healthyAt = clock.Elapsed;
            output.WriteLine($"{victim} healthy again {(healthyAt - killedAt).TotalSeconds:F1} s after the kill");

            phase = "restarted";
            await InProcessGateway.WaitUntilAsync(
                () => plain.Any(result => result.Phase == "restarted" && result.Server == victim),
                s_timeout,
                $"the gateway sends {victim} requests again");
            output.WriteLine($"{victim} served again {(clock.Elapsed - healthyAt).TotalSeconds:F1} s after it was healthy");
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(workers).WaitAsync(s_timeout);
            if (!fixture.App.ResourceNotifications.TryGetCurrentState(victim, out var state) || state.Snapshot.HealthStatus != HealthStatus.Healthy)
            {
                await fixture.App.ResourceCommands.ExecuteCommandAsync(victim, KnownResourceCommands.StartCommand).WaitAsync(s_commandTimeout);
                await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync(victim).WaitAsync(s_commandTimeout);
            }
        }

        Report(plain, streams, victim, killedAt);
        output.WriteLine($"this process: {stalls.Describe()}");
        output.WriteLine($"retries in all: {await RetriesAsync(client)}");

        // Some request met the dead server (in flight at the kill, or sent to it before the gateway knew) and was retried
        // elsewhere; which ones depends on where the balancer had put them at that instant, so none in particular is required.
        Assert.Contains(plain, result => result.End > killedAt && result.RetriedFrom == victim);
        var failures = plain.Where(result => result.Failure is not null).ToList();
        Assert.True(failures.Count == 0, $"{failures.Count} requests failed:\n{string.Join('\n', failures.Take(20).Select(f => f.Failure))}");

        // Requests in flight at the kill were retried within seconds: none after it took much longer than a normal one.
        // What the client measures includes any time this process itself stood still (a CI run once saw every request
        // end 22 s late, on all servers at once); that time is not the system's and is taken out.
        var normal = Percentile95(plain.Where(result => result.End < killedAt).Select(result => result.Duration));
        var slowest = plain.Where(result => result.End >= killedAt).MaxBy(result => result.Duration - stalls.Within(result.Start, result.End))!;
        var stalled = stalls.Within(slowest.Start, slowest.End);
        var meanwhile = plain.Where(result => result != slowest && result.End > slowest.Start && result.End < slowest.End).ToList();
        Assert.True(
            slowest.Duration - stalled <= normal + s_retryBound,
            $"A request took {slowest.Duration.TotalSeconds:F1} s, {stalled.TotalSeconds:F1} s of which this process stood still "
                + $"(started {slowest.Start.TotalSeconds:F1} s, on {slowest.Server}); before the kill 95 % took at most {normal.TotalSeconds:F2} s. "
                + $"Meanwhile {meanwhile.Count} other requests ended ("
                + string.Join(", ", meanwhile.GroupBy(result => result.Server).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}={g.Count()}"))
                + $"); this process: {stalls.Describe()}.");

        // Every stream either completed or ended with one error event and a clean close; the ones the kill cut off, soon after it.
        Assert.All(streams, stream => Assert.True(
            stream.Outcome is StreamOutcome.Done or StreamOutcome.ErrorEvent,
            $"A stream from {stream.Server} started at {stream.Start.TotalSeconds:F1} s ended {stream.Outcome}: {stream.Detail}"));
        // Every stream running on the victim when it died was cut off with an error event. Whether one was running there
        // at that instant depends on the balancer (a CI run had none), so that set may be empty; other runs show it is not.
        // One the server finished just before the kill ends Done, though this process may read its last line a moment
        // after the kill (a CI run read one 0.05 s after, while its thread pool stalled): such a stream must have ended
        // within the time bytes already sent take to arrive, less any time this process stood still.
        var cutOff = streams.Where(stream => stream.Outcome == StreamOutcome.ErrorEvent).ToList();
        Assert.All(
            streams.Where(stream => stream.Server == victim && stream.Start <= killedAt && stream.End > killedAt),
            stream =>
            {
                if (stream.Outcome == StreamOutcome.Done)
                {
                    var late = stream.End - killedAt - stalls.Within(killedAt, stream.End);
                    Assert.True(
                        late <= s_inFlightBound,
                        $"A stream on {victim} ended Done {late.TotalSeconds:F2} s after the kill (not counting this process's stalls): it was not cut off with an error event.");
                }
                else
                {
                    Assert.Equal(StreamOutcome.ErrorEvent, stream.Outcome);
                }
            });
        Assert.All(cutOff, stream =>
        {
            Assert.Equal(victim, stream.Server);
            Assert.InRange(stream.End, killedAt, killedAt + s_streamEndBound);
        });

        Assert.Contains(plain, result => result.Phase == "restarted" && result.Server == victim);
    }

    /// <summary>The requests a model server is running or has queued, from its <c>/metrics</c>.</summary>
    private static async Task<double> RequestsInFlightAsync(HttpClient server)
    {
        var text = await server.GetStringAsync(new Uri("/metrics", UriKind.Relative)).WaitAsync(s_timeout);
        return text.Split('\n')
            .Where(line => line.StartsWith("vllm:num_requests_running{", StringComparison.Ordinal)
                || line.StartsWith("vllm:num_requests_waiting{", StringComparison.Ordinal))
            .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    }

    /// <summary>The gateway's retries so far by server and reason, from its <c>/metrics</c>.</summary>
    private static async Task<string> RetriesAsync(HttpClient gateway)
    {
        var text = await gateway.GetStringAsync(new Uri("/metrics", UriKind.Relative)).WaitAsync(s_timeout);
        return string.Join("; ", text.Split('\n').Where(line => line.StartsWith("llmaspire_gateway_retries_total{", StringComparison.Ordinal)));
    }

    private static TimeSpan Percentile95(IEnumerable<TimeSpan> durations)
    {
        var sorted = durations.Order().ToList();
        return sorted[(int)Math.Ceiling(0.95 * sorted.Count) - 1];
    }

    private static async Task RunPlainAsync(
        HttpClient client, int worker, Func<string> phase, Stopwatch clock, ConcurrentQueue<PlainResult> results, CancellationToken stop)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var current = phase();
            var start = clock.Elapsed;
            try
            {
                using var response = await client.PostAsJsonAsync(
                    new Uri("/v1/completions", UriKind.Relative),
                    new Dictionary<string, object>
                    {
                        ["model"] = AspireAppFixture.ModelId,
                        ["prompt"] = $"Worker {worker} tells story {i}:",
                        ["max_tokens"] = 64,
                        ["temperature"] = 0.8,
                    }).WaitAsync(s_timeout);
                var body = await response.Content.ReadAsStringAsync().WaitAsync(s_timeout);
                results.Enqueue(new PlainResult(
                    current,
                    start,
                    clock.Elapsed,
                    response.Headers.TryGetValues("x-llmaspire-server", out var servers) ? servers.Single() : "(none)",
                    response.Headers.TryGetValues("x-llmaspire-retried-from", out var retriedFrom) ? retriedFrom.Single() : null,
                    response.StatusCode == HttpStatusCode.OK ? null : $"{current}: {(int)response.StatusCode} {body}"));
            }
            catch (Exception exception) when (exception is HttpRequestException or TimeoutException or TaskCanceledException)
            {
                results.Enqueue(new PlainResult(current, start, clock.Elapsed, "(none)", null, $"{current}: {exception.GetType().Name} {exception.Message}"));
            }
        }
    }

    private static async Task RunStreamsAsync(
        HttpClient client,
        int worker,
        Stopwatch clock,
        ConcurrentQueue<StreamResult> results,
        ConcurrentDictionary<int, (string Server, int Events)> streaming,
        CancellationToken stop)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var start = clock.Elapsed;
            var server = "(none)";
            var outcome = StreamOutcome.Truncated;
            var detail = "";
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/completions", UriKind.Relative))
                {
                    Content = JsonContent.Create(new Dictionary<string, object>
                    {
                        ["model"] = AspireAppFixture.ModelId,
                        ["prompt"] = $"Streamer {worker} tells story {i}:",
                        ["max_tokens"] = 300,
                        ["temperature"] = 0.8,
                        ["stream"] = true,
                    }),
                };
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(s_timeout);
                server = response.Headers.TryGetValues("x-llmaspire-server", out var servers) ? servers.Single() : "(none)";
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    outcome = StreamOutcome.Refused;
                    detail = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync().WaitAsync(s_timeout)}";
                }
                else
                {
                    using var reader = new StreamReader(await response.Content.ReadAsStreamAsync().WaitAsync(s_timeout));
                    var events = 0;
                    while (await reader.ReadLineAsync().WaitAsync(s_timeout) is { } line)
                    {
                        if (outcome is not StreamOutcome.Truncated && line.Length > 0)
                        {
                            outcome = StreamOutcome.EventAfterTheEnd;
                            detail = line;
                        }
                        else if (line == "data: [DONE]")
                        {
                            outcome = StreamOutcome.Done;
                        }
                        else if (line.StartsWith("data: {\"error\":", StringComparison.Ordinal))
                        {
                            outcome = StreamOutcome.ErrorEvent;
                            detail = line;
                        }
                        else if (line.StartsWith("data: ", StringComparison.Ordinal))
                        {
                            streaming[worker] = (server, ++events);
                        }
                    }
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or IOException or TimeoutException or TaskCanceledException)
            {
                outcome = StreamOutcome.Broken;
                detail = $"{exception.GetType().Name} {exception.Message}";
            }
            finally
            {
                streaming.TryRemove(worker, out _);
            }

            if (!stop.IsCancellationRequested)
            {
                results.Enqueue(new StreamResult(start, clock.Elapsed, server, outcome, detail));
            }
        }
    }

    /// <summary>The process that serves <paramref name="resourceName"/>: the one listening on its endpoint's port.</summary>
    private Process ServingProcess(string resourceName)
    {
        var port = fixture.App.GetEndpoint(resourceName, "http").Port;
        var inodes = ListeningSocketInodes(port);
        Assert.True(inodes.Count > 0, $"Nothing listens on {resourceName}'s port {port}.");
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                foreach (var descriptor in Directory.EnumerateFileSystemEntries(Path.Combine(directory, "fd")))
                {
                    if (File.ResolveLinkTarget(descriptor, returnFinalTarget: false)?.Name is { } target && inodes.Contains(target))
                    {
                        var process = Process.GetProcessById(pid);
                        Assert.StartsWith("LlmAspire.Model", process.ProcessName, StringComparison.Ordinal);
                        return process;
                    }
                }
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentException)
            {
                // A process that exited meanwhile, or one we may not look into.
            }
        }

        throw new InvalidOperationException($"No process holds the socket listening on port {port}.");
    }

    /// <summary>The <c>socket:[inode]</c> names of the TCP sockets listening on <paramref name="port"/> (Linux: /proc/net/tcp{,6}).</summary>
    private static HashSet<string> ListeningSocketInodes(int port)
    {
        const string Listen = "0A";
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var local = fields[1];
                if (fields[3] == Listen && int.Parse(local[(local.LastIndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == port)
                {
                    inodes.Add($"socket:[{fields[9]}]");
                }
            }
        }

        return inodes;
    }

    private void Report(IEnumerable<PlainResult> plain, IEnumerable<StreamResult> streams, string victim, TimeSpan killedAt)
    {
        foreach (var group in plain.GroupBy(result => result.Phase))
        {
            output.WriteLine($"{group.Key}: {group.Count()} requests, {group.Count(result => result.Retried)} retried, slowest {group.Max(result => result.Duration).TotalSeconds:F2} s; "
                + string.Join(", ", group.GroupBy(result => result.Server).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}={g.Count()}")));
        }

        var inFlight = plain.Where(result => result.Start <= killedAt && result.End > killedAt).ToList();
        var cutOff = inFlight.Where(result => result.RetriedFrom == victim).ToList();
        output.WriteLine($"in flight at the kill: {inFlight.Count} requests, {cutOff.Count} of them on {victim} and retried, "
            + $"slowest of those {cutOff.Select(result => result.Duration.TotalSeconds).DefaultIfEmpty().Max():F2} s");
        output.WriteLine($"streams: {string.Join(", ", streams.GroupBy(stream => stream.Outcome).Select(g => $"{g.Key}={g.Count()}"))}");
        foreach (var stream in streams.Where(stream => stream.Outcome != StreamOutcome.Done))
        {
            output.WriteLine($"  {stream.Server} {stream.Outcome} {(stream.End - killedAt).TotalSeconds:F2} s after the kill: {stream.Detail}");
        }

        output.WriteLine($"victim {victim}");
    }

    private sealed record PlainResult(string Phase, TimeSpan Start, TimeSpan End, string Server, string? RetriedFrom, string? Failure)
    {
        public TimeSpan Duration => End - Start;

        public bool Retried => RetriedFrom is not null;
    }

    private sealed record StreamResult(TimeSpan Start, TimeSpan End, string Server, StreamOutcome Outcome, string Detail);

    private enum StreamOutcome
    {
        Done,
        ErrorEvent,
        Truncated,
        Broken,
        Refused,
        EventAfterTheEnd,
    }
}
