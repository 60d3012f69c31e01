using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using LlmAspire.Cli.Benchmarking;
using LlmAspire.Cli.Errors;
using Spectre.Console;

namespace LlmAspire.Cli.Commands;

/// <summary>
/// <c>bench serve</c>: drives any OpenAI-compatible server (the gateway, one model server, or another project's) with
/// streamed requests (or non-streamed ones, or a mix: <c>--stream-ratio</c>) and reports vLLM benchmark_serving's
/// metrics; see <see cref="BenchmarkMetrics"/> for their definitions. Failures are counted apart by kind: non-streamed
/// requests, streams broken after they began, streams refused before.
/// </summary>
internal static class BenchServeCommand
{
    public static Command Create()
    {
        var baseUrl = new Option<string>("--base-url") { Description = "Server root, e.g. http://localhost:5080 (a trailing /v1 is accepted)", Required = true }.MustParse(text => ParseBaseUrl(text));
        var endpoint = new Option<BenchEndpoint>("--endpoint") { Description = "completions (/v1/completions) or chat (/v1/chat/completions)", DefaultValueFactory = _ => BenchEndpoint.Completions };
        var model = new Option<string?>("--model") { Description = "Model name to request (default: the first of /v1/models)" };
        var apiKey = new Option<string?>("--api-key") { Description = "Bearer key (default: $OPENAI_API_KEY when set)" };
        var requestRate = new Option<string>("--request-rate") { Description = "Requests per second, or inf; comma-separated for a sweep (1,2,4,8)", DefaultValueFactory = _ => "inf" }.MustParse(text => ParseRates(text));
        var burstiness = new Option<double>("--burstiness") { Description = "Gamma shape of inter-arrival times: 1 Poisson, <1 burstier, >1 steadier", DefaultValueFactory = _ => 1.0 }.GreaterThan(0.0);
        var maxConcurrency = new Option<int?>("--max-concurrency") { Description = "At most this many requests in flight (with --request-rate inf: a closed loop)" }.AtLeast(1);
        var numPrompts = new Option<int>("--num-prompts") { Description = "Requests per rate", DefaultValueFactory = _ => 100 }.AtLeast(1);
        var warmup = new Option<int>("--warmup") { Description = "Warm-up requests before each rate, excluded from the metrics", DefaultValueFactory = _ => 2 }.AtLeast(0);
        var dataset = new Option<string>("--dataset") { Description = "random, shared-prefix or jsonl", DefaultValueFactory = _ => "random" };
        dataset.AcceptOnlyFromAmong("random", "shared-prefix", "jsonl");
        var inputLen = new Option<int>("--random-input-len") { Description = "Prompt length in words (≈ tokens) for random; the suffix length for shared-prefix", DefaultValueFactory = _ => 32 }.AtLeast(1);
        var outputLen = new Option<int>("--random-output-len") { Description = "max_tokens of each request", DefaultValueFactory = _ => 64 }.AtLeast(1);
        var groups = new Option<int>("--shared-prefix-groups") { Description = "Distinct shared prefixes", DefaultValueFactory = _ => 4 }.AtLeast(1);
        var prefixLen = new Option<int>("--shared-prefix-len") { Description = "Words in each shared prefix", DefaultValueFactory = _ => 192 }.AtLeast(0);
        var jsonl = new Option<FileInfo?>("--jsonl") { Description = "Prompts, one JSON string or {\"prompt\":…, \"max_tokens\":…} per line" };
        var seed = new Option<int>("--seed") { Description = "Seed of prompts and arrival times", DefaultValueFactory = _ => 0 };
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature (0: greedy, deterministic, cacheable)", DefaultValueFactory = _ => 0 }.AtLeast(0.0);
        var noStream = new Option<bool>("--no-stream") { Description = "Send non-streamed requests (TTFT is then the whole latency)" };
        var streamRatio = new Option<double?>("--stream-ratio") { Description = "Stream this share of the requests (0-1), interleaved evenly with non-streamed ones; the report counts failed non-streamed requests and broken streams apart" };
        streamRatio.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double?>() is { } ratio && ratio is < 0 or > 1)
            {
                result.AddError("--stream-ratio must be between 0 and 1.");
            }
        });
        var goodput = new Option<string[]>("--goodput") { Description = "SLOs in ms for goodput: ttft:500 tpot:50 e2el:2000", AllowMultipleArgumentsPerToken = true };
        var resultJson = new Option<FileInfo?>("--result-json") { Description = "Write the result (metrics and every request) here" };
        var plotDir = new Option<DirectoryInfo?>("--plot-dir") { Description = "Write latency CDFs (and for a sweep, throughput and TTFT against rate) here" };
        var plotFormat = new Option<string>("--plot-format") { Description = "png or svg", DefaultValueFactory = _ => "png" };
        plotFormat.AcceptOnlyFromAmong("png", "svg");
        var label = new Option<string>("--label") { Description = "Name of this setup in the result, plots and comparisons", DefaultValueFactory = _ => "bench" };
        var timeout = new Option<double>("--timeout") { Description = "Seconds one request may take, stream included (then it counts as failed)", DefaultValueFactory = _ => 600 }.GreaterThan(0.0);

        var command = new Command("serve", "Load-test an OpenAI-compatible server with streamed requests: TTFT, TPOT, ITL, E2E latency, throughput, goodput (vLLM's benchmark_serving metrics).")
        {
            baseUrl, endpoint, model, apiKey, requestRate, burstiness, maxConcurrency, numPrompts, warmup, dataset, inputLen, outputLen,
            groups, prefixLen, jsonl, seed, temperature, noStream, streamRatio, goodput, resultJson, plotDir, plotFormat, label, timeout,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(noStream) && result.GetResult(streamRatio) is not null)
            {
                result.AddError("--no-stream and --stream-ratio cannot be used together (--stream-ratio 0 sends none streamed).");
            }
        });
        command.Validators.Add(result =>
        {
            if (result.GetValue(dataset) == "jsonl" && result.GetResult(jsonl) is null)
            {
                result.AddError("--dataset jsonl needs --jsonl FILE (one JSON string or {\"prompt\": …} per line)");
            }
        });
        command.Validators.Add(result =>
        {
            if (result.GetResult(goodput) is { Tokens.Count: > 0 } slo)
            {
                try
                {
                    GoodputSlo.Parse(slo.Tokens.Select(t => t.Value));
                }
                catch (FormatException ex)
                {
                    result.AddError($"--goodput: {ex.Message}");
                }
            }
        });
        command.SetGuardedAction(async (parse, cancellationToken) =>
        {
            TextWriter stdout = parse.InvocationConfiguration.Output;
            double[] rates = ParseRates(parse.GetRequiredValue(requestRate));
            GoodputSlo slo = GoodputSlo.Parse(parse.GetValue(goodput) ?? []);
            int count = parse.GetValue(numPrompts);
            int warm = parse.GetValue(warmup);
            int s = parse.GetValue(seed);
            string kind = parse.GetRequiredValue(dataset);
            int input = parse.GetValue(inputLen);
            int output = parse.GetValue(outputLen);
            string? jsonlFile = kind == "jsonl"
                ? CommandPaths.ExistingFile(parse.GetValue(jsonl)!, "prompt file", "pass --jsonl a JSON Lines file of prompts")
                : null;
            string? resultFile = parse.GetValue(resultJson) is { } resultInfo ? CommandPaths.WritableFile(resultInfo, "--result-json") : null;
            string? plotFolder = parse.GetValue(plotDir) is { } plotInfo ? CommandPaths.WritableFolder(plotInfo, "--plot-dir") : null;
            IReadOnlyList<BenchPrompt> Prompts(int n, int promptSeed) => kind switch
            {
                "shared-prefix" => PromptDatasets.SharedPrefix(n, parse.GetValue(groups), parse.GetValue(prefixLen), input, output, promptSeed),
                "jsonl" => PromptDatasets.Jsonl(jsonlFile!, n, output),
                _ => PromptDatasets.Random(n, input, output, promptSeed),
            };

            IReadOnlyList<BenchPrompt> prompts = Prompts(count, s);
            IReadOnlyList<BenchPrompt> warmupPrompts = kind == "jsonl" ? prompts.Take(warm).ToArray() : Prompts(warm, s + 1_000_003);
            if (parse.GetValue(streamRatio) is { } ratio)
            {
                prompts = StreamMix.Apply(prompts, ratio);
                warmupPrompts = StreamMix.Apply(warmupPrompts, ratio);
            }

            string root = parse.GetRequiredValue(baseUrl).TrimEnd('/');
            if (root.EndsWith("/v1", StringComparison.Ordinal))
            {
                root = root[..^3];
            }

            using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), MaxConnectionsPerServer = int.MaxValue })
            {
                BaseAddress = new Uri(root + "/"),
                Timeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
            };
            string? key = parse.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("OPENAI_API_KEY");
            string? modelName = parse.GetValue(model) ?? await FirstModelAsync(http, key, cancellationToken);
            double temp = parse.GetValue(temperature);
            var client = new OpenAiStreamClient(http, parse.GetValue(endpoint), modelName, key, temp, stream: !parse.GetValue(noStream));
            string name = parse.GetRequiredValue(label);
            await stdout.WriteLineAsync($"bench serve '{name}': {root} ({parse.GetValue(endpoint).ToString().ToLowerInvariant()}), model {modelName ?? "(none)"}, dataset {kind}, {count} prompts per rate, seed {s}, temperature {temp.ToString(CultureInfo.InvariantCulture)}");

            var runs = new List<BenchRun>();
            foreach (double rate in rates)
            {
                if (warmupPrompts.Count > 0)
                {
                    var (warmOutcomes, _) = await LoadRunner.RunAsync(client, warmupPrompts, new LoadShape(double.PositiveInfinity, 1, parse.GetValue(maxConcurrency), s), null, cancellationToken);
                    int failed = warmOutcomes.Count(o => !o.Success);
                    await stdout.WriteLineAsync($"warm-up: {warmOutcomes.Count} requests, {failed} failed{(failed > 0 ? ": " + warmOutcomes.First(o => !o.Success).Error : string.Empty)}");
                }

                var shape = new LoadShape(rate, parse.GetValue(burstiness), parse.GetValue(maxConcurrency), s);
                string title = $"{name} @ {(double.IsPositiveInfinity(rate) ? "inf" : rate.ToString("G", CultureInfo.InvariantCulture))} req/s";
                var (outcomes, duration) = await WithProgressAsync(parse.InvocationConfiguration, title, prompts.Count, progress => LoadRunner.RunAsync(client, prompts, shape, progress, cancellationToken));
                var run = new BenchRun
                {
                    RequestRate = rate, Burstiness = shape.Burstiness, MaxConcurrency = shape.MaxConcurrency, NumPrompts = prompts.Count,
                    Metrics = BenchmarkMetrics.Compute(outcomes, duration, slo), Requests = outcomes,
                };
                runs.Add(run);
                await stdout.WriteAsync(BenchReport.Format(run, slo));
            }

            var result = new BenchResult
            {
                Label = name, Date = DateTimeOffset.UtcNow, BaseUrl = root, Endpoint = parse.GetValue(endpoint), Model = modelName, Dataset = kind,
                Seed = s, Temperature = temp, Slo = slo.IsEmpty ? null : slo, Runs = runs,
            };
            if (resultFile is not null)
            {
                await result.WriteAsync(resultFile, cancellationToken);
                await stdout.WriteLineAsync($"result: {resultFile}");
            }

            if (plotFolder is not null)
            {
                foreach (string path in BenchPlots.Write(plotFolder, name, [.. runs.Select(r => (BenchPlots.RunName(name, r, runs.Count > 1), r))], parse.GetRequiredValue(plotFormat)))
                {
                    await stdout.WriteLineAsync($"plot: {path}");
                }
            }

            return runs.All(r => r.Metrics.Completed > 0) ? ExitCodes.Success : ExitCodes.Failure;
        });
        return command;
    }

    /// <summary>An absolute http or https URL; throws <see cref="FormatException"/> otherwise.</summary>
    public static Uri ParseBaseUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : throw new FormatException("not an http(s) URL; pass the server's root, e.g. http://localhost:5080");

    /// <summary>Parses "1,2,4,inf" into request rates.</summary>
    public static double[] ParseRates(string text) =>
        [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(r =>
            r.Equals("inf", StringComparison.OrdinalIgnoreCase) ? double.PositiveInfinity
            : double.TryParse(r, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 ? v
            : throw new FormatException($"'{r}' is not a request rate (a positive number or inf)."))];

    private static async Task<string?> FirstModelAsync(HttpClient http, string? key, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "v1/models");
            if (key is not null)
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
            }

            using HttpResponseMessage response = await http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            using JsonDocument document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
            return document.RootElement.TryGetProperty("data", out JsonElement data) && data.ValueKind == JsonValueKind.Array && data.GetArrayLength() > 0
                && data[0].TryGetProperty("id", out JsonElement id) ? id.GetString() : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>A Spectre.Console progress bar on a terminal; otherwise a carriage-return line on the error writer.</summary>
    private static async Task<T> WithProgressAsync<T>(InvocationConfiguration console, string title, int total, Func<IProgress<int>, Task<T>> work)
    {
        TextWriter log = console.Error;
        if (ReferenceEquals(console.Output, Console.Out) && ReferenceEquals(log, Console.Error) && !Console.IsOutputRedirected && !Console.IsErrorRedirected)
        {
            return await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .StartAsync(async context =>
                {
                    ProgressTask task = context.AddTask(title, maxValue: total);
                    T value = await work(new InlineProgress(done => task.Value = done));
                    task.Value = total;
                    return value;
                });
        }

        var last = DateTime.MinValue;
        var gate = new object();
        T result = await work(new InlineProgress(done =>
        {
            lock (gate)
            {
                if (done == total || DateTime.UtcNow - last > TimeSpan.FromSeconds(1))
                {
                    last = DateTime.UtcNow;
                    log.Write($"\r{title}: {done}/{total} requests done");
                }
            }
        }));
        await log.WriteLineAsync();
        return result;
    }

    /// <summary>Reports synchronously on the caller's thread (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
    private sealed class InlineProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
