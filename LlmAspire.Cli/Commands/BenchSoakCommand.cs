using System.CommandLine;
using System.Globalization;
using LlmAspire.Cli.Benchmarking;

namespace LlmAspire.Cli.Commands;

/// <summary>
/// <c>bench soak</c>: many mixed requests (plain, streamed, dropped mid-stream, invalid) through the gateway, then
/// checks that nothing failed, that every model server's running/waiting/KV gauges return to 0, and that no process's
/// resident memory grew by more than the tolerance after the first phase. Exit code 1 when a check fails.
/// </summary>
internal static class BenchSoakCommand
{
    public static Command Create()
    {
        var gateway = new Option<string>("--gateway") { Description = "Where the requests go, e.g. http://127.0.0.1:18180", Required = true };
        var servers = new Option<string>("--servers") { Description = "Model servers whose /metrics gauges must return to 0, comma-separated", Required = true };
        var pids = new Option<string?>("--pids") { Description = "Processes (servers, gateway) whose VmRSS is compared, comma-separated" };
        var requests = new Option<int>("--requests") { Description = "Requests in all", DefaultValueFactory = _ => 20_000 };
        var concurrency = new Option<int>("--concurrency") { Description = "Requests in flight at once", DefaultValueFactory = _ => 16 };
        var checkpoint = new Option<int>("--checkpoint") { Description = "Read the gauges and memory after this many requests, and after every this many more", DefaultValueFactory = _ => 2_000 };
        var seed = new Option<int>("--seed") { Description = "Seed of the request mix", DefaultValueFactory = _ => 0 };
        var model = new Option<string?>("--model") { Description = "The model field of valid requests (default: none, the gateway's default)" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "max_tokens of plain and streamed requests", DefaultValueFactory = _ => 16 };
        var tolerance = new Option<double>("--rss-tolerance") { Description = "Largest accepted RSS growth after the checkpoint (0.1 = 10 %)", DefaultValueFactory = _ => 0.10 };
        var timeout = new Option<double>("--timeout") { Description = "Seconds one request may take", DefaultValueFactory = _ => 60 };
        var resultJson = new Option<FileInfo?>("--result-json") { Description = "Write the result here" };

        var command = new Command("soak", "Soak the gateway and model servers with mixed requests; check that gauges return to 0 and memory stays flat.")
        {
            gateway, servers, pids, requests, concurrency, checkpoint, seed, model, maxTokens, tolerance, timeout, resultJson,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            SoakSettings settings;
            try
            {
                settings = new SoakSettings(
                    new Uri(parse.GetRequiredValue(gateway)),
                    [.. Split(parse.GetRequiredValue(servers)).Select(url => new Uri(url))],
                    [.. Split(parse.GetValue(pids)).Select(pid => int.Parse(pid, CultureInfo.InvariantCulture))],
                    parse.GetValue(requests),
                    parse.GetValue(concurrency),
                    parse.GetValue(checkpoint),
                    parse.GetValue(seed),
                    parse.GetValue(model),
                    parse.GetValue(maxTokens),
                    TimeSpan.FromSeconds(parse.GetValue(timeout)),
                    RssTolerance: parse.GetValue(tolerance));
            }
            catch (FormatException ex)
            {
                await Console.Error.WriteLineAsync(ex.Message);
                return 2;
            }

            Console.WriteLine($"bench soak: {settings.Requests} requests, {settings.Concurrency} at a time, through {settings.Gateway}; servers {string.Join(", ", settings.Servers)}; checkpoint after {settings.Checkpoint}");
            var lastReport = 0;
            var progress = new Progress<int>(done =>
            {
                if (done - Volatile.Read(ref lastReport) >= 1000 || done == settings.Requests)
                {
                    Volatile.Write(ref lastReport, done);
                    Console.Error.WriteLine($"  {done} done");
                }
            });
            var result = await SoakBenchmark.RunAsync(settings, progress, cancellationToken);
            Console.WriteLine(result.Format());
            if (parse.GetValue(resultJson) is { } file)
            {
                await result.WriteAsync(file.FullName, cancellationToken);
                Console.WriteLine($"result: {file.FullName}");
            }

            return result.Passed ? 0 : 1;
        });
        return command;
    }

    private static IEnumerable<string> Split(string? list) =>
        (list ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
