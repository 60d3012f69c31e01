using System.Diagnostics;
using System.Globalization;
using LlmAspire.Inference;
using LlmAspire.Inference.Engine;

namespace LlmAspire.Cli.Commands;

/// <summary>
/// <c>bench engine --breakdown</c>: where an engine step's time goes — inside ONNX Runtime's <c>Run</c>, around it in the
/// forward pass, or between passes (sampling, emitting, scheduling) — and which operators take the time inside <c>Run</c>.
/// </summary>
internal sealed class StepBreakdown
{
    private long _calls, _decodeCalls, _run, _around, _between;

    /// <summary>Adds one timed run's counters.</summary>
    public void Add(DecoderTimings timings)
    {
        _calls += timings.Calls;
        _decodeCalls += timings.DecodeCalls;
        _run += timings.RunTicks;
        _around += timings.AroundTicks;
        _between += timings.BetweenTicks;
    }

    /// <summary>One line: steps, time per step and the three shares.</summary>
    public void Write(TextWriter output, int streams)
    {
        double total = _run + _around + _between;
        if (_calls == 0 || total <= 0)
        {
            return;
        }

        double perStep = total / _calls * 1000 / Stopwatch.Frequency;
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"  {streams} streams: {_calls} passes ({_decodeCalls} decode), {perStep:F3} ms per pass: inside Run {Share(_run, total)}, around Run {Share(_around, total)}, between passes {Share(_between, total)}"));
    }

    /// <summary>
    /// Loads <paramref name="folder"/> again with ONNX Runtime's profiler on (which slows every operator a little), runs
    /// <paramref name="run"/> once and prints the operator types that took the most kernel time, and how long the calling
    /// thread waited in them for ONNX Runtime's workers. With <paramref name="keepAs"/>, the profile is copied there
    /// (for <c>bench profile</c>).
    /// </summary>
    public static async Task WriteProfileAsync(TextWriter output, string folder, EngineOptions options, Func<LanguageModel, Task<double>> run, string? keepAs = null)
    {
        string directory = Directory.CreateTempSubdirectory("llmaspire-profile-").FullName;
        try
        {
            string path;
            using (LanguageModel profiled = LanguageModel.Load(folder, ExecutionProviderPreference.Cpu, options, listener: null, Path.Combine(directory, "ort")))
            {
                await run(profiled);
                path = profiled.Decoder.EndProfiling();
            }

            OrtProfile profile = OrtProfile.Read(path);
            if (keepAs is not null)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(keepAs))!);
                File.Copy(path, keepAs, overwrite: true);
            }

            double kernels = profile.KernelMicroseconds;
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"  profiled{(keepAs is null ? "" : $" ({keepAs})")}: {profile.Runs} runs, {profile.RunMicroseconds / 1000.0 / Math.Max(1, profile.Runs):F3} ms per run, kernels {Share(kernels, profile.RunMicroseconds)} of it; by operator:"));
            foreach (OrtProfile.Operator op in profile.Operators.Take(8))
            {
                output.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"    {op.Type,-32} {Share(op.Microseconds, kernels),6} of kernel time, {op.Microseconds / (double)op.Calls:F1} us per call, {op.Calls / Math.Max(1, profile.Runs)} per run, waiting {op.WaitMicroseconds / (double)op.Calls:F1} us for workers"));
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string Share(double part, double total) =>
        (part / total).ToString("P1", CultureInfo.InvariantCulture);
}
