using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using LlmAspire.Bench.Peers;
using LlmAspire.Inference.Engine;
using LlmAspire.Inference.Tokenization;

// bench peers: our engine, llama.cpp and ONNX Runtime GenAI on the same weights, in alternated rounds, one table.
var output = new Option<DirectoryInfo>("--out") { Description = "Folder for peers.md", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("bench", "results", "peers")) };
var work = new Option<DirectoryInfo>("--work")
{
    Description = "Folder for the models it writes (100M: ~1.5 GB in all); reused by later runs",
    DefaultValueFactory = _ => new DirectoryInfo(Path.Combine(Path.GetTempPath(), "llmaspire-bench-peers")),
};
var stories = new Option<DirectoryInfo?>("--stories260k")
{
    Description = "Folder with stories260K.bin and tok512.bin (default: $LLMASPIRE_SHARED_DIR/models/stories260K); tok512 is the 100M model's vocabulary too",
};
var rounds = new Option<int>("--rounds") { Description = "Timed rounds per peer (alternated), after one warm-up each", DefaultValueFactory = _ => 5 };
var tokens = new Option<int>("--tokens") { Description = "Tokens each stream decodes", DefaultValueFactory = _ => 128 };
var only = new Option<string?>("--only") { Description = "Comma-separated workloads: " + string.Join(", ", Workload.All.Select(w => w.Id)) };
var threads = new Option<string>("--threads")
{
    Description = "Thread counts, comma-separated: single-stream rows run at each, the others at the first",
    DefaultValueFactory = _ => "2,1",
};
var oursBrief = new Option<bool>("--ours-brief")
{
    Description = "Also run our engine with our kernels on its own workers that spin at most 50 µs between operators (ModelServer:Spinning=Brief), a column of its own",
};
var oursWithinRun = new Option<bool>("--ours-within-run")
{
    Description = "Also run our engine with ONNX Runtime's workers spinning between a step's operators (ModelServer:Spinning=WithinRun), a column of its own",
};
var genAiProfile = new Option<DirectoryInfo?>("--genai-profile")
{
    Description = "Also record ONNX Runtime's profile of GenAI's static-batch session here, one file per row (genai-<workload>-t<threads>_*.json; profiling slows it, so not for the table's figures; read them with llmaspire bench profile)",
};
var label = new Option<string?>("--label") { Description = "A line under the title (e.g. that this is a smoke run)" };
var sweep = new Option<bool>("--sweep")
{
    Description = "Only the throughput-against-streams rows (1, 4, 16, 64 streams of 100M fp32, 100M int8 and stories260K), with their plots; adds to --only",
};
var runC = new Option<FileInfo?>("--runc") { Description = "A single-threaded build of llama2.c's run.c (e.g. gcc -O3 -march=native -o run run.c -lm): a peer on the stories260K 1-stream row at 1 thread" };
var runCOpenMp = new Option<FileInfo?>("--runc-omp")
{
    Description = "An OpenMP build of run.c (e.g. gcc -O3 -march=native -fopenmp -o runomp run.c -lm), run with OMP_NUM_THREADS = threads: the stories260K 1-stream rows above 1 thread (and at 1 without --runc)",
};
var command = new RootCommand("LlmAspire vs llama.cpp (LLamaSharp, CPU) vs ONNX Runtime GenAI (and llama2.c's run.c) on the same weights, side by side.")
{
    output, work, stories, rounds, tokens, only, threads, label, sweep, runC, runCOpenMp, oursWithinRun, oursBrief, genAiProfile,
};
command.SetAction(async (parse, cancellationToken) =>
{
    int roundCount = parse.GetValue(rounds), tokenCount = parse.GetValue(tokens);
    int[] threadCounts = ParsePositive(parse.GetRequiredValue(threads), "--threads");
    if (roundCount < 1 || tokenCount < 1)
    {
        Console.Error.WriteLine("--rounds and --tokens must be at least 1.");
        return 2;
    }

    string[]? picked = parse.GetValue(only)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    string[] ids = parse.GetValue(sweep)
        ? [.. picked ?? [], .. Workload.All.Where(w => w.InSweep).Select(w => w.Id)]
        : picked ?? [.. Workload.All.Select(w => w.Id)];
    string[] unknown = [.. ids.Where(id => Workload.All.All(w => w.Id != id))];
    if (unknown.Length > 0)
    {
        Console.Error.WriteLine($"Unknown workload(s) {string.Join(", ", unknown)}; the workloads are {string.Join(", ", Workload.All.Select(w => w.Id))}.");
        return 2;
    }

    string? shared = Environment.GetEnvironmentVariable("LLMASPIRE_SHARED_DIR");
    string storiesFolder = parse.GetValue(stories)?.FullName
        ?? (shared is null ? string.Empty : Path.Combine(shared, "models", "stories260K"));
    if (!File.Exists(Path.Combine(storiesFolder, "tok512.bin")) || !File.Exists(Path.Combine(storiesFolder, "stories260K.bin")))
    {
        Console.Error.WriteLine("Give --stories260k a folder with stories260K.bin and tok512.bin (or set LLMASPIRE_SHARED_DIR).");
        return 2;
    }

    string? runCBinary = parse.GetValue(runC)?.FullName, runCOpenMpBinary = parse.GetValue(runCOpenMp)?.FullName;
    string? missing = new[] { runCBinary, runCOpenMpBinary }.FirstOrDefault(b => b is not null && !File.Exists(b));
    if (missing is not null)
    {
        Console.Error.WriteLine($"No run.c build at {missing}.");
        return 2;
    }

    TextWriter log = Console.Error;
    var bandwidth = threadCounts.Distinct().ToDictionary(t => t, t =>
    {
        double bytesPerSecond = ReadBandwidth.Measure(t);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"read bandwidth, {t} thread(s): {bytesPerSecond / 1e9:F1} GB/s"));
        return bytesPerSecond;
    });

    var files = new ModelFiles(parse.GetRequiredValue(work).FullName, storiesFolder, log);
    var vocabulary = SentencePieceBpeTokenizer.ReadLlama2c(Path.Combine(storiesFolder, "tok512.bin"), 512);
    const string promptText = "Once upon a time";
    int[] prompt = vocabulary.Encode(promptText, addBos: true);
    int[] prefillPrompt = PrefillPrompt(vocabulary);
    var results = new List<RowResult>();
    foreach (Workload workload in Workload.All.Where(w => ids.Contains(w.Id)))
    {
        PeerModel model = files.Get(workload.Model, workload.Int8);
        foreach (int threadCount in workload.ThreadSweep ? threadCounts : threadCounts[..1])
        {
            var settings = new RunSettings(threadCount, tokenCount, prompt, prefillPrompt, promptText);
            var peers = new List<(string Peer, Func<IPeerRunner> Start)> { (Report.Ours, () => new OursRunner(model, workload, settings)) };
            if (parse.GetValue(oursWithinRun))
            {
                peers.Add((Report.OursWithinRun, () => new OursRunner(model, workload, settings, SpinningMode.WithinRun)));
            }

            if (parse.GetValue(oursBrief))
            {
                peers.Add((Report.OursBrief, () => new OursRunner(model, workload, settings, SpinningMode.Brief)));
            }

            peers.Add((Report.LlamaCpp, () => new LlamaCppRunner(model, workload, settings)));
            string? genAiProfilePrefix = parse.GetValue(genAiProfile) is { } profiles
                ? Path.Combine(Directory.CreateDirectory(profiles.FullName).FullName, $"genai-{workload.Id}-t{threadCount}")
                : null;
            peers.Add((Report.GenAi, () => new GenAiRunner(model, workload, settings, profilePrefix: genAiProfilePrefix)));
            if (!workload.Prefill && workload.Streams > 1)
            {
                peers.Add((Report.GenAiPerStream, () => new GenAiRunner(model, workload, settings, perStream: true)));
            }

            if (workload.Model == Workload.Stories260K && workload.Streams == 1 && (runCBinary ?? runCOpenMpBinary) is not null)
            {
                peers.Add((Report.RunC, () => new RunCRunner(runCBinary, runCOpenMpBinary, storiesFolder, settings, vocabulary)));
            }

            results.Add(await RunRowAsync(workload, settings, peers, roundCount, log, cancellationToken));
        }
    }

    string header = string.Create(CultureInfo.InvariantCulture,
        $"# bench peers, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC\n\n{Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}; " +
        $"{roundCount} round(s) per peer after a warm-up, alternated; {tokenCount} tokens per stream; prompt of {prompt.Length} tokens (prefill rows: {prefillPrompt.Length}).");
    string? note = parse.GetValue(label);
    IReadOnlyList<Sweep.Chart> charts = Sweep.Charts(results, threadCounts[0]);
    string report = Report.Render(results, bandwidth, note is null ? header : header + "\n\n**" + note + "**", ModelFiles.Config100M, charts);
    Console.Out.Write(report);
    string outDir = parse.GetRequiredValue(output).FullName;
    Directory.CreateDirectory(outDir);
    foreach (string plot in Sweep.Write(outDir, charts))
    {
        log.WriteLine($"wrote {plot}");
    }

    await File.WriteAllTextAsync(Path.Combine(outDir, "peers.md"), report, cancellationToken);
    log.WriteLine($"wrote {Path.Combine(outDir, "peers.md")}");
    return 0;
});
return await command.Parse(args).InvokeAsync();

// One row: every peer loads the model at the row's thread count and warms up; then rounds alternate between the peers
// (ours, llama.cpp, GenAI, ours, ...) so that a slow spell of a shared machine falls on all of them. A peer other than
// ours that cannot load, allocate or run the row (say 64 sequences) leaves the rotation with its reason, for the
// table's footnote, and the row goes on without it.
static async Task<RowResult> RunRowAsync(Workload workload, RunSettings settings, List<(string Peer, Func<IPeerRunner> Start)> peers, int rounds, TextWriter log, CancellationToken cancellationToken)
{
    var runners = new List<(string Peer, IPeerRunner Runner)>();
    var failures = new Dictionary<string, string>();
    try
    {
        foreach ((string peer, Func<IPeerRunner> start) in peers)
        {
            IPeerRunner? runner = null;
            try
            {
                runner = start();
                await runner.MeasureAsync(cancellationToken);
                runners.Add((peer, runner));
            }
            catch (Exception e) when (peer != Report.Ours && e is not OperationCanceledException)
            {
                runner?.Dispose();
                failures[peer] = Reason(e);
                log.WriteLine($"{workload.Id} t{settings.Threads} {peer}: {failures[peer]}");
            }
        }

        var agreement = new Dictionary<string, int>();
        if (!workload.Prefill)
        {
            IReadOnlyList<int> ours = runners[0].Runner.LastTokens;
            foreach ((string peer, IPeerRunner runner) in runners.Skip(1))
            {
                agreement[peer] = runner.SharedWith(ours);
            }
        }

        var samples = runners.ToDictionary(r => r.Peer, _ => new List<double>());
        for (int round = 0; round < rounds; round++)
        {
            foreach ((string peer, IPeerRunner runner) in runners.Where(r => !failures.ContainsKey(r.Peer)))
            {
                try
                {
                    double tokensPerSecond = await runner.MeasureAsync(cancellationToken);
                    samples[peer].Add(tokensPerSecond);
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{workload.Id} t{settings.Threads} round {round + 1}/{rounds} {peer}: {tokensPerSecond:F0} tok/s"));
                }
                catch (Exception e) when (peer != Report.Ours && e is not OperationCanceledException)
                {
                    failures[peer] = "round " + (round + 1).ToString(CultureInfo.InvariantCulture) + ": " + Reason(e);
                    samples.Remove(peer);
                    agreement.Remove(peer);
                    log.WriteLine($"{workload.Id} t{settings.Threads} {peer}: {failures[peer]}");
                }
            }
        }

        return new RowResult(workload, settings.Threads, samples, agreement, failures);
    }
    finally
    {
        runners.ForEach(r => r.Runner.Dispose());
    }
}

// A failure's message, one line, for a footnote (the innermost exception says what the native library refused).
static string Reason(Exception e)
{
    Exception inner = e is AggregateException { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerExceptions[0] : e;
    return inner.GetType().Name + ": " + string.Join(' ', inner.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}

// The prefill rows' prompt: BOS and the start of a story, repeated to exactly Workload.PrefillTokens tokens.
static int[] PrefillPrompt(SentencePieceBpeTokenizer vocabulary)
{
    int[] story = vocabulary.Encode(" Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her dog.", addBos: false);
    return [1, .. Enumerable.Repeat(story, (Workload.PrefillTokens / story.Length) + 1).SelectMany(t => t).Take(Workload.PrefillTokens - 1)];
}

static int[] ParsePositive(string text, string option) =>
    [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(part =>
        int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0
            ? value
            : throw new FormatException($"{option}: '{part}' is not a positive whole number."))];
