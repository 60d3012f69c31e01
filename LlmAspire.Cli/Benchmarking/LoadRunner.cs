using System.Diagnostics;

namespace LlmAspire.Cli.Benchmarking;

/// <summary>Runs one workload against a server in a given load shape and measures every request.</summary>
public static class LoadRunner
{
    /// <summary>
    /// Sends every prompt at its scheduled time (bounded by the concurrency limit, which a request waits for before its
    /// clock starts, as vLLM's limited request function), waits for all to finish, and returns the outcomes in prompt
    /// order with the run's duration in seconds (first send → last completion). <paramref name="progress"/> gets the count of finished requests.
    /// </summary>
    public static async Task<(IReadOnlyList<RequestOutcome> Outcomes, double DurationSeconds)> RunAsync(
        OpenAiStreamClient client, IReadOnlyList<BenchPrompt> prompts, LoadShape shape, IProgress<int>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(shape);
        double[] offsets = ArrivalSchedule.Offsets(prompts.Count, shape.RequestRate, shape.Burstiness, shape.Seed);
        using var limit = shape.MaxConcurrency is { } max ? new SemaphoreSlim(max, max) : null;
        var tasks = new Task<RequestOutcome>[prompts.Count];
        int finished = 0;
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < prompts.Count; i++)
        {
            TimeSpan wait = TimeSpan.FromSeconds(offsets[i]) - Stopwatch.GetElapsedTime(start);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }

            BenchPrompt prompt = prompts[i];
            tasks[i] = Task.Run(
                async () =>
                {
                    if (limit is not null)
                    {
                        await limit.WaitAsync(cancellationToken);
                    }

                    try
                    {
                        return await client.SendAsync(prompt, start, cancellationToken);
                    }
                    finally
                    {
                        limit?.Release();
                        progress?.Report(Interlocked.Increment(ref finished));
                    }
                },
                cancellationToken);
        }

        RequestOutcome[] outcomes = await Task.WhenAll(tasks);
        return (outcomes, Math.Max(Stopwatch.GetElapsedTime(start).TotalSeconds, 1e-9));
    }
}
