using System.Diagnostics;
using System.Globalization;
using System.Text;
using LlmAspire.Inference.Tokenization;

namespace LlmAspire.Bench.Peers;

/// <summary>
/// llama2.c's <c>run.c</c>, built by the user (its code stays out of this repository), on stories260K: one process per
/// run, <c>run stories260K.bin -z tok512.bin -t 0 -n steps -i prompt</c>, greedy, with <c>OMP_NUM_THREADS</c> set to
/// the row's threads (only an OpenMP build uses more than one). The cell is the <c>achieved tok/s:</c> that run.c
/// prints on stderr: its forward passes after the first (the prompt's, fed one token a pass, included) over its own
/// millisecond clock started after that first pass, so process start, loading and the first pass are outside it.
/// </summary>
internal sealed class RunCRunner : IPeerRunner
{
    private const string Marker = "achieved tok/s:";
    private readonly string _binary;
    private readonly string _checkpoint;
    private readonly string _tokenizer;
    private readonly RunSettings _settings;
    private readonly SentencePieceBpeTokenizer _vocabulary;
    private byte[] _lastOutput = [];

    /// <param name="binary">A plain build (<c>run</c>) for one thread; null when none was given.</param>
    /// <param name="openMpBinary">An OpenMP build (<c>runomp</c>), used for more than one thread, and for one when there is no plain build.</param>
    /// <param name="storiesFolder">The folder with stories260K.bin and tok512.bin.</param>
    /// <param name="settings">The row's settings.</param>
    /// <param name="vocabulary">tok512, to compare the text run.c prints with our greedy tokens.</param>
    public RunCRunner(string? binary, string? openMpBinary, string storiesFolder, RunSettings settings, SentencePieceBpeTokenizer vocabulary)
    {
        _binary = (settings.Threads == 1 ? binary ?? openMpBinary : openMpBinary)
            ?? throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"{settings.Threads} threads need an OpenMP build of run.c (--runc-omp); --runc is a single-threaded one."));
        _checkpoint = Path.Combine(storiesFolder, "stories260K.bin");
        _tokenizer = Path.Combine(storiesFolder, "tok512.bin");
        _settings = settings;
        _vocabulary = vocabulary;
    }

    /// <summary>Always empty: run.c prints text, not ids; <see cref="SharedWith"/> compares text instead.</summary>
    public IReadOnlyList<int> LastTokens => [];

    public async Task<double> MeasureAsync(CancellationToken cancellationToken)
    {
        // run.c forwards BOS at position 0 and the prompt's other tokens one a pass, each pass giving the next token:
        // steps = prompt (BOS included) − 1 + the tokens to generate.
        int steps = _settings.Prompt.Length - 1 + _settings.Tokens;
        var start = new ProcessStartInfo(_binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { _checkpoint, "-z", _tokenizer, "-t", "0", "-n", steps.ToString(CultureInfo.InvariantCulture), "-i", _settings.PromptText })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["OMP_NUM_THREADS"] = _settings.Threads.ToString(CultureInfo.InvariantCulture);
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {_binary}.");
        using var stdout = new MemoryStream();
        Task copy = process.StandardOutput.BaseStream.CopyToAsync(stdout, cancellationToken);
        Task<string> stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        await copy;
        string errors = await stderr;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"run.c exited with {process.ExitCode}: {errors.Trim()}"));
        }

        _lastOutput = stdout.ToArray();
        return ParseTokensPerSecond(errors);
    }

    /// <summary>Leading tokens of <paramref name="ours"/> whose text run.c printed after the prompt, in order.</summary>
    public int SharedWith(IReadOnlyList<int> ours)
    {
        byte[] prompt = Encoding.UTF8.GetBytes(_settings.PromptText);
        if (!_lastOutput.AsSpan().StartsWith(prompt))
        {
            return 0;
        }

        ReadOnlySpan<byte> generated = _lastOutput.AsSpan(prompt.Length);
        int offset = 0, count = 0;
        foreach (int id in ours)
        {
            ReadOnlySpan<byte> piece = _vocabulary.TokenBytes(id);
            if (!generated[offset..].StartsWith(piece))
            {
                break;
            }

            offset += piece.Length;
            count++;
        }

        return count;
    }

    public void Dispose()
    {
    }

    /// <summary>The number after <c>achieved tok/s:</c> in run.c's stderr.</summary>
    internal static double ParseTokensPerSecond(string stderr)
    {
        int at = stderr.LastIndexOf(Marker, StringComparison.Ordinal);
        string? number = at < 0 ? null : stderr[(at + Marker.Length)..].Split('\n', 2)[0].Trim();
        if (number is null || !double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double tokensPerSecond))
        {
            throw new InvalidOperationException($"run.c printed no \"{Marker}\" line (it prints one only after two or more passes).");
        }

        if (double.IsInfinity(tokensPerSecond) || tokensPerSecond <= 0)
        {
            throw new InvalidOperationException($"run.c's millisecond clock saw no time pass ({Marker} {number}); give it more --tokens.");
        }

        return tokensPerSecond;
    }
}
