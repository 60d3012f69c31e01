using System.Globalization;
using System.Text.Json.Serialization;

namespace LlmAspire.Cli.Benchmarking;

/// <summary>A model server's vLLM gauges at one moment: requests running and waiting, and the share of KV positions held.</summary>
public sealed record SoakGauges(
    [property: JsonPropertyName("server")] string Server,
    [property: JsonPropertyName("num_requests_running")] double Running,
    [property: JsonPropertyName("num_requests_waiting")] double Waiting,
    [property: JsonPropertyName("kv_cache_usage_perc")] double KvCacheUsage)
{
    /// <summary>Nothing running, nothing waiting, no KV row held.</summary>
    [JsonIgnore]
    public bool IsIdle => Running == 0 && Waiting == 0 && KvCacheUsage == 0;

    /// <summary>Reads the gauges from <paramref name="server"/>'s <c>/metrics</c> (each summed over its series).</summary>
    public static async Task<SoakGauges> ReadAsync(HttpClient http, Uri server, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(server);
        var text = await http.GetStringAsync(new Uri(server, "/metrics"), cancellationToken);
        return Parse(server.ToString(), text);
    }

    /// <summary>The gauges in a Prometheus text exposition.</summary>
    public static SoakGauges Parse(string server, string metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        double running = 0, waiting = 0, kv = 0;
        foreach (var line in metrics.Split('\n'))
        {
            // name{labels} value
            var space = line.LastIndexOf(' ');
            if (line.StartsWith('#') || space < 0)
            {
                continue;
            }

            var brace = line.IndexOf('{');
            var name = brace >= 0 && brace < space ? line[..brace] : line[..space];
            if (!double.TryParse(line[(space + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                continue;
            }

            switch (name)
            {
                case "vllm:num_requests_running":
                    running += value;
                    break;
                case "vllm:num_requests_waiting":
                    waiting += value;
                    break;
                case "vllm:kv_cache_usage_perc":
                    kv += value;
                    break;
            }
        }

        return new SoakGauges(server, running, waiting, kv);
    }

    /// <summary>
    /// Polls every server until all are idle or <paramref name="timeout"/> passes (a dropped stream is freed within an
    /// engine step, but the servers learn of it through the gateway); the last reading either way.
    /// </summary>
    public static async Task<IReadOnlyList<SoakGauges>> SettleAsync(HttpClient http, IReadOnlyList<Uri> servers, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(servers);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var gauges = await Task.WhenAll(servers.Select(server => ReadAsync(http, server, cancellationToken)));
            if (gauges.All(g => g.IsIdle) || DateTime.UtcNow >= deadline)
            {
                return gauges;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        }
    }
}
