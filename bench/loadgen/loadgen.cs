// A lean HTTP load generator for bench/gateway-capacity.sh (a .NET file-based app: `dotnet build -c Release
// bench/loadgen/loadgen.cs`). `bench serve` parses every answer and keeps per-token timings, which costs more CPU than
// the gateway it measures at thousands of requests a second; this only POSTs a fixed body and times each answer.
//
//   loadgen --url U [--url U2 ...] --body JSON [--header 'Name: value' ...] --duration S [--warmup S]
//           (--rate R | --connections C)
//
// --rate R: open loop, R requests a second on a fixed schedule whatever the answers do (so a slow server cannot slow
// the arrivals down); latency is timed from each request's scheduled start, so a late send counts against the
// server and not in its favour; at most --max-connections (256) per URL. --connections C: closed loop, C requests always in flight, for the saturation rate.
// URLs are taken in turn. Prints one JSON line: achieved req/s, ok and failed counts, p50/p90/p99 in ms.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;

var urls = new List<Uri>();
var headers = new List<(string Name, string Value)>();
string body = "{}";
double rate = 0, duration = 10, warmup = 2;
var connections = 0;
var maxConnections = 256;
for (var i = 0; i < args.Length; i += 2)
{
    var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--url": urls.Add(new Uri(value)); break;
        case "--body": body = value; break;
        case "--header":
            var colon = value.IndexOf(':', StringComparison.Ordinal);
            headers.Add((value[..colon].Trim(), value[(colon + 1)..].Trim()));
            break;
        case "--rate": rate = double.Parse(value, CultureInfo.InvariantCulture); break;
        case "--connections": connections = int.Parse(value, CultureInfo.InvariantCulture); break;
        case "--max-connections": maxConnections = int.Parse(value, CultureInfo.InvariantCulture); break;
        case "--duration": duration = double.Parse(value, CultureInfo.InvariantCulture); break;
        case "--warmup": warmup = double.Parse(value, CultureInfo.InvariantCulture); break;
        default: throw new ArgumentException($"unknown option {args[i]}");
    }
}

if (urls.Count == 0 || (rate <= 0) == (connections <= 0))
{
    Console.Error.WriteLine("usage: loadgen --url U [--url U2 ...] --body JSON [--header 'N: v'] --duration S [--warmup S] (--rate R | --connections C)");
    return 2;
}

using var client = new HttpClient(new SocketsHttpHandler
{
    UseProxy = false,
    UseCookies = false,
    AutomaticDecompression = DecompressionMethods.None,
    PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
    // Open loop: requests beyond this many in flight per URL wait for a connection (their wait counts in their
    // latency), rather than opening sockets without bound when the target falls behind.
    MaxConnectionsPerServer = connections > 0 ? connections : maxConnections,
})
{ Timeout = TimeSpan.FromSeconds(30) };
var payload = Encoding.UTF8.GetBytes(body);
var next = 0;

// One request; its latency in Stopwatch ticks from `from` (the scheduled start), or -1 when it failed.
async Task<long> SendAsync(long from)
{
    var url = urls[(int)((uint)Interlocked.Increment(ref next) % (uint)urls.Count)];
    using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(payload) };
    request.Content.Headers.ContentType = new("application/json");
    foreach (var (name, value) in headers)
    {
        request.Headers.TryAddWithoutValidation(name, value);
    }

    try
    {
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead).ConfigureAwait(false);
        return response.StatusCode == HttpStatusCode.OK ? Stopwatch.GetTimestamp() - from : -1;
    }
    catch (HttpRequestException)
    {
        return -1;
    }
    catch (TaskCanceledException)
    {
        return -1;
    }
}

// Runs for `seconds`; records only when `record`. Returns the latencies (ticks) and the failures.
async Task<(List<long> Latencies, int Failed, double Elapsed)> RunAsync(double seconds, bool record)
{
    var latencies = new List<long>(1 << 16);
    var failed = 0;
    var gate = new object();
    void Record(long ticks)
    {
        if (!record)
        {
            return;
        }

        lock (gate)
        {
            if (ticks < 0) { failed++; } else { latencies.Add(ticks); }
        }
    }

    var start = Stopwatch.GetTimestamp();
    var end = start + (long)(seconds * Stopwatch.Frequency);
    if (connections > 0)
    {
        var workers = Enumerable.Range(0, connections).Select(async _ =>
        {
            while (Stopwatch.GetTimestamp() < end)
            {
                Record(await SendAsync(Stopwatch.GetTimestamp()).ConfigureAwait(false));
            }
        }).ToArray();
        await Task.WhenAll(workers).ConfigureAwait(false);
    }
    else
    {
        // The schedule runs on its own thread: request i is due at start + i / rate.
        var inFlight = new List<Task>(1 << 16);
        var interval = Stopwatch.Frequency / rate;
        var scheduler = new Thread(() =>
        {
            for (long i = 0; ; i++)
            {
                var due = start + (long)(i * interval);
                if (due >= end)
                {
                    break;
                }

                while (Stopwatch.GetTimestamp() < due)
                {
                    var wait = (due - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency;
                    if (wait >= 2) { Thread.Sleep(1); } else { Thread.Yield(); }
                }

                inFlight.Add(Task.Run(async () => Record(await SendAsync(due).ConfigureAwait(false))));
            }
        }) { IsBackground = true, Priority = ThreadPriority.AboveNormal };
        scheduler.Start();
        scheduler.Join();
        await Task.WhenAll(inFlight).ConfigureAwait(false);
    }

    return (latencies, failed, (Stopwatch.GetTimestamp() - start) / (double)Stopwatch.Frequency);
}

ThreadPool.SetMinThreads(Math.Max(connections, 64), 64);
if (warmup > 0)
{
    await RunAsync(warmup, record: false).ConfigureAwait(false);
}

var (all, failures, elapsed) = await RunAsync(duration, record: true).ConfigureAwait(false);
all.Sort();
double Percentile(double p) => all.Count == 0 ? double.NaN : all[Math.Min(all.Count - 1, (int)(p * all.Count))] * 1000.0 / Stopwatch.Frequency;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{{\"rps\":{all.Count / Math.Min(elapsed, duration):F1},\"ok\":{all.Count},\"failed\":{failures},\"p50_ms\":{Percentile(0.50):F3},\"p90_ms\":{Percentile(0.90):F3},\"p99_ms\":{Percentile(0.99):F3}}}"));
return 0;
